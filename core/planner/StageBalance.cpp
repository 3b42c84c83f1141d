#include "core/planner/StageBalance.h"

#include "core/planner/TimeModel.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"
#include "core/spec/StageLayers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace meshwork {

namespace {

double virtualStageSeconds(const StageCost& c, int64_t layers, int v, int stages)
{
    return double(layers) * c.perLayer + (v == 0 ? c.embedding : 0) + (v == stages - 1 ? c.head : 0);
}

std::string ms(double s)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", s * 1e3);
    return buf;
}

} // namespace

std::vector<int> balancedStageLayers(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan,
                                     Target target, bool flash)
{
    const int stages = std::max(plan.pp, 1) * std::max(plan.vpp, 1);
    if (plan.pp <= 1 || model.layers < stages) return {};
    const StageCost c = stageCost(model, cluster, plan, target, flash);
    std::vector<int> layers(size_t(stages), 1);
    for (int64_t left = model.layers - stages; left > 0; --left) {
        int best = 0;
        double bestTime = 0;
        for (int v = 0; v < stages; ++v) {
            const double t = virtualStageSeconds(c, layers[size_t(v)] + 1, v, stages);
            if (v == 0 || t < bestTime) { best = v; bestTime = t; }
        }
        ++layers[size_t(best)];
    }
    return layers;
}

double slowestStageSeconds(const ModelSpec& model, const StageCost& cost, const Plan& plan)
{
    const int stages = std::max(plan.pp, 1) * std::max(plan.vpp, 1);
    double slowest = 0;
    for (int v = 0; v < stages; ++v)
        slowest = std::max(slowest, virtualStageSeconds(cost, layersOfVirtualStage(plan, model.layers, v), v, stages));
    return slowest;
}

std::optional<std::string> stageBalanceHint(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan,
                                            Target target, bool flash)
{
    Plan balanced = plan;
    balanced.stageLayers = balancedStageLayers(model, cluster, plan, target, flash);
    if (balanced.stageLayers.empty() || balanced.stageLayers == plan.stageLayers) return std::nullopt;
    const StageCost c = stageCost(model, cluster, plan, target, flash);
    const double now = slowestStageSeconds(model, c, plan), then = slowestStageSeconds(model, c, balanced);
    if (!(now > 0) || then > 0.95 * now) return std::nullopt;
    const int stages = plan.pp * std::max(plan.vpp, 1);
    double fastest = now;
    for (int v = 0; v < stages; ++v)
        fastest = std::min(fastest, virtualStageSeconds(c, layersOfVirtualStage(plan, model.layers, v), v, stages));
    const int longer = int(std::lround(100 * (now / fastest - 1)));
    const int faster = int(std::lround(100 * (1 - then / now)));
    return "pipeline stages are uneven: the slowest takes " + std::to_string(longer)
         + "% longer per micro-batch than the fastest (" + ms(now) + " ms against " + ms(fastest)
         + " ms; the last also runs the output head and the loss); stage-layers "
         + formatStageLayers(balanced.stageLayers) + " makes the slowest " + std::to_string(faster) + "% faster ("
         + ms(then) + " ms)";
}

} // namespace meshwork
