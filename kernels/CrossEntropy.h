// The cross-entropy of rows of logits and its gradient (cross_entropy.cu), with their CPU
// reference. TransformerModel's loss takes them on CUDA (core/train/Loss.h).
#pragma once

#include <ATen/core/Tensor.h>

namespace meshwork::kernels {

// Whether the kernels run these logits: a CUDA build, a CUDA tensor, bf16, fp16 or fp32, two
// dimensions.
bool crossEntropyKernelRuns(const at::Tensor& logits);

// logits [N, V], targets [N] (int64, each in [0, V)): rowLoss [N] and lse [N] (fp32) get each
// row's log sum exp(logits) - logits[target] and log sum exp(logits). Throws
// std::runtime_error naming the fault for inputs the kernel does not take.
void crossEntropyForward(const at::Tensor& logits, const at::Tensor& targets, at::Tensor& rowLoss, at::Tensor& lse);
// dlogits (like logits) = (softmax - onehot(target)) x gradOut x scale, gradOut a one-element
// fp32 tensor on the logits' device (read by the kernel: no host sync).
at::Tensor crossEntropyBackward(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse,
                                const at::Tensor& gradOut, double scale);

// The same with ATen ops in fp32 on any device: what the kernels are checked against.
void crossEntropyForwardReference(const at::Tensor& logits, const at::Tensor& targets, at::Tensor& rowLoss,
                                  at::Tensor& lse);
at::Tensor crossEntropyBackwardReference(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse,
                                         const at::Tensor& gradOut, double scale);

} // namespace meshwork::kernels
