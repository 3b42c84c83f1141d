#include "core/planner/Estimate.h"
#include "core/planner/EstimateCore.h"

#include "core/planner/DataParallelCost.h"
#include "core/planner/MemoryModel.h"
#include "core/planner/StageBalance.h"
#include "core/planner/TimeModel.h"
#include "core/planner/TrainerSupport.h"
#include "core/spec/Flops.h"

#include <algorithm>
#include <cstdio>

namespace meshwork {

namespace {

std::string gib(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

// Degrees below 1 are reported by Plan::validate; the models compute with them clamped to 1
// so that an invalid plan still gets every term that makes sense.
Plan computable(const Plan& p)
{
    Plan c = p;
    c.dp = std::max(c.dp, 1);
    c.tp = std::max(c.tp, 1);
    c.pp = std::max(c.pp, 1);
    c.vpp = std::max(c.vpp, 1);
    c.cp = std::max(c.cp, 1);
    c.microBatch = std::max<int64_t>(c.microBatch, 1);
    c.seq = std::max<int64_t>(c.seq, 1);
    c.zero = std::clamp(c.zero, 0, 3);
    return c;
}

bool modelComputable(const ModelSpec& m)
{
    return m.layers > 0 && m.hidden > 0 && m.heads > 0 && m.kvHeads > 0 && m.ffn > 0 && m.vocab > 0;
}

void addMemoryErrors(const MemoryEstimate& mem, std::vector<std::string>& errors)
{
    int over = 0;
    for (const StageMemory& s : mem.stages) over += s.total > mem.capacityGiB ? 1 : 0;
    if (over == 0) return;
    const std::string cap = gib(mem.capacityGiB);
    const std::string hint = " (lower the micro-batch, raise zero, recompute, or add tp/pp)";
    if (over <= 4) {
        for (const StageMemory& s : mem.stages)
            if (s.total > mem.capacityGiB)
                errors.push_back("memory: stage " + std::to_string(s.stage) + " needs " + gib(s.total)
                                 + " GiB, over the GPU's " + cap + " GiB" + hint);
    } else {
        const StageMemory& s = mem.stages[size_t(mem.fullestStage)];
        errors.push_back("memory: " + std::to_string(over) + " of " + std::to_string(mem.stages.size())
                         + " stages are over the GPU's " + cap + " GiB; stage " + std::to_string(s.stage)
                         + " needs " + gib(s.total) + " GiB" + hint);
    }
}

} // namespace

double Estimate::hoursToTrain(double tokens) const
{
    return throughput.tokensPerS > 0 ? tokens / throughput.tokensPerS / 3600.0 : 0;
}

double Estimate::costToTrain(double tokens, const ClusterSpec& c) const
{
    return hoursToTrain(tokens) * c.worldSize() * c.pricePerGpuHour;
}

bool usesFlashAttention(Target target, const EstimateOptions& options)
{
    switch (options.attention) {
    case AttentionKernel::Flash: return true;
    case AttentionKernel::Materialized: return false;
    case AttentionKernel::Default: break;
    }
    return target == Target::Meshwork;
}

Estimate estimate(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target)
{
    return estimate(model, cluster, plan, target, EstimateOptions{});
}

Estimate estimate(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target,
                  const EstimateOptions& options)
{
    Estimate e;
    e.errors = model.validate();
    for (std::string& s : plan.validate(model, &cluster)) e.errors.push_back(std::move(s));
    const bool flash = usesFlashAttention(target, options);
    computeEstimate(model, cluster, plan, target, flash, e);
    // A pipeline whose stages take unequal time: the split that evens them (StageBalance.h).
    // Here and not in computeEstimate: the search's tens of thousands of plans would pay for
    // a second pass over the stage costs each (3 x its time on bench_planner's megatron row).
    if (e.valid && plan.pp > 1)
        if (auto hint = stageBalanceHint(model, cluster, plan, target, flash)) e.warnings.push_back(std::move(*hint));
    // Likewise the accumulation that would hide data parallelism's reduction (DataParallelCost.h).
    if (e.valid && plan.dp > 1)
        if (auto hint = dataParallelHint(model, cluster, plan, target, flash)) e.warnings.push_back(std::move(*hint));
    return e;
}

void computeEstimate(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target, bool flash,
                     Estimate& e)
{
    if (!modelComputable(model) || cluster.gpu.memoryGiB <= 0) {
        e.valid = false;
        return;
    }
    e.flashAttention = flash;
    const Plan p = computable(plan);
    e.flopsPerToken = trainingFlopsPerToken(model, p.seq);
    e.memory = memoryEstimate(model, cluster, p, target, flash);
    addMemoryErrors(e.memory, e.errors);
    e.time = timeEstimate(model, cluster, p, target, flash, &e.warnings);
    if (e.time.step > 0) {
        const double world = std::max(p.worldSize(), 1);
        e.throughput.tokensPerS = double(p.effectiveGlobalBatch()) * double(p.seq) / e.time.step;
        e.throughput.tflopsPerGpu = e.flopsPerToken * e.throughput.tokensPerS / world / 1e12;
        e.throughput.hardwareTflopsPerGpu =
            hardwareFlopsPerToken(model, p.seq, p.recompute) * e.throughput.tokensPerS / world / 1e12;
        const double peak = cluster.gpu.peakTflops(p.precision);
        e.throughput.mfu = peak > 0 ? e.throughput.tflopsPerGpu / peak : 0;
    }
    // Our trainer refuses what it cannot run yet with these same messages (TrainerSupport.h).
    if (target == Target::Meshwork)
        for (std::string& s : unsupportedParallelism(plan)) e.errors.push_back(std::move(s));
    if (target == Target::Meshwork && p.zero == 2 && p.dp * p.cp > 1 && !partitionsGradients(p))
        e.warnings.push_back("meshwork-train's ZeRO-2 under pipeline parallelism reduces each gradient bucket to "
                             "the rank whose shard holds it but keeps the whole fp32 gradient buffer: it needs the "
                             "memory of ZeRO-1 (with pp = 1 it shards the gradients)");
    e.valid = e.errors.empty();
}

} // namespace meshwork
