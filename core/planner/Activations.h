// Activation memory: what one transformer layer saves for the backward pass, per GPU and
// micro-batch, and how many micro-batches the pipeline schedule keeps in flight.
#pragma once

#include "core/planner/Estimate.h"

namespace meshwork {

struct ActivationShape {
    double s = 0;   // tokens of the sequence on this GPU (seq / cp)
    double b = 0;   // micro-batch
    double h = 0;   // hidden
    double f = 0;   // FFN inner size
    double kv = 0;  // K/V width (kv heads x head dim)
    double kvSaved = 0; // K/V width our trainer hands SDPA: expanded to every query head under GQA
    double a = 0;   // heads
    double t = 1;   // tensor parallel
    bool sp = false;
    bool swiglu = false;
};
ActivationShape activationShape(const ModelSpec& m, const Plan& plan);

// megatron: Korthikanti et al. 2022 Section 4.1, generalised to GQA and SwiGLU. Per layer,
// 16-bit activations:
//   replicated across TP unless SP (divided by t with SP):
//     2 LayerNorm inputs 4sbh, QKV input 2sbh, MLP input 2sbh, 2 dropout masks 2sbh  = 10 sbh
//   split by TP: Q 2sbh, K and V 2sb*kv each, output-projection input 2sbh,
//     MLP: GeLU input and fc2 input 2sbf each (4sbf; 16 sbh when f = 4h; SwiGLU: gate and up
//     inputs 4sbf + fc2 input 2sbf = 6sbf), attention core: softmax output 2as^2b, dropout
//     mask as^2b, dropout output 2as^2b = 5as^2b
// For a GPT layer (kv = h, f = 4h) this is sbh(34 + 5as/h) (Table 2) and every row of
// Table 2 follows (tests check it against paper::korthikantiLayerActivationBytes).
// Selective recompute drops the 5as^2b term; full recompute keeps the 2sbh layer input.
//
// meshwork: what LibTorch autograd saves in our trainer (core/train/Model.cpp, block()),
// e = bytes of the compute precision, r = 4 (the residual stream x stays fp32 under autocast;
// layer_norm/rms_norm run in fp32):
//   2 norm inputs 2r sbh, their outputs cast to e by autocast for the next linear 2e sbh,
//   SDPA flash attention (no s^2 matrix): q e sbh, k and v e sb*kv each -- e sbh each under
//   GQA, where k and v are expanded to every query head before SDPA --, output o e sbh and
//   logsumexp 4 a s b (fp32), o^T reshaped (a copy) for the output projection e sbh,
//   GELU MLP: fc output and GELU output e sbf each; SwiGLU: the fused gate|up output 2e sbf,
//   silu(gate) and the product e sbf each.
// Selective recompute (the trainer checkpoints the SDPA call) drops o and the logsumexp; full
// recompute keeps the fp32 block input r sbh. Replicated terms divide by t with SP.
// With `flash` (megatron target), the attention core keeps no s x s tensors: the 5as^2b term
// becomes the kernel's fp32 logsumexp, 4asb/t (its output is the 2sbh projection input).
// Without it (meshwork target), SDPA's math path keeps scores and probabilities, 2e as^2b/t,
// in place of the logsumexp.
double layerActivationBytes(Target target, const ActivationShape& x, Precision precision, Recompute recompute,
                            bool flash);

// Micro-batches (counted in whole-stage equivalents: layer-micro-batches / layers on the stage)
// whose activations pipeline rank `stage` holds at its peak.
//   1F1B (PipeDream-Flush, Narayanan et al. 2021 Section 2.2): rank i holds min(pp - i, m).
//   Interleaved with v chunks (Narayanan et al. 2021 Section 2.2.2; Megatron's warm-up of
//   (pp - i - 1) * 2 + (v - 1) * pp chunks plus one in flight), each chunk 1/v of the stage:
//   rank 0 holds pp (1 + (pp - 1)/(pp v)) stage-equivalents, Korthikanti et al. 2022 Section 4.2.3.
double inFlightMicroBatches(int pp, int vpp, int64_t microBatches, int stage);

} // namespace meshwork
