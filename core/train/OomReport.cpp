#include "core/train/OomReport.h"

#include "core/planner/Estimate.h"
#include "core/spec/Catalog.h"
#include "core/train/Device.h"
#include "core/train/TrainOptions.h"

namespace meshwork {

Json outOfMemoryDetails(const TrainConfig& config, int worldSize, c10::Device device)
{
    Json details = Json::object();
    details.set("allocator", allocatorFigures(device));
    const DeviceInfo info = describeDevice(device);
    ClusterSpec cluster;
    if (info.gpu) {
        cluster.gpu = *info.gpu;
    } else {
        // A card the catalog does not know: memory terms do not depend on the card's speed,
        // so any catalog entry serves, with this card's name and capacity.
        cluster.gpu = gpuCatalog().front();
        cluster.gpu.id = info.name;
        cluster.gpu.name = info.name;
        if (info.memoryGiB > 0) cluster.gpu.memoryGiB = info.memoryGiB;
    }
    cluster.nodes = 1;
    cluster.gpusPerNode = worldSize;
    const Estimate e = estimate(config.model, cluster, config.plan, Target::Meshwork);
    Json predicted = estimateToJson(e);
    Json out = Json::object();
    if (const Json* memory = predicted.find("memory")) out = *memory;
    out.set("gpu", cluster.gpu.id).set("fits", e.memory.fits());
    details.set("planner_estimate", out);
    return details;
}

} // namespace meshwork
