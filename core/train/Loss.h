// The training loss: the mean cross-entropy of logits [N, V] against targets [N], its softmax in
// fp32 whatever the logits' type (as llm.c and nanoGPT compute it).
#pragma once

#include <ATen/core/Tensor.h>

namespace meshwork {

// On CUDA one kernel computes the loss and its gradient together (kernels/CrossEntropy.h) and
// keeps only the gradient, in the logits' type, for the backward: 2 x the logits' bytes at the
// peak against 12 bytes a logit for ATen's cross-entropy on an fp32 copy, which the CPU and any
// other device take.
at::Tensor crossEntropy(const at::Tensor& logits, const at::Tensor& targets);

// Whether crossEntropy runs the fused kernel for these logits.
bool crossEntropyFused(const at::Tensor& logits);

} // namespace meshwork
