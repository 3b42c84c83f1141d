// torchtitan: a job TOML for `torchrun -m torchtitan.train --job.config_file`.
// Keys as in torchtitan/config/job_config.py of torchtitan 0.2 (checked against 0.2.2's
// JobConfig dataclasses); 0.3 replaced job TOMLs with Python config registries.
#include "core/planner/ExportWriters.h"
#include "core/spec/StageLayers.h"

#include <optional>

namespace meshwork::export_detail {

namespace {

std::string tomlString(const std::string& s)
{
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    return out + "\"";
}

// torchtitan sizes the LLaMA MLP from dim: hidden = int(8 * dim / 3), times
// ffn_dim_multiplier when given, rounded up to a multiple of multiple_of
// (torchtitan/models/llama3/model/model.py, FeedForward).
int64_t torchtitanFfn(int64_t dim, std::optional<double> multiplier, int64_t multipleOf)
{
    int64_t hidden = 2 * 4 * dim / 3;
    if (multiplier) hidden = static_cast<int64_t>(*multiplier * static_cast<double>(hidden));
    return multipleOf * ((hidden + multipleOf - 1) / multipleOf);
}

// torchtitan's published llama3 flavors (torchtitan/models/llama3/__init__.py). A model is
// one of them when every dimension agrees, whatever it is called here.
struct Flavor {
    const char* name;
    int64_t dim, layers, heads, kvHeads;
    double multiplier;
    int64_t multipleOf;
    double ropeTheta;
    int64_t vocab;
};
const Flavor kLlama3Flavors[] = {
    {"8B", 4096, 32, 32, 8, 1.3, 1024, 500000, 128256},
    {"70B", 8192, 80, 64, 8, 1.3, 4096, 500000, 128256},
    {"405B", 16384, 126, 128, 8, 1.2, 4096, 500000, 128256},
};

const Flavor* matchingFlavor(const ModelSpec& m)
{
    for (const auto& f : kLlama3Flavors)
        if (m.hidden == f.dim && m.layers == f.layers && m.heads == f.heads && m.kvHeads == f.kvHeads
            && m.vocab == f.vocab && m.ropeTheta == f.ropeTheta && !m.tiedEmbeddings
            && m.ffn == torchtitanFfn(f.dim, f.multiplier, f.multipleOf))
            return &f;
    return nullptr;
}

} // namespace

std::string writeTorchtitan(const ExportInput& in)
{
    const ModelSpec& m = in.model;
    const Plan& p = in.plan;
    const ClusterSpec& c = in.cluster;
    const auto s = [](int64_t v) { return std::to_string(v); };
    std::vector<std::string> notes;

    const bool llamaShaped = m.ffnKind == FfnKind::SwiGlu && m.normKind == NormKind::RmsNorm
        && m.positionKind == PositionKind::Rope && !m.bias && !m.qkvBias;
    const Flavor* flavor = llamaShaped ? matchingFlavor(m) : nullptr;
    std::string flavorName = flavor ? flavor->name : "meshwork-" + m.name;
    std::string registration;
    if (!llamaShaped) {
        notes.push_back("the model architecture (torchtitan's llama3 is SwiGLU, RMSNorm, RoPE, no biases; this model is "
                        + std::string(toString(m.ffnKind)) + ", " + toString(m.normKind) + ", " + toString(m.positionKind)
                        + (m.bias || m.qkvBias ? ", with biases" : "") + ")");
    } else if (!flavor) {
        // A flavor with these dimensions: multiple_of = ffn makes torchtitan's rounding land on
        // exactly ffn whenever int(8 * dim / 3) x multiplier is in (0, ffn].
        const int64_t base = 2 * 4 * m.hidden / 3;
        std::string multiplier = "None";
        if (base > m.ffn) multiplier = floatLiteral(static_cast<double>(m.ffn) / static_cast<double>(base));
        registration = "# This model is no published torchtitan flavor: register it first, in\n"
                       "# torchtitan/models/llama3/__init__.py:\n"
                       "#   llama3_configs[" + tomlString(flavorName) + "] = TransformerModelArgs(\n"
                       "#       dim=" + s(m.hidden) + ", n_layers=" + s(m.layers) + ", n_heads=" + s(m.heads)
            + ", n_kv_heads=" + s(m.kvHeads) + ", vocab_size=" + s(m.vocab) + ",\n"
                       "#       ffn_dim_multiplier=" + multiplier + ", multiple_of=" + s(m.ffn)
            + ", norm_eps=" + floatLiteral(m.normEps) + ", rope_theta=" + floatLiteral(m.ropeTheta) + ",\n"
                       "#       max_seq_len=" + s(m.maxSeq) + ")\n";
        if (m.tiedEmbeddings) notes.push_back("tied embeddings (torchtitan's llama3 has a separate output layer)");
    }

    // Data parallelism: ZeRO-3 is FSDP (parameters resharded after forward); ZeRO-1/2 is FSDP
    // that keeps parameters gathered between forward and backward; no ZeRO is DDP.
    const int dpShard = p.zero >= 1 ? p.dp : 1;
    const int dpReplicate = p.zero >= 1 ? 1 : p.dp;
    std::string reshard = p.zero == 3 ? "always" : "never";
    if (p.zero == 1) notes.push_back("zero 1 alone (FSDP also shards gradients: ZeRO-2 is written)");

    std::string precisionParam = "\"bfloat16\"";
    if (p.precision == Precision::Fp32) precisionParam = "\"float32\"";
    if (p.precision == Precision::Fp16) notes.push_back("fp16 (torchtitan trains in bf16 or fp32: bfloat16 is written)");

    // FSDP's MixedPrecisionPolicy.reduce_dtype: the type of the gradient reduce-scatter.
    std::string reduceParam = "\"float32\"";
    if (p.gradReduce == Precision::Bf16) {
        reduceParam = "\"bfloat16\"";
        notes.push_back("grad-reduce bf16 in a 0.2 job file (torchtitan 0.2 types mixed_precision_reduce as \"float32\" "
                        "only; \"bfloat16\" is written, which torchtitan accepts since pytorch/torchtitan#4597)");
        if (p.dp > 1 && dpShard == 1)
            notes.push_back("grad-reduce bf16 with zero 0 (mixed_precision_reduce applies to FSDP, "
                            "data_parallel_shard_degree > 1; zero 0 is written as DDP)");
    }

    bool cpuOffload = false;
    if (p.offload == Offload::OptimizerParams) {
        cpuOffload = true; // FSDP2 CPUOffloadPolicy: parameters, gradients and optimizer step on the CPU
        if (p.offloadFraction < 1.0)
            notes.push_back("offload-fraction " + number(p.offloadFraction) + " (FSDP offloads everything or nothing)");
    } else if (p.offload == Offload::Optimizer) {
        notes.push_back("offload of optimizer states alone (FSDP's enable_cpu_offload moves parameters too)");
    }

    std::string optimizerName = "\"AdamW\"";
    if (p.optimizer != Optimizer::AdamW)
        notes.push_back(std::string("the ") + toString(p.optimizer) + " optimizer (torchtitan offers Adam and AdamW: AdamW is written)");
    if (!p.sp && p.tp > 1)
        notes.push_back("tp without sp (torchtitan's tensor parallelism always shards norms along the sequence)");
    if (p.order != "tp-cp-dp-pp")
        notes.push_back("rank order " + p.order + " (torchtitan's mesh is pp, dp_replicate, dp_shard, cp, tp: tp-cp-dp-pp)");

    std::string out;
    out += header(in, "torchtitan", "# ");
    out += "# Launch on every node: torchrun --nnodes " + s(c.nodes) + " --nproc_per_node " + s(c.gpusPerNode)
        + " --rdzv_backend c10d --rdzv_endpoint \"$MASTER_ADDR:29500\" -m torchtitan.train --job.config_file job.toml\n";
    out += "# A torchtitan 0.2 job file (0.3 takes Python configs: give these keys as --<section>.<key> flags).\n";
    out += "# Not part of the plan: dataset, tokenizer, steps and learning rate (placeholders below).\n";
    out += notesBlock(notes, "torchtitan", "# ");
    out += registration;
    out += "\n[job]\n";
    out += "description = " + tomlString(m.name + ": " + s(p.dp) + " dp x " + s(p.tp) + " tp x " + s(p.pp) + " pp x "
                                         + s(p.cp) + " cp (Meshwork plan)") + "\n";
    out += "\n[model]\n";
    out += "name = \"llama3\"\n";
    out += "flavor = " + tomlString(flavorName) + "\n";
    out += "\n[optimizer]\n";
    out += "name = " + optimizerName + "\n";
    out += "lr = 3e-4\n";
    out += "\n[training]\n";
    // local_batch_size is per data-parallel rank; the pipeline splits it into micro-batches,
    // otherwise torchtitan accumulates gradients over global / (local x dp) steps.
    const int64_t local = p.pp > 1 ? localBatch(in) : p.microBatch;
    out += "local_batch_size = " + s(local) + "\n";
    out += "global_batch_size = " + s(p.effectiveGlobalBatch()) + "\n";
    out += "seq_len = " + s(p.seq) + "\n";
    out += "mixed_precision_param = " + precisionParam + "\n";
    out += "mixed_precision_reduce = " + reduceParam + "\n";
    out += std::string("enable_cpu_offload = ") + (cpuOffload ? "true" : "false") + "\n";
    out += "steps = 1000\n";
    out += "\n[parallelism]\n";
    out += "data_parallel_replicate_degree = " + s(dpReplicate) + "\n";
    out += "data_parallel_shard_degree = " + s(dpShard) + "\n";
    out += "fsdp_reshard_after_forward = " + tomlString(reshard) + "\n";
    out += "tensor_parallel_degree = " + s(p.tp) + "\n";
    out += "pipeline_parallel_degree = " + s(p.pp) + "\n";
    if (p.pp > 1) {
        out += "pipeline_parallel_schedule = " + std::string(p.vpp > 1 ? "\"Interleaved1F1B\"" : "\"1F1B\"") + "\n";
        out += "pipeline_parallel_microbatch_size = " + s(p.microBatch) + "\n";
        // The plan's stages exactly: pp x vpp model chunks of the plan's layers (stage-layers,
        // or L / (pp x vpp) each), the embedding on the first and the final norm and output
        // layer on the last.
        const int chunks = p.pp * p.vpp;
        out += "module_fqns_per_model_part = [\n";
        for (int i = 0; i < chunks; ++i) {
            std::string part;
            if (i == 0) part += "\"tok_embeddings\", ";
            const int64_t first = firstLayerOfVirtualStage(p, in.model.layers, i);
            for (int64_t l = first; l < first + layersOfVirtualStage(p, in.model.layers, i); ++l)
                part += "\"layers." + s(l) + "\", ";
            if (i == chunks - 1) part += "\"norm\", \"output\", ";
            part.resize(part.size() - 2);
            out += "    [" + part + "],\n";
        }
        out += "]\n";
    }
    out += "context_parallel_degree = " + s(p.cp) + "\n";
    out += "\n[activation_checkpoint]\n";
    out += "mode = " + tomlString(toString(p.recompute)) + "\n";
    if (p.recompute == Recompute::Selective) out += "selective_ac_option = \"op\"\n";
    return out;
}

} // namespace meshwork::export_detail
