#include "core/train/Loss.h"

#include "kernels/CrossEntropy.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdlib>
#include <string>

namespace meshwork {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The kernel's gradient is d loss / d logits for the mean; the backward scales it by the
// incoming gradient (the loss scale of fp16, 1 otherwise) in place: it is used once.
struct FusedCrossEntropy : torch::autograd::Function<FusedCrossEntropy> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& logits, const at::Tensor& targets)
    {
        at::Tensor rowLoss, dlogits;
        kernels::crossEntropyForwardBackward(logits, targets, 1.0 / double(std::max<int64_t>(logits.size(0), 1)),
                                             rowLoss, dlogits);
        ctx->saved_data["dlogits"] = dlogits;
        return rowLoss.mean();
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad)
    {
        at::Tensor dlogits = ctx->saved_data["dlogits"].toTensor();
        ctx->saved_data.erase("dlogits");
        dlogits.mul_(grad[0]);
        return {dlogits, at::Tensor()};
    }
};

} // namespace

bool crossEntropyFused(const at::Tensor& logits)
{
    // MESHWORK_UNFUSED_LOSS=1: ATen's cross-entropy on a GPU too, to compare the two
    // (scripts/gpu_dist_checks.sh), as MESHWORK_UNFUSED_ADAMW does for the optimizer.
    static const bool unfused = [] {
        const char* v = std::getenv("MESHWORK_UNFUSED_LOSS");
        return v && std::string(v) == "1";
    }();
    return !unfused && kernels::crossEntropyKernelRuns(logits);
}

at::Tensor crossEntropy(const at::Tensor& logits, const at::Tensor& targets)
{
    if (crossEntropyFused(logits)) return FusedCrossEntropy::apply(logits, targets);
    return at::cross_entropy_loss(logits.to(at::kFloat), targets);
}

} // namespace meshwork
