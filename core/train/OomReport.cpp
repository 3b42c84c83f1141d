#include "core/train/OomReport.h"

#include "core/planner/Estimate.h"
#include "core/train/Device.h"
#include "core/train/PlannerPrediction.h"
#include "core/train/TrainOptions.h"

namespace meshwork {

Json outOfMemoryDetails(const TrainConfig& config, int worldSize, c10::Device device)
{
    Json details = Json::object();
    details.set("allocator", allocatorFigures(device));
    const ClusterSpec cluster = localCluster(device, worldSize).cluster;
    const Estimate e = estimate(config.model, cluster, config.plan, Target::Meshwork);
    Json predicted = estimateToJson(e);
    Json out = Json::object();
    if (const Json* memory = predicted.find("memory")) out = *memory;
    out.set("gpu", cluster.gpu.id).set("fits", e.memory.fits());
    details.set("planner_estimate", out);
    return details;
}

} // namespace meshwork
