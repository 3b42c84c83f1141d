// Colossal-AI: Python that builds the model, the Booster plugin for the plan and the optimizer.
// Plugin arguments as in colossalai/booster/plugin/hybrid_parallel_plugin.py and
// gemini_plugin.py (Colossal-AI 0.4).
#include "core/planner/ExportWriters.h"

#include <optional>

namespace meshwork::export_detail {

namespace {

const char* pyBool(bool b) { return b ? "True" : "False"; }

class Kwargs {
public:
    void add(const std::string& key, const std::string& value) { m_lines += "    " + key + "=" + value + ",\n"; }
    void add(const std::string& key, int64_t value) { add(key, std::to_string(value)); }
    void add(const std::string& key, bool value) { add(key, std::string(pyBool(value))); }
    void add(const std::string& key, const char* value) { add(key, std::string(value)); }
    const std::string& text() const { return m_lines; }

private:
    std::string m_lines;
};

// The Hugging Face class whose architecture matches the model, and its config. Shardformer
// has tensor/pipeline policies for these (GPT-2, LLaMA, Qwen2).
struct HfModel {
    std::string configClass, modelClass, configArgs;
};

std::optional<HfModel> hfModel(const ModelSpec& m)
{
    Kwargs k;
    if (m.ffnKind == FfnKind::Gelu && m.normKind == NormKind::LayerNorm && m.positionKind == PositionKind::Learned
        && m.bias && m.kvHeads == m.heads) {
        k.add("vocab_size", m.vocab);
        k.add("n_positions", m.maxSeq);
        k.add("n_embd", m.hidden);
        k.add("n_layer", m.layers);
        k.add("n_head", m.heads);
        k.add("n_inner", m.ffn);
        k.add("layer_norm_epsilon", floatLiteral(m.normEps));
        k.add("tie_word_embeddings", m.tiedEmbeddings);
        return HfModel{"GPT2Config", "GPT2LMHeadModel", k.text()};
    }
    if (m.ffnKind == FfnKind::SwiGlu && m.normKind == NormKind::RmsNorm && m.positionKind == PositionKind::Rope
        && !m.bias) {
        k.add("vocab_size", m.vocab);
        k.add("hidden_size", m.hidden);
        k.add("intermediate_size", m.ffn);
        k.add("num_hidden_layers", m.layers);
        k.add("num_attention_heads", m.heads);
        k.add("num_key_value_heads", m.kvHeads);
        k.add("max_position_embeddings", m.maxSeq);
        k.add("rms_norm_eps", floatLiteral(m.normEps));
        k.add("rope_theta", floatLiteral(m.ropeTheta));
        k.add("tie_word_embeddings", m.tiedEmbeddings);
        if (m.qkvBias) return HfModel{"Qwen2Config", "Qwen2ForCausalLM", k.text()};
        k.add("attention_bias", false);
        return HfModel{"LlamaConfig", "LlamaForCausalLM", k.text()};
    }
    return std::nullopt;
}

} // namespace

std::string writeColossalAI(const ExportInput& in)
{
    const ModelSpec& m = in.model;
    const Plan& p = in.plan;
    const ClusterSpec& c = in.cluster;
    const auto s = [](int64_t v) { return std::to_string(v); };
    std::vector<std::string> notes;

    const char* precision = p.precision == Precision::Bf16 ? "\"bf16\"" : p.precision == Precision::Fp16 ? "\"fp16\"" : "\"fp32\"";
    // ZeRO-3 is Gemini's (chunked parameter sharding with placement across GPU and CPU);
    // HybridParallelPlugin shards only optimizer states (1) and gradients (2).
    const bool gemini = p.zero == 3;
    std::string pluginClass = gemini ? "GeminiPlugin" : "HybridParallelPlugin";
    Kwargs k;
    // DDP (zero 0) and Gemini reduce gradients in the parameters' type, with no setting.
    bool gradReduceInParamType = false;
    if (gemini) {
        k.add("precision", precision);
        k.add("placement_policy", "\"static\"");
        // Gemini moves parameters to the CPU only when all optimizer states are there.
        const bool params = p.offload == Offload::OptimizerParams;
        const double optimFrac = p.offload == Offload::None ? 0.0 : params ? 1.0 : p.offloadFraction;
        k.add("offload_optim_frac", floatLiteral(optimFrac));
        k.add("offload_param_frac", floatLiteral(params ? p.offloadFraction : 0.0));
        k.add("pin_memory", p.offload != Offload::None);
        k.add("tp_size", static_cast<int64_t>(p.tp));
        if (p.sp) k.add("enable_sequence_parallelism", true);
        if (p.pp > 1) notes.push_back("pp " + s(p.pp) + " with zero 3 (GeminiPlugin has no pipeline; use zero 1 "
                                      "with HybridParallelPlugin)");
        if (p.dp > 1) gradReduceInParamType = true;
        if (p.cp > 1) notes.push_back("cp " + s(p.cp) + " with zero 3 (GeminiPlugin has no ring attention)");
    } else {
        k.add("tp_size", static_cast<int64_t>(p.tp));
        k.add("pp_size", static_cast<int64_t>(p.pp));
        // Context parallelism is Colossal-AI's ring attention over sp_size ranks; Megatron-style
        // sequence parallelism ("split_gather") reuses the tensor-parallel group.
        std::string mode = "None";
        if (p.cp > 1) mode = "\"ring_attn\"";
        else if (p.sp) mode = "\"split_gather\"";
        k.add("sp_size", static_cast<int64_t>(p.cp));
        k.add("enable_sequence_parallelism", p.cp > 1 || p.sp);
        k.add("sequence_parallelism_mode", mode);
        if (p.cp > 1 && p.sp)
            notes.push_back("sp together with cp " + s(p.cp) + " (one sequence_parallelism_mode at a time: "
                            "ring_attn is written)");
        int zeroStage = p.zero;
        if (p.pp > 1 && zeroStage > 1) {
            notes.push_back("zero 2 with pp " + s(p.pp) + " (HybridParallelPlugin allows zero 0 or 1 with a "
                            "pipeline: zero_stage=1 is written)");
            zeroStage = 1;
        }
        k.add("zero_stage", static_cast<int64_t>(zeroStage));
        // ZeRO's LowLevelZeroOptimizer reduces in the parameters' type (bf16/fp16 under mixed
        // precision) unless communication_dtype says otherwise: the plan's grad-reduce, written.
        if (zeroStage >= 1)
            k.add("communication_dtype", p.gradReduce == Precision::Bf16 ? "torch.bfloat16" : "torch.float32");
        else if (p.dp > 1)
            gradReduceInParamType = true;
        if (p.pp > 1) {
            k.add("microbatch_size", p.microBatch);
            k.add("num_microbatches", p.microBatches());
            k.add("pp_style", p.vpp > 1 ? "\"interleaved\"" : "\"1f1b\"");
            k.add("num_model_chunks", static_cast<int64_t>(p.vpp));
            if (!p.stageLayers.empty()) {
                // Layers of each stage (each model chunk, in the order the layers run).
                std::string list;
                for (int l : p.stageLayers) list += (list.empty() ? "" : ", ") + std::to_string(l);
                k.add("num_layers_per_stage", "[" + list + "]");
            }
        }
        k.add("precision", precision);
        k.add("cpu_offload", p.offload != Offload::None);
        if (p.offload == Offload::OptimizerParams)
            notes.push_back("offload of parameters (cpu_offload moves optimizer states; zero 3 with GeminiPlugin moves parameters)");
        if (p.offload != Offload::None && p.offloadFraction < 1.0)
            notes.push_back("offload-fraction " + number(p.offloadFraction) + " (ZeRO cpu_offload is all or nothing)");
        // Colossal-AI's mesh with dp_outside=False is (pp, dp, sp, tp), outermost first: the
        // plan's default tp-cp-dp-pp. dp_outside=True is (dp, pp, sp, tp): tp-cp-pp-dp.
        const bool dpOutside = p.order == "tp-cp-pp-dp";
        k.add("dp_outside", dpOutside);
        if (p.order != "tp-cp-dp-pp" && !dpOutside)
            notes.push_back("rank order " + p.order + " (Colossal-AI lays ranks out as tp-cp-dp-pp or tp-cp-pp-dp)");
    }
    if (gradReduceInParamType && p.gradReduce != p.precision)
        notes.push_back("grad-reduce " + std::string(toString(p.gradReduce)) + " with " + toString(p.precision) + " and zero "
                        + s(p.zero) + " (" + (gemini ? "GeminiPlugin" : "DDP") + " reduces gradients in the parameters' type, "
                        + toString(p.precision) + "; communication_dtype applies to zero 1 and 2)");
    // Flash attention keeps no attention scores: what selective recomputation saves in Megatron.
    k.add("enable_flash_attention", true);
    if (p.recompute == Recompute::Selective)
        notes.push_back("recompute selective (flash attention, enabled, already keeps no attention scores)");

    // Gemini steps only its own Adam (HybridAdam/CPUAdam over chunks): other optimizers fall back.
    Optimizer optimizer = p.optimizer;
    if (gemini && optimizer != Optimizer::AdamW) {
        notes.push_back(std::string("the ") + toString(p.optimizer) + " optimizer with ZeRO-3 (GeminiPlugin steps "
                        "HybridAdam only: HybridAdam is written)");
        optimizer = Optimizer::AdamW;
    }
    std::string optimizerImport, optimizerCtor;
    switch (optimizer) {
    case Optimizer::AdamW:
        optimizerImport = "from colossalai.nn.optimizer import HybridAdam";
        // HybridAdam runs its step on the GPU or, for offloaded states, on the CPU.
        optimizerCtor = "HybridAdam(model.parameters(), lr=LR, weight_decay=0.1, adamw_mode=True)";
        break;
    case Optimizer::Lamb:
        optimizerImport = "from colossalai.nn.optimizer import Lamb";
        optimizerCtor = "Lamb(model.parameters(), lr=LR, weight_decay=0.1)";
        if (p.zero >= 1 || p.tp > 1)
            notes.push_back("LAMB's per-layer trust ratio on sharded tensors (Lamb sees shards; "
                            "colossalai.nn.optimizer.DistributedLamb computes it on whole tensors)");
        break;
    case Optimizer::Lars:
        optimizerImport = "from colossalai.nn.optimizer import Lars";
        optimizerCtor = "Lars(model.parameters(), lr=LR, weight_decay=0.1)";
        break;
    case Optimizer::Sgd:
        optimizerImport = "from torch.optim import SGD";
        optimizerCtor = "SGD(model.parameters(), lr=LR, momentum=0.9)";
        break;
    }

    const auto hf = hfModel(m);
    if (!hf)
        notes.push_back("the model architecture (" + std::string(toString(m.ffnKind)) + ", " + toString(m.normKind) + ", "
                        + toString(m.positionKind) + (m.bias ? ", biases" : ", no biases")
                        + ": no Hugging Face class with a Shardformer policy matches; build it yourself)");

    std::string out;
    out += header(in, "Colossal-AI", "# ");
    out += "# Launch: colossalai run --nproc_per_node " + s(c.gpusPerNode)
        + (c.nodes > 1 ? " --hostfile hostfile" : "") + " train.py   (" + s(c.nodes)
        + (c.nodes == 1 ? " node" : " nodes, listed in hostfile") + ")\n";
    out += "# Not part of the plan: data and learning rate (LR below is a placeholder).\n";
    out += notesBlock(notes, "Colossal-AI", "# ");
    out += "import colossalai\nimport torch\n";
    out += "from colossalai.accelerator import get_accelerator\n";
    out += "from colossalai.booster import Booster\n";
    out += "from colossalai.booster.plugin import " + pluginClass + "\n";
    out += "from colossalai.lazy import LazyInitContext\n";
    out += optimizerImport + "\n";
    if (hf) out += "from transformers import " + hf->configClass + ", " + hf->modelClass + "\n";
    out += "\nLR = 3e-4\n";
    out += "GLOBAL_BATCH = " + s(p.effectiveGlobalBatch()) + "  # sequences per optimizer step\n";
    out += "MICRO_BATCH = " + s(p.microBatch) + "  # sequences per micro-batch per data-parallel rank\n";
    out += "MICRO_BATCHES = " + s(p.microBatches()) + "  # per step per data-parallel rank\n";
    out += "SEQ = " + s(p.seq) + "\n\n";
    out += "colossalai.launch_from_torch()\n\n";
    out += "plugin = " + pluginClass + "(\n" + k.text() + ")\n";
    out += "booster = Booster(plugin=plugin)\n\n";
    out += "# Parameters are materialised only after sharding (no full copy on any GPU).\n";
    out += "with LazyInitContext(default_device=get_accelerator().get_current_device()):\n";
    if (hf) {
        out += "    config = " + hf->configClass + "(\n";
        // Re-indent the keyword arguments one level deeper.
        std::string args = hf->configArgs, indented;
        size_t pos = 0;
        while (pos < args.size()) {
            size_t nl = args.find('\n', pos);
            indented += "    " + args.substr(pos, nl - pos) + "\n";
            pos = nl + 1;
        }
        out += indented + "    )\n";
        out += "    model = " + hf->modelClass + "(config)\n";
    } else {
        out += "    model = None  # build the model here\n";
        out += "    raise NotImplementedError(\"no Hugging Face architecture matches " + m.name + "\")\n";
    }
    if (p.recompute == Recompute::Full) out += "model.gradient_checkpointing_enable()  # recompute full\n";
    out += "optimizer = " + optimizerCtor + "\n";
    out += "model, optimizer, _, _, _ = booster.boost(model, optimizer)\n\n";
    out += "\ndef train_step(batches):\n";
    if (!gemini && p.pp > 1) {
        out += "    \"\"\"One optimizer step; next(batches) is this data-parallel rank's share of the step,\n"
               "    a dict of input_ids/labels of MICRO_BATCH x MICRO_BATCHES sequences of SEQ tokens.\"\"\"\n";
        out += "    # The pipeline schedule runs all micro-batches of the step.\n";
        out += "    out = booster.execute_pipeline(batches, model, lambda outputs, inputs: outputs.loss,\n"
               "                                   optimizer, return_loss=True)\n";
        out += "    optimizer.step()\n    optimizer.zero_grad()\n    return out[\"loss\"]\n";
    } else {
        out += "    \"\"\"One optimizer step; batches yields MICRO_BATCHES dicts of input_ids/labels of\n"
               "    MICRO_BATCH sequences of SEQ tokens for this data-parallel rank.\"\"\"\n";
        out += "    total = 0.0\n";
        out += "    for batch in batches:\n";
        out += "        loss = model(**batch).loss / MICRO_BATCHES\n";
        out += "        booster.backward(loss, optimizer)\n";
        out += "        total += loss.item()\n";
        out += "    optimizer.step()\n    optimizer.zero_grad()\n    return total\n";
    }
    return out;
}

} // namespace meshwork::export_detail
