// DeepSpeed: a script that writes ds_config.json and launches train.py with it.
// Keys as in deepspeed/runtime/config.py and zero/offload_config.py; "ratio" (partial optimizer
// offload) needs DeepSpeed 0.14 or later and is written only when the plan asks for it.
#include "core/planner/ExportWriters.h"
#include "core/spec/StageLayers.h"

#include "core/json/Json.h"

namespace meshwork::export_detail {

namespace {

Json offloadDevice(double ratio)
{
    Json o = Json::object();
    o.set("device", "cpu").set("pin_memory", true);
    // Partial offload ("Twin-Flow", DeepSpeed >= 0.14): the share of states updated on the CPU.
    if (ratio < 1.0) o.set("ratio", ratio);
    return o;
}

} // namespace

std::string writeDeepSpeed(const ExportInput& in)
{
    const Plan& p = in.plan;
    const ClusterSpec& c = in.cluster;
    const auto s = [](int64_t v) { return std::to_string(v); };
    std::vector<std::string> notes;

    // DeepSpeed checks train_batch_size = micro x accumulation x data-parallel ranks; with
    // Megatron-DeepSpeed providing tp/pp, its data-parallel ranks are the plan's dp.
    Json cfg = Json::object();
    cfg.set("train_batch_size", p.effectiveGlobalBatch());
    cfg.set("train_micro_batch_size_per_gpu", p.microBatch);
    cfg.set("gradient_accumulation_steps", p.microBatches());
    cfg.set("steps_per_print", 10);

    Json bf16 = Json::object();
    bf16.set("enabled", p.precision == Precision::Bf16);
    cfg.set("bf16", bf16);
    Json fp16 = Json::object();
    fp16.set("enabled", p.precision == Precision::Fp16);
    if (p.precision == Precision::Fp16) {
        // Dynamic loss scaling (loss_scale 0), starting at 2^16.
        fp16.set("loss_scale", 0).set("initial_scale_power", 16).set("loss_scale_window", 1000);
        fp16.set("hysteresis", 2).set("min_loss_scale", 1);
    }
    cfg.set("fp16", fp16);
    // The type of the gradient all-reduce / reduce-scatter. Unset, DeepSpeed reduces in the
    // training precision (bf16 or fp16: DeepSpeedEngine.communication_data_type); the plan's
    // grad-reduce says fp32 or bf16, so it is always written.
    cfg.set("communication_data_type", p.gradReduce == Precision::Bf16 ? "bf16" : "fp32");

    Json zero = Json::object();
    zero.set("stage", p.zero);
    if (p.zero >= 1) zero.set("overlap_comm", true).set("contiguous_gradients", true);
    if (p.offload == Offload::Optimizer || p.offload == Offload::OptimizerParams)
        zero.set("offload_optimizer", offloadDevice(p.offloadFraction));
    if (p.offload == Offload::OptimizerParams) {
        Json param = Json::object();
        param.set("device", "cpu").set("pin_memory", true);
        zero.set("offload_param", param);
        if (p.offloadFraction < 1.0)
            notes.push_back("offloading part of the parameters (offload_param moves all of them; "
                            "the offload fraction applies to the optimizer states only)");
    }
    cfg.set("zero_optimization", zero);

    // The learning rate is not part of the plan: a placeholder to replace.
    Json params = Json::object();
    params.set("lr", 3e-4).set("weight_decay", 0.1);
    Json opt = Json::object();
    switch (p.optimizer) {
    case Optimizer::AdamW: opt.set("type", "AdamW"); break;
    case Optimizer::Lamb: opt.set("type", "Lamb"); break;
    case Optimizer::Sgd: opt.set("type", "SGD"); params = Json::object(); params.set("lr", 3e-4); break;
    case Optimizer::Lars: break;
    }
    if (p.optimizer == Optimizer::Lars) {
        notes.push_back("the LARS optimizer (DeepSpeed has none: no optimizer section is written, pass your "
                        "own to deepspeed.initialize)");
    } else {
        opt.set("params", params);
        cfg.set("optimizer", opt);
    }
    if (p.optimizer == Optimizer::Lamb && p.zero >= 1) {
        // ZeRO runs LAMB on gradient shards, so the trust ratio is per shard, not per layer.
        cfg.set("zero_allow_untested_optimizer", true);
        notes.push_back("LAMB's per-layer trust ratio under ZeRO (each rank computes it on its shard)");
    }
    cfg.set("gradient_clipping", 1.0);
    if (p.offload != Offload::None && p.optimizer != Optimizer::AdamW)
        notes.push_back(std::string("the ") + toString(p.optimizer) + " optimizer on the CPU (offload_optimizer "
                        "steps DeepSpeedCPUAdam: Adam/AdamW only)");

    if (p.tp > 1 || p.pp > 1) {
        std::string what, flags;
        if (p.tp > 1) { what = "tp " + s(p.tp); flags = " --tensor-model-parallel-size " + s(p.tp); }
        if (p.pp > 1) {
            what += (what.empty() ? "" : " and ") + std::string("pp ") + s(p.pp);
            flags += " --pipeline-model-parallel-size " + s(p.pp);
        }
        notes.push_back(what + " (tensor and pipeline parallelism need Megatron-DeepSpeed:" + flags + ")");
    }
    if (p.pp > 1 && p.zero >= 2)
        notes.push_back("zero " + s(p.zero) + " with pipeline parallelism (DeepSpeed's pipeline engine allows zero 0 or 1)");
    if (p.vpp > 1) notes.push_back("vpp " + s(p.vpp) + " (DeepSpeed's pipeline has no interleaved schedule)");
    if (p.pp > 1 && !p.stageLayers.empty())
        notes.push_back("stage-layers " + formatStageLayers(p.stageLayers)
                        + " (Megatron-DeepSpeed splits the layers evenly over the pipeline stages)");
    if (p.sp) notes.push_back("sp (Megatron sequence parallelism: Megatron-DeepSpeed --sequence-parallel)");
    if (p.cp > 1)
        notes.push_back("cp " + s(p.cp) + " (DeepSpeed-Ulysses splits the sequence instead: Megatron-DeepSpeed "
                        "--ds-sequence-parallel-size " + s(p.cp) + ")");
    if (p.recompute == Recompute::Full)
        notes.push_back("recompute full in the config (wrap each block of train.py's model in "
                        "deepspeed.checkpointing.checkpoint)");
    if (p.recompute == Recompute::Selective)
        notes.push_back("recompute selective (attention-only recomputation is Megatron's; use flash attention, "
                        "which keeps no attention scores)");
    if (p.order != "tp-cp-dp-pp") notes.push_back("rank order " + p.order);

    std::string out = "#!/bin/bash\n";
    out += header(in, "DeepSpeed", "# ");
    out += "# train.py is yours: it calls deepspeed.initialize(args=args, model=model, model_parameters=...)\n"
           "# with the model built from the dimensions above. The learning rate in the config is a placeholder.\n";
    out += notesBlock(notes, "DeepSpeed", "# ");
    out += "set -euo pipefail\n\n";
    out += "cat > ds_config.json <<'EOF'\n" + cfg.dump(2) + "\nEOF\n\n";
    if (c.nodes > 1)
        out += "# hostfile: one line per node, e.g. \"node0 slots=" + s(c.gpusPerNode) + "\".\n";
    out += "deepspeed --num_nodes " + s(c.nodes) + " --num_gpus " + s(c.gpusPerNode)
        + (c.nodes > 1 ? " --hostfile hostfile" : "") + " train.py --deepspeed --deepspeed_config ds_config.json \"$@\"\n";
    return out;
}

} // namespace meshwork::export_detail
