// Cross-entropy of each row of logits against its target, and its gradient, in two kernels that
// each read the logits once: the forward a block per row, the maximum and the sum of exponentials
// in one pass (the online softmax of Milakov & Gimelshein 2018), writing
//     loss[r] = lse[r] - x_target,   lse[r] = log sum_v exp(x_v)
// and the backward, from the logits and lse alone,
//     dlogits[r] = (exp(x - lse[r]) - onehot(target)) * g * scale      (g: the loss's gradient)
// in the logits' type. The softmax is in fp32 whatever the logits' type, as PyTorch's
// cross-entropy on an fp32 copy computes it, without the copy, the log-probabilities and their
// gradient in memory (12 bytes a logit there; the logits and their gradient here). g multiplies
// before the gradient is rounded: fp16's loss scale keeps small gradients from flushing to zero
// (llm.c's fused classifier writes the gradient in the forward, for a loss gradient of 1).
#include "kernels/CrossEntropyLaunch.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>

namespace meshwork::kernels {

namespace {

constexpr int kThreads = 512;

__device__ __forceinline__ float toFloat(float v) { return v; }
__device__ __forceinline__ float toFloat(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ float fromFloat<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half fromFloat<__half>(float v) { return __float2half_rn(v); }

// (max, sum of exp(x - max)) of two parts; an empty part is (-inf, 0).
__device__ __forceinline__ void combine(float& m, float& s, float m2, float s2)
{
    if (m2 == -INFINITY) return;
    if (m == -INFINITY) { m = m2; s = s2; return; }
    const float M = fmaxf(m, m2);
    s = s * __expf(m - M) + s2 * __expf(m2 - M);
    m = M;
}

__device__ __forceinline__ void accumulate(float& m, float& s, float v)
{
    if (v > m) {
        s = s * __expf(m - v) + 1.f; // m = -inf, s = 0 at the start: 0 * 0 + 1
        m = v;
    } else {
        s += __expf(v - m);
    }
}

// Eight 16-bit or four fp32 logits: one 16-byte load.
template <typename T> struct alignas(16) Pack {
    static constexpr int kSize = 16 / sizeof(T);
    T v[kSize];
};

// The row's (max, sum of exp) reduced over the block; every thread gets log sum exp.
__device__ __forceinline__ float blockLogSumExp(float m, float s)
{
    for (int off = 16; off > 0; off >>= 1) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
        const float s2 = __shfl_xor_sync(0xffffffffu, s, off);
        combine(m, s, m2, s2);
    }
    __shared__ float warpM[kThreads / 32], warpS[kThreads / 32];
    __shared__ float lseShared;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) { warpM[warp] = m; warpS[warp] = s; }
    __syncthreads();
    if (warp == 0) {
        m = lane < kThreads / 32 ? warpM[lane] : -INFINITY;
        s = lane < kThreads / 32 ? warpS[lane] : 0.f;
        for (int off = 16; off > 0; off >>= 1) {
            const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
            const float s2 = __shfl_xor_sync(0xffffffffu, s, off);
            combine(m, s, m2, s2);
        }
        if (lane == 0) lseShared = m + logf(s);
    }
    __syncthreads();
    return lseShared;
}

template <typename T>
__global__ void __launch_bounds__(kThreads) crossEntropyForwardKernel(const T* __restrict__ logits,
                                                                      const int64_t* __restrict__ targets,
                                                                      float* __restrict__ rowLoss,
                                                                      float* __restrict__ lseOut, int64_t vocab,
                                                                      bool packed)
{
    const int64_t row = blockIdx.x;
    const T* x = logits + row * vocab;
    constexpr int P = Pack<T>::kSize;
    float m = -INFINITY, s = 0.f;
    if (packed) {
        const Pack<T>* xp = reinterpret_cast<const Pack<T>*>(x);
        for (int64_t i = threadIdx.x; i < vocab / P; i += kThreads) {
            const Pack<T> p = xp[i];
#pragma unroll
            for (int k = 0; k < P; ++k) accumulate(m, s, toFloat(p.v[k]));
        }
    } else {
        for (int64_t i = threadIdx.x; i < vocab; i += kThreads) accumulate(m, s, toFloat(x[i]));
    }
    const float lse = blockLogSumExp(m, s);
    if (threadIdx.x == 0) {
        lseOut[row] = lse;
        rowLoss[row] = lse - toFloat(x[targets[row]]);
    }
}

template <typename T>
__global__ void __launch_bounds__(kThreads) crossEntropyBackwardKernel(const T* __restrict__ logits,
                                                                       const int64_t* __restrict__ targets,
                                                                       const float* __restrict__ lseIn,
                                                                       const float* __restrict__ gradOut, float scale,
                                                                       T* __restrict__ dlogits, int64_t vocab,
                                                                       bool packed)
{
    const int64_t row = blockIdx.x;
    const T* x = logits + row * vocab;
    T* d = dlogits + row * vocab;
    const float lse = lseIn[row], g = gradOut[0] * scale;
    const int64_t target = targets[row];
    constexpr int P = Pack<T>::kSize;
    if (packed) {
        const Pack<T>* xp = reinterpret_cast<const Pack<T>*>(x);
        Pack<T>* dp = reinterpret_cast<Pack<T>*>(d);
        for (int64_t i = threadIdx.x; i < vocab / P; i += kThreads) {
            const Pack<T> p = xp[i];
            Pack<T> out;
#pragma unroll
            for (int k = 0; k < P; ++k)
                out.v[k] = fromFloat<T>((__expf(toFloat(p.v[k]) - lse) - (i * P + k == target ? 1.f : 0.f)) * g);
            dp[i] = out;
        }
    } else {
        for (int64_t i = threadIdx.x; i < vocab; i += kThreads)
            d[i] = fromFloat<T>((__expf(toFloat(x[i]) - lse) - (i == target ? 1.f : 0.f)) * g);
    }
}

// 16-byte loads when every row starts on a 16-byte boundary.
template <typename T> bool packable(const void* a, const void* b, int64_t vocab)
{
    return vocab % Pack<T>::kSize == 0 && reinterpret_cast<uintptr_t>(a) % 16 == 0
           && reinterpret_cast<uintptr_t>(b) % 16 == 0;
}

template <typename T>
int forward(const void* logits, const int64_t* targets, float* rowLoss, float* lse, int64_t rows, int64_t vocab,
            cudaStream_t stream)
{
    crossEntropyForwardKernel<T><<<dim3(static_cast<unsigned>(rows)), kThreads, 0, stream>>>(
        static_cast<const T*>(logits), targets, rowLoss, lse, vocab, packable<T>(logits, logits, vocab));
    return static_cast<int>(cudaGetLastError());
}

template <typename T>
int backward(const void* logits, const int64_t* targets, const float* lse, const float* gradOut, float scale,
             void* dlogits, int64_t rows, int64_t vocab, cudaStream_t stream)
{
    crossEntropyBackwardKernel<T><<<dim3(static_cast<unsigned>(rows)), kThreads, 0, stream>>>(
        static_cast<const T*>(logits), targets, lse, gradOut, scale, static_cast<T*>(dlogits), vocab,
        packable<T>(logits, dlogits, vocab));
    return static_cast<int>(cudaGetLastError());
}

} // namespace

int launchCrossEntropyForward(LogitType type, const void* logits, const int64_t* targets, float* rowLoss, float* lse,
                              int64_t rows, int64_t vocab, void* stream)
{
    if (rows == 0) return 0;
    auto s = static_cast<cudaStream_t>(stream);
    switch (type) {
    case LogitType::Bf16: return forward<__nv_bfloat16>(logits, targets, rowLoss, lse, rows, vocab, s);
    case LogitType::Fp16: return forward<__half>(logits, targets, rowLoss, lse, rows, vocab, s);
    case LogitType::Fp32: return forward<float>(logits, targets, rowLoss, lse, rows, vocab, s);
    }
    return static_cast<int>(cudaErrorInvalidValue);
}

int launchCrossEntropyBackward(LogitType type, const void* logits, const int64_t* targets, const float* lse,
                               const float* gradOut, float scale, void* dlogits, int64_t rows, int64_t vocab,
                               void* stream)
{
    if (rows == 0) return 0;
    auto s = static_cast<cudaStream_t>(stream);
    switch (type) {
    case LogitType::Bf16: return backward<__nv_bfloat16>(logits, targets, lse, gradOut, scale, dlogits, rows, vocab, s);
    case LogitType::Fp16: return backward<__half>(logits, targets, lse, gradOut, scale, dlogits, rows, vocab, s);
    case LogitType::Fp32: return backward<float>(logits, targets, lse, gradOut, scale, dlogits, rows, vocab, s);
    }
    return static_cast<int>(cudaErrorInvalidValue);
}

} // namespace meshwork::kernels
