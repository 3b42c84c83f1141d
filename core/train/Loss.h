// The training loss: the mean cross-entropy of logits [N, V] against targets [N], its softmax in
// fp32 whatever the logits' type (as llm.c and nanoGPT compute it).
#pragma once

#include <ATen/core/Tensor.h>

namespace meshwork {

// On CUDA two kernels (kernels/CrossEntropy.h) read the logits once each, forward and backward,
// and keep only the logits and a float a row in between: 2 x the logits' bytes at the peak (the
// logits and their gradient) against 12 bytes a logit for ATen's cross-entropy on an fp32 copy,
// which the CPU and any other device take.
at::Tensor crossEntropy(const at::Tensor& logits, const at::Tensor& targets);

// Whether crossEntropy runs the fused kernel for these logits.
bool crossEntropyFused(const at::Tensor& logits);

} // namespace meshwork
