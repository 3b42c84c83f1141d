#include "core/planner/DataParallelCost.h"

#include "core/planner/TimeModel.h"
#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"

#include <algorithm>
#include <cstdio>

namespace meshwork {

namespace {

constexpr double kHintAbove = 0.05; // hinted past this share of the step
constexpr double kHintTarget = 0.03; // the accumulation named brings it under this
constexpr int64_t kMostMicroBatches = 64;

std::string percent(double share)
{
    const double p = 100 * share;
    char buf[32];
    std::snprintf(buf, sizeof buf, p < 1 ? "%.1f%%" : "%.0f%%", p);
    return buf;
}

} // namespace

double dataParallelCost(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target,
                        bool flash)
{
    if (plan.dp <= 1) return 0;
    Plan one = plan;
    one.dp = 1;
    one.globalBatch = plan.effectiveGlobalBatch() / plan.dp;
    const double with = timeEstimate(model, cluster, plan, target, flash).step;
    const double without = timeEstimate(model, cluster, one, target, flash).step;
    return with > 0 && without > 0 ? std::max(0.0, 1 - without / with) : 0;
}

std::optional<std::string> dataParallelHint(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan,
                                            Target target, bool flash)
{
    // Where the bytes move every micro-batch (ZeRO-2 of a whole model, ZeRO-3), the time model
    // says so and no accumulation brings the cost under the target: nothing is named.
    if (target != Target::Meshwork || plan.dp <= 1) return std::nullopt;
    const double cost = dataParallelCost(model, cluster, plan, target, flash);
    if (cost <= kHintAbove) return std::nullopt;
    const int64_t microBatches = plan.microBatches();
    for (int64_t k = 2; microBatches * k <= kMostMicroBatches; k *= 2) {
        Plan more = plan;
        more.globalBatch = plan.effectiveGlobalBatch() * k;
        const double then = dataParallelCost(model, cluster, more, target, flash);
        if (then >= kHintTarget) continue;
        return "data parallelism costs " + percent(cost) + " of each step against one replica alone (the gradients' "
               "reduction where the backward does not hide it, and the host's work to issue it): it runs once a "
               "step, so " + std::to_string(microBatches * k) + " micro-batches a step (global batch "
               + std::to_string(more.effectiveGlobalBatch()) + ") bring that to " + percent(then);
    }
    return std::nullopt;
}

} // namespace meshwork
