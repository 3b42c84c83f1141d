#include "ui/PlanState.h"

#include "core/json/Json.h"
#include "core/spec/Catalog.h"

namespace meshwork::ui {

bool sameModel(const ModelSpec& a, const ModelSpec& b)
{
    return a.toJson().dump() == b.toJson().dump();
}

bool sameCluster(const ClusterSpec& a, const ClusterSpec& b)
{
    return a.gpu.toJson().dump() == b.gpu.toJson().dump() && a.nodes == b.nodes
        && a.gpusPerNode == b.gpusPerNode && a.intraNodeGBpsOverride == b.intraNodeGBpsOverride
        && a.interNodeGBpsOverride == b.interNodeGBpsOverride && a.pricePerGpuHour == b.pricePerGpuHour;
}

bool PlanState::operator==(const PlanState& o) const
{
    return plan == o.plan && sameCluster(cluster, o.cluster) && sameModel(model, o.model);
}

PlanState examplePlanState()
{
    PlanState s;
    if (auto m = findModel("gpt2-124m")) s.model = *m;
    else if (!modelCatalog().empty()) s.model = modelCatalog().front();
    if (auto g = findGpu("h100-sxm")) s.cluster.gpu = *g;
    else if (!gpuCatalog().empty()) s.cluster.gpu = gpuCatalog().front();
    s.cluster.nodes = 1;
    s.cluster.gpusPerNode = 8;
    s.cluster.pricePerGpuHour = 2.5;
    s.plan.dp = 8;
    s.plan.microBatch = 16;
    s.plan.globalBatch = 512;
    s.plan.seq = 1024;
    s.plan.zero = 1;
    return s;
}

Plan fitPlanToCluster(const Plan& plan, const ClusterSpec& oldCluster, const ClusterSpec& newCluster)
{
    Plan p = plan;
    const int others = p.tp * p.pp * p.cp;
    if (others <= 0 || newCluster.worldSize() == oldCluster.worldSize()) return p;
    if (p.worldSize() != oldCluster.worldSize()) return p; // it did not fit before: leave it to the user
    if (newCluster.worldSize() % others != 0) return p;
    const int oldDp = p.dp;
    p.dp = newCluster.worldSize() / others;
    // Keep the tokens per step when it still divides; otherwise keep the micro-batches.
    if (p.globalBatch > 0 && p.globalBatch % (p.microBatch * p.dp) != 0)
        p.globalBatch = p.globalBatch / (p.microBatch * oldDp) * p.microBatch * p.dp;
    if (p.globalBatch <= 0) p.globalBatch = p.microBatch * p.dp;
    return p;
}

} // namespace meshwork::ui
