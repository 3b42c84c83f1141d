// The launchers of cross_entropy.cu, in plain C++ (no ATen): CrossEntropy.cpp checks the tensors
// and calls them; nvcc compiles the kernels without LibTorch's headers and flags.
#pragma once

#include <cstdint>

namespace meshwork::kernels {

enum class LogitType { Bf16, Fp16, Fp32 };

// Forward: logits [rows, vocab] row-major, targets [rows] in [0, vocab); writes rowLoss[r] =
// lse[r] - logits[r, target] and lse[r] = log sum_v exp(logits[r, v]) (fp32).
// Backward: dlogits (like logits) = (exp(logits - lse) - onehot(target)) * gradOut[0] * scale,
// gradOut a device float (the loss's incoming gradient: no host sync).
// Each returns the CUDA error of its launch (0: none). stream: a cudaStream_t.
int launchCrossEntropyForward(LogitType type, const void* logits, const int64_t* targets, float* rowLoss, float* lse,
                              int64_t rows, int64_t vocab, void* stream);
int launchCrossEntropyBackward(LogitType type, const void* logits, const int64_t* targets, const float* lse,
                               const float* gradOut, float scale, void* dlogits, int64_t rows, int64_t vocab,
                               void* stream);

} // namespace meshwork::kernels
