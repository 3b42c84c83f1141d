// A parameter as autocast casts it for a matmul, with its gradient added into the parameter's
// fp32 gradient buffer by one kernel: Megatron's gradient-accumulation fusion, done beside the
// GEMM rather than in it.
//
// Autocast's own cast leaves two nodes in the backward pass: the half gradient cast to fp32
// (reads 2 bytes an element, writes 4) and AccumulateGrad's add into the buffer (reads 8,
// writes 4): 18 bytes an element every micro-batch. Here the half gradient is added into the
// buffer in place (reads 6, writes 4) and AccumulateGrad gets no gradient: the sums are the
// same to the bit (the half value is exact in fp32; a parameter read twice, as a tied
// embedding is by the lookup and the head, adds its two parts one after the other where
// AccumulateGrad adds their sum, a rounding apart), and AccumulateGrad's post hooks
// (GradientSync's) still run, after the add. Where the parameter has no fp32 gradient buffer
// (ZeRO-2's partitioned gradients before their first micro-batch, a recomputed block's
// detached inputs) its gradient goes on to AccumulateGrad as autocast's would.
// The add happens when the backward reaches the cast, where AccumulateGrad waits for every use
// of the parameter: a caller whose buffers become valid later (ZeRO-3 makes a tied embedding's
// live when the embedding's own unit starts its backward, after the head's) keeps autocast's
// cast.
#pragma once

#include <ATen/Tensor.h>

namespace meshwork {

// w cast to the autocast type where autocast is on for w's device, w is fp32 and requires a
// gradient under grad mode; w itself otherwise (autocast then does what it would have).
at::Tensor autocastWeight(const at::Tensor& w);

// at::linear(x, w, b) with w and b (if defined) cast through autocastWeight where `fuse`; as
// autocast casts them otherwise.
at::Tensor linearCastingWeights(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, bool fuse);

// Whether the models cast through autocastWeight: yes unless MESHWORK_UNFUSED_GRAD_ACCUM=1
// (autocast's cast everywhere, to compare the two on a GPU as MESHWORK_UNFUSED_ADAMW does for
// the optimizer). The models read it when they are built.
bool gradAccumulationFusionEnabled();

} // namespace meshwork
