#include "kernels/CrossEntropy.h"

#include "kernels/CrossEntropyLaunch.h"

#include <ATen/ATen.h>
#ifdef MESHWORK_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAStream.h>
#endif

#include <stdexcept>
#include <string>

namespace meshwork::kernels {

bool crossEntropyKernelRuns(const at::Tensor& logits)
{
#ifdef MESHWORK_WITH_CUDA_KERNELS
    const auto t = logits.scalar_type();
    return logits.is_cuda() && logits.dim() == 2
           && (t == at::kBFloat16 || t == at::kHalf || t == at::kFloat);
#else
    (void)logits;
    return false;
#endif
}

void crossEntropyForwardBackward(const at::Tensor& logits, const at::Tensor& targets, double scale, at::Tensor& rowLoss,
                                 at::Tensor& dlogits)
{
    if (!crossEntropyKernelRuns(logits))
        throw std::runtime_error("cross-entropy kernel: needs 2-D bf16, fp16 or fp32 logits on a CUDA device of a "
                                 "CUDA build (got " + std::string(logits.toString()) + ")");
    if (targets.dim() != 1 || targets.size(0) != logits.size(0) || targets.scalar_type() != at::kLong
        || targets.device() != logits.device())
        throw std::runtime_error("cross-entropy kernel: targets must be int64 [" + std::to_string(logits.size(0))
                                 + "] on the logits' device");
#ifdef MESHWORK_WITH_CUDA_KERNELS
    const at::Tensor x = logits.contiguous(), t = targets.contiguous();
    rowLoss = at::empty({x.size(0)}, x.options().dtype(at::kFloat));
    dlogits = at::empty_like(x);
    const auto type = x.scalar_type() == at::kBFloat16 ? LogitType::Bf16
                    : x.scalar_type() == at::kHalf     ? LogitType::Fp16
                                                       : LogitType::Fp32;
    const int err = launchCrossEntropyForwardBackward(type, x.data_ptr(), t.data_ptr<int64_t>(), rowLoss.data_ptr<float>(),
                                                      dlogits.data_ptr(), x.size(0), x.size(1), float(scale),
                                                      c10::cuda::getCurrentCUDAStream(x.device().index()).stream());
    if (err != 0) throw std::runtime_error("cross-entropy kernel: launch failed with CUDA error " + std::to_string(err));
#else
    (void)scale;
    (void)rowLoss;
    (void)dlogits;
#endif
}

void crossEntropyForwardBackwardReference(const at::Tensor& logits, const at::Tensor& targets, double scale,
                                          at::Tensor& rowLoss, at::Tensor& dlogits)
{
    const at::Tensor x = logits.to(at::kFloat);
    const at::Tensor lse = at::logsumexp(x, {1});
    rowLoss = lse - x.gather(1, targets.unsqueeze(1)).squeeze(1);
    at::Tensor d = at::exp(x - lse.unsqueeze(1));
    d.scatter_add_(1, targets.unsqueeze(1), at::full({x.size(0), 1}, -1.0, d.options()));
    dlogits = (d * scale).to(logits.scalar_type());
}

} // namespace meshwork::kernels
