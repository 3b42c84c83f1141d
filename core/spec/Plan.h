// The parallel layout and training options: the currency between planner, launcher,
// trainer and run store. A value type that validates itself (torchtitan ParallelDims).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshwork {

class Json;
struct ModelSpec;
struct ClusterSpec;

enum class Precision { Bf16, Fp16, Fp32 };
enum class Recompute { None, Selective, Full };
enum class Offload { None, Optimizer, OptimizerParams };
enum class Optimizer { AdamW, Lamb, Lars, Sgd };

const char* toString(Precision p);
const char* toString(Recompute r);
const char* toString(Offload o);
const char* toString(Optimizer o);
std::optional<Precision> parsePrecision(const std::string& s);
std::optional<Recompute> parseRecompute(const std::string& s);
std::optional<Offload> parseOffload(const std::string& s);
std::optional<Optimizer> parseOptimizer(const std::string& s);

struct Plan {
    int dp = 1;                 // data-parallel degree
    int tp = 1;                 // tensor-parallel degree
    int pp = 1;                 // pipeline stages
    int vpp = 1;                // virtual stages per pipeline rank (interleaved 1F1B)
    // Layers of each virtual pipeline stage, pp x vpp values in the order the model's layers
    // run (virtual stage v = chunk c of pipeline rank r when v = c pp + r); empty: L / (pp vpp)
    // each. Megatron's --decoder-first/last-pipeline-num-layers in one list: a last stage
    // that also runs the output head and loss can take fewer layers (StageLayers.h).
    std::vector<int> stageLayers;
    int cp = 1;                 // context-parallel degree (sequence split across ranks)
    bool sp = false;            // Megatron sequence parallelism (needs tp > 1)
    int zero = 0;               // ZeRO stage 0-3 over the data-parallel axis
    Offload offload = Offload::None;
    double offloadFraction = 1.0; // share of the offloaded states kept on the host
    Recompute recompute = Recompute::None;
    int64_t microBatch = 1;     // sequences per micro-batch per data-parallel rank
    int64_t globalBatch = 0;    // sequences per optimizer step; 0: microBatch * dp
    int64_t seq = 1024;         // tokens per sequence
    Precision precision = Precision::Bf16;
    // The type gradients travel in for the data-parallel reduction: fp32, or bf16 to halve the
    // bytes (PyTorch DDP's bf16_compress_hook, FSDP's reduce_dtype, Megatron's
    // --grad-reduce-in-bf16). Gradients and the optimizer stay fp32 either way.
    Precision gradReduce = Precision::Fp32;
    Optimizer optimizer = Optimizer::AdamW;
    std::string order = "tp-cp-dp-pp"; // rank layout, innermost axis first

    int worldSize() const { return dp * tp * pp * cp; }
    int64_t effectiveGlobalBatch() const { return globalBatch > 0 ? globalBatch : microBatch * dp; }
    // Micro-batches per step per data-parallel rank (gradient accumulation steps).
    int64_t microBatches() const;
    int64_t tokensPerStep() const { return effectiveGlobalBatch() * seq; }

    bool tpEnabled() const { return tp > 1; }
    bool ppEnabled() const { return pp > 1; }
    bool dpEnabled() const { return dp > 1; }
    bool cpEnabled() const { return cp > 1; }

    // Checks that need only the plan.
    std::vector<std::string> validate() const;
    // Every violated constraint against a model and (optionally) a cluster, each naming its
    // numbers: world size vs the degrees, heads/KV heads vs TP, layers vs PP x VPP, batch
    // divisibility, sequence vs CP and the model's maximum.
    std::vector<std::string> validate(const ModelSpec& model, const ClusterSpec* cluster) const;

    Json toJson() const;
    static Plan fromJson(const Json& j); // throws SpecError naming the key
    bool operator==(const Plan&) const = default;
};

} // namespace meshwork
