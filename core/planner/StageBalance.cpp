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

// Seconds per micro-batch of pipeline rank r with n layers over all its chunks: the time model's
// pace (TimeModel.cpp takes the slowest rank), the device's or the host's, whichever is longer.
double rankSeconds(const StageCost& c, int64_t layers, int r, int pp)
{
    const double device = double(layers) * c.perLayer + (r == 0 ? c.embedding : 0) + (r == pp - 1 ? c.head : 0);
    const double host = double(layers) * c.hostPerLayer + (r == 0 ? c.hostEmbedding : 0) + (r == pp - 1 ? c.hostHead : 0);
    return std::max(device, host);
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
    const int pp = std::max(plan.pp, 1), vpp = std::max(plan.vpp, 1), stages = pp * vpp;
    if (pp <= 1 || model.layers < stages) return {};
    const StageCost c = stageCost(model, cluster, plan, target, flash);
    // Layers per rank, a layer per chunk at least, then each further layer to the rank that is
    // fastest with it (identical items onto machines with fixed offsets: greedy is optimal).
    std::vector<int64_t> rank(size_t(pp), vpp);
    for (int64_t left = model.layers - stages; left > 0; --left) {
        int best = 0;
        double bestTime = 0;
        for (int r = 0; r < pp; ++r) {
            const double t = rankSeconds(c, rank[size_t(r)] + 1, r, pp);
            if (r == 0 || t < bestTime) { best = r; bestTime = t; }
        }
        ++rank[size_t(best)];
    }
    // A rank's layers over its chunks as evenly as they go, the earlier chunks taking the rest:
    // the last rank's last chunk, which holds the head, the fewest.
    return stageLayersOfRanks(rank, vpp);
}

double slowestStageSeconds(const ModelSpec& model, const StageCost& cost, const Plan& plan)
{
    const int pp = std::max(plan.pp, 1);
    double slowest = 0;
    for (int r = 0; r < pp; ++r)
        slowest = std::max(slowest, rankSeconds(cost, layersOfPipelineRank(plan, model.layers, r), r, pp));
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
    double fastest = now;
    for (int r = 0; r < plan.pp; ++r)
        fastest = std::min(fastest, rankSeconds(c, layersOfPipelineRank(plan, model.layers, r), r, plan.pp));
    const int longer = int(std::lround(100 * (now / fastest - 1)));
    const int faster = int(std::lround(100 * (1 - then / now)));
    return "pipeline stages are uneven: the slowest takes " + std::to_string(longer)
         + "% longer per micro-batch than the fastest (" + ms(now) + " ms against " + ms(fastest)
         + " ms; the last also runs the output head and the loss); stage-layers "
         + formatStageLayers(balanced.stageLayers) + " makes the slowest " + std::to_string(faster) + "% faster ("
         + ms(then) + " ms)";
}

} // namespace meshwork
