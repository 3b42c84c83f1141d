// Megatron-LM: a launch script that runs pretrain_gpt.py through torchrun on every node.
// Flag names as in megatron/training/arguments.py of current Megatron-LM (2025); the CPU
// optimizer offload flags need Megatron-Core 0.11 or later.
#include "core/planner/ExportWriters.h"
#include "core/spec/StageLayers.h"

namespace meshwork::export_detail {

namespace {

class ArgList {
public:
    void add(const std::string& flag, const std::string& value = {}) { m_args.push_back(value.empty() ? flag : flag + " " + value); }
    void add(const std::string& flag, int64_t value) { add(flag, std::to_string(value)); }
    const std::vector<std::string>& items() const { return m_args; }

private:
    std::vector<std::string> m_args;
};

} // namespace

std::string writeMegatron(const ExportInput& in)
{
    const ModelSpec& m = in.model;
    const Plan& p = in.plan;
    const ClusterSpec& c = in.cluster;
    std::vector<std::string> notes;
    ArgList a;

    // --- the model ---
    a.add("--num-layers", m.layers);
    a.add("--hidden-size", m.hidden);
    a.add("--num-attention-heads", m.heads);
    if (m.kvHeads != m.heads) {
        a.add("--group-query-attention");
        a.add("--num-query-groups", m.kvHeads);
    }
    a.add("--ffn-hidden-size", m.ffn);
    if (m.ffnKind == FfnKind::SwiGlu) a.add("--swiglu");
    a.add("--normalization", m.normKind == NormKind::RmsNorm ? "RMSNorm" : "LayerNorm");
    a.add("--norm-epsilon", number(m.normEps));
    if (m.positionKind == PositionKind::Rope) {
        a.add("--position-embedding-type", "rope");
        a.add("--rotary-base", number(m.ropeTheta));
    } else {
        a.add("--position-embedding-type", "learned_absolute");
    }
    if (!m.tiedEmbeddings) a.add("--untie-embeddings-and-output-weights");
    if (!m.bias) a.add("--disable-bias-linear");
    if (m.qkvBias) a.add("--add-qkv-bias");
    // Meshwork's models have no dropout; Megatron's default is 0.1 for both.
    a.add("--attention-dropout", "0.0");
    a.add("--hidden-dropout", "0.0");
    a.add("--seq-length", p.seq);
    a.add("--max-position-embeddings", m.maxSeq);
    // Megatron pads the vocabulary to a multiple of this x tp; Meshwork pads to this alone.
    a.add("--make-vocab-size-divisible-by", 128);

    // --- the parallel layout; dp is what is left: world / (tp x pp x cp) ---
    a.add("--tensor-model-parallel-size", p.tp);
    a.add("--pipeline-model-parallel-size", p.pp);
    if (!p.stageLayers.empty() && p.pp > 1) {
        // Uneven stages: Megatron's layout string, one "|"-separated part per virtual stage
        // (E embedding, t a transformer layer, L the loss), e.g. "Et*8|t*4,L".
        std::string layout;
        for (int v = 0; v < p.pp * p.vpp; ++v) {
            const int64_t n = layersOfVirtualStage(p, m.layers, v);
            layout += std::string(v ? "|" : "E") + (n > 1 ? "t*" + std::to_string(n) : n == 1 ? "t" : "");
        }
        a.add("--pipeline-model-parallel-layout", "\"" + layout + ",L\"");
        if (p.vpp > 1) a.add("--num-virtual-stages-per-pipeline-rank", p.vpp);
    } else if (p.vpp > 1) {
        a.add("--num-layers-per-virtual-pipeline-stage", layersPerChunk(in));
    }
    a.add("--context-parallel-size", p.cp);
    if (p.sp) a.add("--sequence-parallel");
    // Megatron's own order is tp-cp-ep-dp-pp; --use-tp-pp-dp-mapping gives tp-cp-ep-pp-dp.
    if (p.order == "tp-cp-pp-dp") a.add("--use-tp-pp-dp-mapping");
    else if (p.order != "tp-cp-dp-pp")
        notes.push_back("rank order " + p.order + " (Megatron lays ranks out as tp-cp-dp-pp or, with "
                        "--use-tp-pp-dp-mapping, tp-cp-pp-dp)");

    // --- ZeRO and offload ---
    // The distributed optimizer shards optimizer states and fp32 master weights over the
    // data-parallel ranks and reduce-scatters gradients: ZeRO-1/2 (Rajbhandari et al. 2020).
    if (p.zero >= 1) a.add("--use-distributed-optimizer");
    // The planner's time model hides data-parallel collectives behind the backward pass.
    if (p.dp > 1) a.add("--overlap-grad-reduce");
    if (p.dp > 1 && p.zero >= 1) a.add("--overlap-param-gather");
    if (p.zero == 3)
        notes.push_back("zero 3 (parameter sharding; the distributed optimizer shards states and gradients "
                        "only, use Megatron's FSDP options --use-torch-fsdp2 or --use-custom-fsdp instead)");
    if (p.offload != Offload::None) {
        a.add("--optimizer-cpu-offload");
        a.add("--optimizer-offload-fraction", number(p.offloadFraction));
        a.add("--use-precision-aware-optimizer");
        if (p.offload == Offload::OptimizerParams)
            notes.push_back("offload of parameters (only optimizer states and the optimizer step go to the CPU)");
    }

    // --- recomputation ---
    if (p.recompute == Recompute::Selective) {
        a.add("--recompute-granularity", "selective");
    } else if (p.recompute == Recompute::Full) {
        // Every layer's input is kept and the layer re-run in backward (Korthikanti et al. 2022).
        a.add("--recompute-granularity", "full");
        a.add("--recompute-method", "uniform");
        a.add("--recompute-num-layers", 1);
    }

    // --- batch, precision, optimizer ---
    a.add("--micro-batch-size", p.microBatch);
    a.add("--global-batch-size", p.effectiveGlobalBatch());
    if (p.precision == Precision::Bf16) a.add("--bf16");
    else if (p.precision == Precision::Fp16) a.add("--fp16");
    // fp32 is Megatron's default: no flag.
    // Under --bf16 Megatron accumulates and reduces gradients in fp32; --grad-reduce-in-bf16
    // (read only with --bf16) turns both to bf16: its gradient buffer (main_grad) becomes bf16.
    if (p.gradReduce == Precision::Bf16) {
        if (p.precision == Precision::Bf16) {
            a.add("--grad-reduce-in-bf16");
            if (p.microBatches() > 1)
                notes.push_back("fp32 gradient accumulation with a bf16 reduction (--grad-reduce-in-bf16 makes the "
                                "gradient buffer bf16: the " + std::to_string(p.microBatches())
                                + " micro-batches of a step accumulate in bf16)");
        } else {
            notes.push_back(std::string("grad-reduce bf16 with ") + toString(p.precision)
                            + " (Megatron's --grad-reduce-in-bf16 acts only with --bf16)");
        }
    }
    switch (p.optimizer) {
    case Optimizer::AdamW:
        a.add("--optimizer", "adam"); // Megatron's adam decouples weight decay: AdamW
        break;
    case Optimizer::Sgd:
        a.add("--optimizer", "sgd");
        break;
    case Optimizer::Lamb:
    case Optimizer::Lars:
        a.add("--optimizer", "adam");
        notes.push_back(std::string("the ") + (p.optimizer == Optimizer::Lamb ? "LAMB" : "LARS")
                        + " optimizer (Megatron-LM offers adam and sgd; adam is written instead)");
        break;
    }
    if (p.precision == Precision::Fp16 && p.offload != Offload::None)
        notes.push_back("fp16 with the CPU optimizer (use bf16 with --optimizer-cpu-offload)");

    std::string out = "#!/bin/bash\n";
    out += header(in, "Megatron-LM pretrain_gpt.py", "# ");
    out += "# Not part of the plan: add data, tokenizer, learning rate and iterations as arguments to\n"
           "# this script (e.g. --data-path ... --tokenizer-type ... --lr ... --train-iters ...).\n";
    out += notesBlock(notes, "Megatron-LM", "# ");
    if (c.nodes > 1)
        out += "# Run it on each of the " + std::to_string(c.nodes)
            + " nodes with NODE_RANK set (0 on the first) and MASTER_ADDR naming the first node.\n";
    out += "set -euo pipefail\n";
    if (p.tp > 1 || p.cp > 1)
        out += "# Tensor/context-parallel communication overlaps compute only with one hardware queue.\n"
               "export CUDA_DEVICE_MAX_CONNECTIONS=1\n";
    out += "\ntorchrun \\\n";
    out += "    --nnodes " + std::to_string(c.nodes) + " \\\n";
    out += "    --nproc-per-node " + std::to_string(c.gpusPerNode) + " \\\n";
    out += "    --node-rank \"${NODE_RANK:-0}\" \\\n";
    out += "    --master-addr \"${MASTER_ADDR:-localhost}\" \\\n";
    out += "    --master-port \"${MASTER_PORT:-6000}\" \\\n";
    out += "    pretrain_gpt.py \\\n";
    for (const auto& item : a.items()) out += "    " + item + " \\\n";
    out += "    \"$@\"\n";
    return out;
}

} // namespace meshwork::export_detail
