// The cross-entropy of rows of logits and its gradient in one pass (cross_entropy.cu), with its
// CPU reference. TransformerModel's loss takes it on CUDA (core/train/Loss.h).
#pragma once

#include <ATen/core/Tensor.h>

namespace meshwork::kernels {

// Whether crossEntropyForwardBackward runs these logits: a CUDA build, a CUDA tensor, bf16, fp16
// or fp32, two dimensions.
bool crossEntropyKernelRuns(const at::Tensor& logits);

// logits [N, V], targets [N] (int64, each in [0, V)): rowLoss [N] (fp32) gets each row's
// log sum exp(logits) - logits[target], dlogits (like logits) scale x (softmax - onehot(target)).
// The kernel on CUDA (throws TrainError-free std::runtime_error naming the fault for other
// inputs); scale is 1 / N for the mean.
void crossEntropyForwardBackward(const at::Tensor& logits, const at::Tensor& targets, double scale, at::Tensor& rowLoss,
                                 at::Tensor& dlogits);

// The same with ATen ops in fp32 on any device: what the kernel is checked against.
void crossEntropyForwardBackwardReference(const at::Tensor& logits, const at::Tensor& targets, double scale,
                                          at::Tensor& rowLoss, at::Tensor& dlogits);

} // namespace meshwork::kernels
