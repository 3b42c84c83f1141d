// Cross-entropy of each row of logits against its target, and the gradient of the mean over the
// rows, in one kernel (llm.c's fused_classifier): a block per row reads the row once for its
// maximum and sum of exponentials together (the online softmax of Milakov & Gimelshein 2018),
// then again, from L2, to write
//     loss[r]     = log sum_v exp(x_v) - x_target
//     dlogits[r]  = (softmax(x) - onehot(target)) * scale        (scale = 1 / rows for the mean)
// in the logits' type. The softmax is computed in fp32 whatever the logits' type, as PyTorch's
// cross-entropy on an fp32 copy of them computes it, without the copy, the log-probabilities
// and their gradient in memory (12 bytes per logit, 2 x the logits' size here).
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

template <typename T>
__global__ void __launch_bounds__(kThreads) crossEntropyForwardBackwardKernel(
    const T* __restrict__ logits, const int64_t* __restrict__ targets, float* __restrict__ rowLoss,
    T* __restrict__ dlogits, int64_t vocab, float scale, bool packed)
{
    const int64_t row = blockIdx.x;
    const T* x = logits + row * vocab;
    T* d = dlogits + row * vocab;
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
    // Block reduction: within each warp by shuffles, then the warps' results through shared memory.
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
    const float lse = lseShared;
    const int64_t target = targets[row];
    if (threadIdx.x == 0) rowLoss[row] = lse - toFloat(x[target]);

    if (packed) {
        const Pack<T>* xp = reinterpret_cast<const Pack<T>*>(x);
        Pack<T>* dp = reinterpret_cast<Pack<T>*>(d);
        for (int64_t i = threadIdx.x; i < vocab / P; i += kThreads) {
            const Pack<T> p = xp[i];
            Pack<T> out;
#pragma unroll
            for (int k = 0; k < P; ++k) {
                const float prob = __expf(toFloat(p.v[k]) - lse);
                out.v[k] = fromFloat<T>((prob - (i * P + k == target ? 1.f : 0.f)) * scale);
            }
            dp[i] = out;
        }
    } else {
        for (int64_t i = threadIdx.x; i < vocab; i += kThreads) {
            const float prob = __expf(toFloat(x[i]) - lse);
            d[i] = fromFloat<T>((prob - (i == target ? 1.f : 0.f)) * scale);
        }
    }
}

template <typename T>
int launch(const void* logits, const int64_t* targets, float* rowLoss, void* dlogits, int64_t rows, int64_t vocab,
           float scale, cudaStream_t stream)
{
    // 16-byte loads when every row starts on a 16-byte boundary.
    const bool packed = vocab % Pack<T>::kSize == 0 && reinterpret_cast<uintptr_t>(logits) % 16 == 0
                        && reinterpret_cast<uintptr_t>(dlogits) % 16 == 0;
    crossEntropyForwardBackwardKernel<T><<<dim3(static_cast<unsigned>(rows)), kThreads, 0, stream>>>(
        static_cast<const T*>(logits), targets, rowLoss, static_cast<T*>(dlogits), vocab, scale, packed);
    return static_cast<int>(cudaGetLastError());
}

} // namespace

int launchCrossEntropyForwardBackward(LogitType type, const void* logits, const int64_t* targets, float* rowLoss,
                                      void* dlogits, int64_t rows, int64_t vocab, float scale, void* stream)
{
    if (rows == 0) return 0;
    auto s = static_cast<cudaStream_t>(stream);
    switch (type) {
    case LogitType::Bf16: return launch<__nv_bfloat16>(logits, targets, rowLoss, dlogits, rows, vocab, scale, s);
    case LogitType::Fp16: return launch<__half>(logits, targets, rowLoss, dlogits, rows, vocab, scale, s);
    case LogitType::Fp32: return launch<float>(logits, targets, rowLoss, dlogits, rows, vocab, scale, s);
    }
    return static_cast<int>(cudaErrorInvalidValue);
}

} // namespace meshwork::kernels
