// Bytes per parameter of the model states (weights, gradients, optimizer states and master
// weights) for each target, and how ZeRO and offload distribute them.
#pragma once

#include "core/planner/Estimate.h"

namespace meshwork {

struct StateBytes {
    double weights = 0;      // resident parameters (bytes per parameter)
    double autocastCopy = 0; // per use cast of matmul weights (meshwork under bf16/fp16 autocast)
    double gradients = 0;
    double optimizer = 0;    // optimizer states
    double master = 0;       // fp32 master weights kept apart from the weights
    double weightComm = 0;   // bytes per parameter when ZeRO-3 gathers / ZeRO-1/2 re-gathers weights
    double gradComm = 0;     // bytes per gradient element on the wire of the dp reduction
};

// meshwork (our LibTorch trainer): the parameters are fp32 masters (4 B); bf16/fp16 autocast
// casts matmul weights per use (2 B per matmul parameter); gradients fp32 (4 B); AdamW and
// LAMB keep exp_avg and exp_avg_sq (8 B), LARS and SGD one momentum buffer (4 B).
// megatron (Megatron-LM with mixed precision): bf16/fp16 weights (2 B), fp32 gradient
// accumulation buffer (4 B, --accumulate-allreduce-grads-in-fp32), fp32 master (4 B) and
// Adam states (8 B): 18 B/param, the convention of Megatron's distributed optimizer docs
// (6 + 12/dp B with --use-distributed-optimizer). fp32 training drops the master copy.
StateBytes stateBytes(Target target, Precision precision, Optimizer optimizer);
// The same for a plan, whose grad-reduce sets gradComm: the data-parallel all-reduce or
// reduce-scatter carries fp32 gradients (4 B) or, with grad-reduce bf16, bf16 copies of them
// (2 B: PyTorch DDP's bf16_compress_hook, FSDP's reduce_dtype, Megatron's
// --grad-reduce-in-bf16). The parameter all-gathers (weightComm) are unaffected, and so are
// the gradients: our trainer keeps them fp32 (the bf16 copies are transient). Megatron's
// flag would also make its gradient buffer bf16, which the megatron target does not model.
StateBytes stateBytes(Target target, const Plan& plan);

// Memory of the model states of one GPU holding `params` parameters (of which
// `matmulParams` go through matmuls), in bytes, by ZeRO stage and offload.
struct ModelStateMemory {
    double weights = 0;
    double gradients = 0;
    double optimizer = 0;   // states + master, on the device
    double host = 0;        // offloaded to host RAM
    double gatherBuffer = 0; // ZeRO-3: gathered layers in flight (current + prefetched)
};
ModelStateMemory modelStateMemory(const StateBytes& sb, double params, double matmulParams,
                                  double layerParams, double layerMatmulParams, const Plan& plan);

} // namespace meshwork
