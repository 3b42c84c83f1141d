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

// Saves the logits and each row's log-sum-exp; the backward kernel rebuilds the softmax from them
// with the incoming gradient (fp16's loss scale, 1 otherwise) applied before rounding.
struct FusedCrossEntropy : torch::autograd::Function<FusedCrossEntropy> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& logits, const at::Tensor& targets)
    {
        at::Tensor rowLoss, lse;
        kernels::crossEntropyForward(logits, targets, rowLoss, lse);
        ctx->save_for_backward({logits, targets, lse});
        return rowLoss.mean();
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad)
    {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor& logits = saved[0];
        const double scale = 1.0 / double(std::max<int64_t>(logits.size(0), 1)); // the mean's
        return {kernels::crossEntropyBackward(logits, saved[1], saved[2], grad[0], scale), at::Tensor()};
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
