// The planner's answer for one plan: per-GPU, per-stage memory and step time, each term
// shown, plus throughput. (Implementation: MemoryModel.cpp, TimeModel.cpp, Estimate.cpp.)
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"

#include <optional>
#include <string>
#include <vector>

namespace meshwork {

class Json;

// meshwork: our own trainer, whose allocations the memory model mirrors exactly.
// megatron: a generic Megatron-LM-style framework (for exported plans).
enum class Target { Meshwork, Megatron };
const char* toString(Target t);
std::optional<Target> parseTarget(const std::string& s);

// Memory of one GPU of one pipeline stage, in GiB.
struct StageMemory {
    int stage = 0;
    int layers = 0;              // transformer layers on this stage (all virtual chunks)
    double weights = 0;          // parameters as the target keeps them (meshwork: fp32 + autocast copies; megatron: 16-bit)
    double gradients = 0;
    double optimizer = 0;        // optimizer states + fp32 master weights (by ZeRO stage, less offloaded)
    double activations = 0;      // by recomputation, SP/CP and micro-batches in flight
    double logits = 0;           // loss/logits buffer on the last stage
    double buffers = 0;          // communication buffers (NCCL, TP/PP/CP, ZeRO-3 gathered layers, reduce-scatter output)
    double context = 0;          // CUDA context and library handles
    double reserve = 0;          // allocator fragmentation reserve
    double total = 0;
    double host = 0;             // host RAM for offloaded states
    // What the framework's caching allocator hands out at its peak (what
    // torch.cuda.max_memory_allocated and the trainer's mem_peak_gib measure): no CUDA context,
    // no fragmentation reserve.
    double allocated() const { return total - context - reserve; }
};

struct MemoryEstimate {
    std::vector<StageMemory> stages;
    int fullestStage = 0;
    double totalGiB = 0;         // of the fullest GPU
    double capacityGiB = 0;
    double hostGiB = 0;          // per GPU, largest stage
    bool fits() const { return totalGiB <= capacityGiB; }
};

// Seconds per optimizer step, each term shown.
struct TimeEstimate {
    double compute = 0;          // matmul FLOPs at the size-dependent efficiency
    double attention = 0;        // attention core (QK^T, softmax, AV)
    double memoryBound = 0;      // norms, activations, residuals, etc. at HBM bandwidth
    double recompute = 0;        // extra forward work for recomputation
    double tpComm = 0;           // tensor/sequence-parallel collectives on the intra-node link
    double cpComm = 0;           // context-parallel K/V exchange (exposed part)
    double host = 0;             // the GPU waiting for the host to issue kernels (eager, meshwork target)
    double ppComm = 0;           // pipeline point-to-point sends
    double bubble = 0;           // pipeline bubble
    double dpComm = 0;           // exposed data-parallel / ZeRO collectives
    double dpCommTotal = 0;      // the same before overlap with the backward pass
    double optimizer = 0;        // optimizer step (and offload transfers)
    double step = 0;             // the whole step
};

struct Throughput {
    double tokensPerS = 0;       // whole cluster
    double tflopsPerGpu = 0;     // model FLOPs (core/spec/Flops.h), no recomputation counted
    double mfu = 0;              // tflopsPerGpu / peak of the GPU in the plan's precision
    double hardwareTflopsPerGpu = 0; // with the recomputed forward work counted (as Narayanan et al. 2021 report)
};

// How the attention core runs. Flash: FlashAttention-style fused kernel (no s x s matrix kept;
// causal blocks skipped). Materialized: QK^T, softmax and dropout as separate kernels over the
// full s x s scores (Megatron-LM as in Narayanan et al. 2021 and Korthikanti et al. 2022).
// Default: Flash for meshwork (SDPA flash attention), Materialized for megatron (the
// activation memory of Korthikanti et al. 2022).
enum class AttentionKernel { Default, Flash, Materialized };

struct Estimate {
    bool valid = false;
    std::vector<std::string> errors;     // every violated constraint, with its numbers (memory too)
    std::vector<std::string> warnings;   // legal but costly (TP across nodes, ...)
    MemoryEstimate memory;
    TimeEstimate time;
    Throughput throughput;
    double flopsPerToken = 0;
    bool flashAttention = false;         // how the estimate ran the attention core (AttentionKernel)

    double hoursToTrain(double tokens) const;                        // wall-clock hours
    double costToTrain(double tokens, const ClusterSpec& c) const;   // GPU-hours x price
};


struct EstimateOptions {
    AttentionKernel attention = AttentionKernel::Default;
};
bool usesFlashAttention(Target target, const EstimateOptions& options);

Estimate estimate(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan,
                  Target target = Target::Meshwork);
Estimate estimate(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target,
                  const EstimateOptions& options);

// The JSON of `meshwork-cli plan --json`: valid, errors, warnings, memory (per-stage in GiB and
// total_gib of the fullest GPU), time (breakdown and step_s), throughput (tokens_per_s,
// tflops_per_gpu, mfu).
Json estimateToJson(const Estimate& e);

} // namespace meshwork
