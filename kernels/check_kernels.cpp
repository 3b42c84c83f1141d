// meshwork-kernel-check: each kernel against its CPU reference on fresh random inputs, with the
// tolerance stated beside it (ggml's test-backend-ops, llm.c's dev/cuda); the references against
// ATen's own ops. --bench also times the kernels against the ATen ops they replace.
//
//   meshwork-kernel-check            # exit 0 when every comparison holds
//   meshwork-kernel-check --bench    # and the times, on a CUDA device
#include "kernels/CrossEntropy.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#ifdef MESHWORK_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAFunctions.h>
#endif

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

using namespace meshwork::kernels;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what)
{
    std::printf("%s  %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) ++failures;
}

// The reference against ATen's cross-entropy on an fp32 copy of the logits and its autograd
// gradient (the trainer's former loss): the loss to 1e-5 relative, the gradient to 1e-6 of the
// largest.
void referenceMatchesAten(int64_t rows, int64_t vocab)
{
    at::manual_seed(rows * 31 + vocab);
    const at::Tensor logits = at::randn({rows, vocab}) * 3;
    const at::Tensor targets = at::randint(vocab, {rows}, at::kLong);
    at::Tensor rowLoss, lse;
    crossEntropyForwardReference(logits, targets, rowLoss, lse);
    const at::Tensor dlogits = crossEntropyBackwardReference(logits, targets, lse, at::ones({}), 1.0 / double(rows));
    at::Tensor x = logits.clone().requires_grad_(true);
    at::Tensor loss = at::cross_entropy_loss(x, targets);
    loss.backward();
    const double lossError = std::abs(rowLoss.mean().item<double>() - loss.item<double>()) / std::abs(loss.item<double>());
    const double gradError = (dlogits - x.grad()).abs().max().item<double>() / x.grad().abs().max().item<double>();
    char what[160];
    std::snprintf(what, sizeof what, "reference [%lld, %lld]: loss %.2e, gradient %.2e from ATen's (1e-5, 1e-6 allowed)",
                  (long long)rows, (long long)vocab, lossError, gradError);
    expect(lossError <= 1e-5 && gradError <= 1e-6, what);
}

#ifdef MESHWORK_WITH_CUDA_KERNELS
// The largest |a - b| beyond atol + rtol |b|, as a multiple of that allowance (<= 1 passes).
double worstRatio(const at::Tensor& a, const at::Tensor& b, double atol, double rtol)
{
    const at::Tensor x = a.to(at::kDouble).cpu(), y = b.to(at::kDouble).cpu();
    return ((x - y).abs() / (atol + rtol * y.abs())).max().item<double>();
}

// The kernels against the reference on the same inputs: per-row losses and log-sum-exps to 2e-5
// relative (fp32 sums in another order), the gradient within one unit in the last place of its
// type (bf16 2^-7, fp16 2^-10 of the value) and 1e-4. The loss's
// gradient is fp16's usual loss scale, 65536: the gradient (softmax / rows, 5e-9 for GPT-2) must
// not flush to zero in fp16 before it is scaled.
void kernelMatchesReference(int64_t rows, int64_t vocab, at::ScalarType type, bool offsetView)
{
    at::manual_seed(rows * 7 + vocab);
    const auto cuda = at::TensorOptions().device(at::kCUDA);
    at::Tensor logits = (at::randn({rows, vocab + (offsetView ? 1 : 0)}, cuda) * 3).to(type);
    if (offsetView) logits = logits.narrow(1, 1, vocab); // not contiguous: the launcher copies
    const at::Tensor targets = at::randint(vocab, {rows}, cuda.dtype(at::kLong));
    const at::Tensor g = at::full({}, 65536.0, cuda.dtype(at::kFloat));
    const double scale = 1.0 / double(rows);
    at::Tensor loss, lse, refLoss, refLse;
    crossEntropyForward(logits, targets, loss, lse);
    crossEntropyForwardReference(logits, targets, refLoss, refLse);
    const at::Tensor grad = crossEntropyBackward(logits, targets, lse, g, scale);
    const at::Tensor refGrad = crossEntropyBackwardReference(logits, targets, refLse, g, scale);
    // One unit in the last place of the type (a value next to a rounding boundary may round either
    // way when the fp32 sums differ in their order), plus the fp32 error.
    const double rounding = (type == at::kBFloat16 ? 1.0 / 128 : type == at::kHalf ? 1.0 / 1024 : 0) + 1e-4;
    const double lossRatio = std::max(worstRatio(loss, refLoss, 1e-6, 2e-5), worstRatio(lse, refLse, 1e-6, 2e-5));
    // Absolute slack: 1e-3 of the mean softmax gradient (1e-5 in fp32), so that a gradient
    // flushed to zero where the reference has one shows.
    const double mean = 65536 * scale / double(vocab);
    const double gradRatio = worstRatio(grad, refGrad, mean * (type == at::kFloat ? 1e-5 : 1e-3), rounding);
    char what[200];
    std::snprintf(what, sizeof what, "kernel %s [%lld, %lld]%s: loss %.2f, gradient %.2f of the tolerance",
                  c10::toString(type), (long long)rows, (long long)vocab, offsetView ? " (strided)" : "", lossRatio,
                  gradRatio);
    expect(lossRatio <= 1 && gradRatio <= 1, what);
}

double millis(const std::function<void()>& f, int reps)
{
    f();
    c10::cuda::device_synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    c10::cuda::device_synchronize();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
}

// The loss and gradient the trainer used before: ATen's cross-entropy on an fp32 copy, its
// backward, the gradient cast back; against the two kernels.
void bench(int64_t rows, int64_t vocab, const char* name)
{
    const auto cuda = at::TensorOptions().device(at::kCUDA);
    const at::Tensor logits = (at::randn({rows, vocab}, cuda) * 3).to(at::kBFloat16);
    const at::Tensor targets = at::randint(vocab, {rows}, cuda.dtype(at::kLong));
    const double aten = millis([&] {
        at::Tensor x = logits.detach().requires_grad_(true);
        at::cross_entropy_loss(x.to(at::kFloat), targets).backward();
    }, 10);
    const at::Tensor one = at::ones({}, cuda.dtype(at::kFloat));
    const double fused = millis([&] {
        at::Tensor loss, lse;
        crossEntropyForward(logits, targets, loss, lse);
        loss.mean();
        crossEntropyBackward(logits, targets, lse, one, 1.0 / double(rows));
    }, 10);
    std::printf("bench %s [%lld, %lld] bf16: ATen cross-entropy + backward %.2f ms, the kernels forward + backward %.2f ms "
                "(%.1fx)\n", name, (long long)rows, (long long)vocab, aten, fused, aten / fused);
}
#endif

} // namespace

int main(int argc, char** argv)
{
    const bool benchToo = argc > 1 && std::strcmp(argv[1], "--bench") == 0;
    for (auto [rows, vocab] : {std::pair<int64_t, int64_t>{64, 256}, {33, 1000}, {8, 50304}, {5, 50257}})
        referenceMatchesAten(rows, vocab);
#ifdef MESHWORK_WITH_CUDA_KERNELS
    if (at::hasCUDA() && c10::cuda::device_count() > 0) {
        for (at::ScalarType type : {at::kBFloat16, at::kHalf, at::kFloat}) {
            kernelMatchesReference(64, 256, type, false);
            kernelMatchesReference(33, 1001, type, false); // no 16-byte loads
            kernelMatchesReference(16, 50304, type, false);
            kernelMatchesReference(7, 128256, type, true);
        }
        kernelMatchesReference(4096, 50304, at::kBFloat16, false);
        if (benchToo) {
            bench(8192, 50304, "GPT-2 124M, 8 x 1024 tokens");
            bench(4096, 128256, "llama-1b, 2 x 2048 tokens");
        }
    } else {
        std::printf("no CUDA device: the kernels were not run\n");
    }
#else
    if (benchToo) std::printf("a CPU build: no kernels to time\n");
#endif
    std::printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
