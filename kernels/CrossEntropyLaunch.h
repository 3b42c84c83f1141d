// The launcher of cross_entropy.cu, in plain C++ (no ATen): CrossEntropy.cpp checks the tensors
// and calls it; nvcc compiles the kernel without LibTorch's headers and flags.
#pragma once

#include <cstdint>

namespace meshwork::kernels {

enum class LogitType { Bf16, Fp16, Fp32 };

// logits [rows, vocab] row-major, targets [rows] in [0, vocab), rowLoss [rows] (fp32),
// dlogits like logits. Returns the CUDA error of the launch (0: none). stream: a cudaStream_t.
int launchCrossEntropyForwardBackward(LogitType type, const void* logits, const int64_t* targets, float* rowLoss,
                                      void* dlogits, int64_t rows, int64_t vocab, float scale, void* stream);

} // namespace meshwork::kernels
