#include "core/train/Recompute.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/custom_class.h>

namespace meshwork {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Holds the closure for backward; an IValue capsule keeps it alive as long as the graph.
struct Closure : torch::CustomClassHolder {
    RecomputeFn fn;
    bool autocastCuda = false, autocastCpu = false;
    at::ScalarType cudaType = at::kBFloat16, cpuType = at::kBFloat16;
};

// Sets the autocast state of the forward pass on this (backward) thread, and restores it.
class AutocastRestore {
public:
    explicit AutocastRestore(const Closure& c)
        : m_cuda(at::autocast::is_autocast_enabled(at::kCUDA)), m_cpu(at::autocast::is_autocast_enabled(at::kCPU)),
          m_cudaType(at::autocast::get_autocast_dtype(at::kCUDA)), m_cpuType(at::autocast::get_autocast_dtype(at::kCPU)),
          m_cache(at::autocast::is_autocast_cache_enabled())
    {
        at::autocast::set_autocast_enabled(at::kCUDA, c.autocastCuda);
        at::autocast::set_autocast_enabled(at::kCPU, c.autocastCpu);
        at::autocast::set_autocast_dtype(at::kCUDA, c.cudaType);
        at::autocast::set_autocast_dtype(at::kCPU, c.cpuType);
        at::autocast::set_autocast_cache_enabled(false);
    }
    ~AutocastRestore()
    {
        at::autocast::set_autocast_enabled(at::kCUDA, m_cuda);
        at::autocast::set_autocast_enabled(at::kCPU, m_cpu);
        at::autocast::set_autocast_dtype(at::kCUDA, m_cudaType);
        at::autocast::set_autocast_dtype(at::kCPU, m_cpuType);
        at::autocast::set_autocast_cache_enabled(m_cache);
    }

private:
    bool m_cuda, m_cpu;
    at::ScalarType m_cudaType, m_cpuType;
    bool m_cache;
};

struct RecomputeFunction : torch::autograd::Function<RecomputeFunction> {
    static variable_list forward(AutogradContext* ctx, c10::intrusive_ptr<Closure> closure, at::TensorList inputs)
    {
        // Autograd runs forward with gradients off: nothing inside fn is kept for backward.
        ctx->save_for_backward(inputs.vec());
        ctx->saved_data["closure"] = c10::IValue::make_capsule(closure);
        return {closure->fn(inputs.vec())};
    }

    static variable_list backward(AutogradContext* ctx, variable_list gradOutputs)
    {
        auto closure = c10::static_intrusive_pointer_cast<Closure>(ctx->saved_data["closure"].toCapsule());
        const variable_list saved = ctx->get_saved_variables();
        variable_list detached, needGrad;
        std::vector<size_t> needIndex;
        for (size_t i = 0; i < saved.size(); ++i) {
            at::Tensor d = saved[i].detach();
            if (saved[i].requires_grad()) {
                d.requires_grad_(true);
                needGrad.push_back(d);
                needIndex.push_back(i);
            }
            detached.push_back(d);
        }
        at::Tensor out;
        {
            AutocastRestore autocast(*closure);
            at::AutoGradMode gradOn(true);
            out = closure->fn(detached);
        }
        // One gradient per forward argument: none for the closure, then one per input.
        variable_list grads(saved.size() + 1);
        if (!needGrad.empty()) {
            auto g = torch::autograd::grad({out}, needGrad, {gradOutputs[0]}, /*retain_graph=*/false,
                                           /*create_graph=*/false, /*allow_unused=*/true);
            for (size_t k = 0; k < needIndex.size(); ++k) grads[needIndex[k] + 1] = g[k];
        }
        return grads;
    }
};

} // namespace

at::Tensor recompute(RecomputeFn fn, const std::vector<at::Tensor>& inputs)
{
    auto closure = c10::make_intrusive<Closure>();
    closure->fn = std::move(fn);
    closure->autocastCuda = at::autocast::is_autocast_enabled(at::kCUDA);
    closure->autocastCpu = at::autocast::is_autocast_enabled(at::kCPU);
    closure->cudaType = at::autocast::get_autocast_dtype(at::kCUDA);
    closure->cpuType = at::autocast::get_autocast_dtype(at::kCPU);
    return RecomputeFunction::apply(closure, at::TensorList(inputs))[0];
}

} // namespace meshwork
