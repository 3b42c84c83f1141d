#include "core/train/PlannerPrediction.h"

#include "core/planner/Estimate.h"
#include "core/spec/Catalog.h"
#include "core/train/Device.h"
#include "core/train/TrainOptions.h"

#include <algorithm>
#include <exception>

namespace meshwork {

LocalCluster localCluster(c10::Device device, int worldSize)
{
    LocalCluster out;
    const DeviceInfo info = describeDevice(device);
    if (info.gpu) {
        out.cluster.gpu = *info.gpu;
        out.knownCard = true;
    } else {
        out.cluster.gpu = gpuCatalog().front();
        out.cluster.gpu.id = info.name;
        out.cluster.gpu.name = info.name;
        if (info.memoryGiB > 0) out.cluster.gpu.memoryGiB = info.memoryGiB;
    }
    out.cluster.nodes = 1;
    out.cluster.gpusPerNode = std::max(1, worldSize);
    return out;
}

Json plannerPrediction(const TrainConfig& config, int worldSize, int pipelineRank, c10::Device device)
{
    if (!device.is_cuda()) return Json();
    return plannerPrediction(config, localCluster(device, worldSize), pipelineRank);
}

Json plannerPrediction(const TrainConfig& config, const LocalCluster& local, int pipelineRank)
{
    try {
        const Estimate e = estimate(config.model, local.cluster, config.plan, Target::Meshwork);
        if (e.memory.stages.empty()) return Json();
        const size_t stage = std::min<size_t>(static_cast<size_t>(std::max(0, pipelineRank)), e.memory.stages.size() - 1);
        const StageMemory& m = e.memory.stages[stage];
        Json p = Json::object();
        if (local.knownCard) {
            p.set("tokens_per_s", e.throughput.tokensPerS).set("tflops", e.throughput.tflopsPerGpu);
            p.set("mfu", e.throughput.mfu);
        }
        p.set("mem_gib", m.allocated()).set("mem_total_gib", m.total).set("stage", static_cast<int64_t>(stage));
        if (e.memory.stages.size() > 1) {
            Json stages = Json::array();
            for (const StageMemory& s : e.memory.stages) stages.push(s.allocated());
            p.set("mem_stages_gib", stages);
        }
        p.set("gpu", local.cluster.gpu.id).set("source", "planner, target meshwork");
        return p;
    } catch (const std::exception&) {
        return Json(); // a plan the planner cannot estimate has no prediction; the run goes on
    }
}

} // namespace meshwork
