#include "kernels/CrossEntropy.h"

#include "kernels/CrossEntropyLaunch.h"

#include <ATen/ATen.h>
#ifdef MESHWORK_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAStream.h>
#endif

#include <stdexcept>
#include <string>

namespace meshwork::kernels {

namespace {

void checkInputs(const at::Tensor& logits, const at::Tensor& targets)
{
    if (!crossEntropyKernelRuns(logits))
        throw std::runtime_error("cross-entropy kernel: needs 2-D bf16, fp16 or fp32 logits on a CUDA device of a "
                                 "CUDA build (got " + std::string(logits.toString()) + ")");
    if (targets.dim() != 1 || targets.size(0) != logits.size(0) || targets.scalar_type() != at::kLong
        || targets.device() != logits.device())
        throw std::runtime_error("cross-entropy kernel: targets must be int64 [" + std::to_string(logits.size(0))
                                 + "] on the logits' device");
}

#ifdef MESHWORK_WITH_CUDA_KERNELS
LogitType logitType(const at::Tensor& x)
{
    return x.scalar_type() == at::kBFloat16 ? LogitType::Bf16 : x.scalar_type() == at::kHalf ? LogitType::Fp16 : LogitType::Fp32;
}

void* streamOf(const at::Tensor& x) { return c10::cuda::getCurrentCUDAStream(x.device().index()).stream(); }

void checkLaunch(int err, const char* which)
{
    if (err != 0)
        throw std::runtime_error(std::string("cross-entropy kernel: the ") + which + " launch failed with CUDA error "
                                 + std::to_string(err));
}
#endif

} // namespace

bool crossEntropyKernelRuns(const at::Tensor& logits)
{
#ifdef MESHWORK_WITH_CUDA_KERNELS
    const auto t = logits.scalar_type();
    return logits.is_cuda() && logits.dim() == 2 && (t == at::kBFloat16 || t == at::kHalf || t == at::kFloat);
#else
    (void)logits;
    return false;
#endif
}

void crossEntropyForward(const at::Tensor& logits, const at::Tensor& targets, at::Tensor& rowLoss, at::Tensor& lse)
{
    checkInputs(logits, targets);
#ifdef MESHWORK_WITH_CUDA_KERNELS
    const at::Tensor x = logits.contiguous(), t = targets.contiguous();
    rowLoss = at::empty({x.size(0)}, x.options().dtype(at::kFloat));
    lse = at::empty({x.size(0)}, x.options().dtype(at::kFloat));
    checkLaunch(launchCrossEntropyForward(logitType(x), x.data_ptr(), t.data_ptr<int64_t>(), rowLoss.data_ptr<float>(),
                                          lse.data_ptr<float>(), x.size(0), x.size(1), streamOf(x)),
                "forward");
#else
    (void)rowLoss;
    (void)lse;
#endif
}

at::Tensor crossEntropyBackward(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse,
                                const at::Tensor& gradOut, double scale)
{
    checkInputs(logits, targets);
    if (gradOut.numel() != 1 || gradOut.device() != logits.device())
        throw std::runtime_error("cross-entropy kernel: the loss's gradient must be one element on the logits' device");
#ifdef MESHWORK_WITH_CUDA_KERNELS
    const at::Tensor x = logits.contiguous(), t = targets.contiguous(), l = lse.contiguous();
    const at::Tensor g = gradOut.to(at::kFloat).contiguous();
    at::Tensor dlogits = at::empty_like(x);
    checkLaunch(launchCrossEntropyBackward(logitType(x), x.data_ptr(), t.data_ptr<int64_t>(), l.data_ptr<float>(),
                                           g.data_ptr<float>(), float(scale), dlogits.data_ptr(), x.size(0), x.size(1),
                                           streamOf(x)),
                "backward");
    return dlogits;
#else
    (void)lse;
    (void)scale;
    return {};
#endif
}

void crossEntropyForwardReference(const at::Tensor& logits, const at::Tensor& targets, at::Tensor& rowLoss,
                                  at::Tensor& lse)
{
    const at::Tensor x = logits.to(at::kFloat);
    lse = at::logsumexp(x, {1});
    rowLoss = lse - x.gather(1, targets.unsqueeze(1)).squeeze(1);
}

at::Tensor crossEntropyBackwardReference(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse,
                                         const at::Tensor& gradOut, double scale)
{
    at::Tensor d = at::exp(logits.to(at::kFloat) - lse.unsqueeze(1));
    d.scatter_add_(1, targets.unsqueeze(1), at::full({d.size(0), 1}, -1.0, d.options()));
    return (d * (gradOut.to(at::kFloat) * scale)).to(logits.scalar_type());
}

} // namespace meshwork::kernels
