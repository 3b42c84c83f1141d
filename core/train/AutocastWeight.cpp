#include "core/train/AutocastWeight.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdlib>
#include <string>

namespace meshwork {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct CastWithFusedGradient : torch::autograd::Function<CastWithFusedGradient> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& w, at::ScalarType type)
    {
        // Held as a value, not a saved variable: no version check, since ZeRO-3 re-points the
        // parameter at its gathered unit between the forward and the backward.
        ctx->saved_data["w"] = w;
        return w.to(type);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad)
    {
        const at::Tensor& g = grad[0];
        at::Tensor w = ctx->saved_data["w"].toTensor();
        const at::Tensor& buffer = w.grad();
        if (g.defined() && buffer.defined() && buffer.scalar_type() == at::kFloat && buffer.sizes() == g.sizes()) {
            buffer.add_(g);
            return {at::Tensor(), at::Tensor()};
        }
        return {g.defined() ? g.to(w.scalar_type()) : g, at::Tensor()};
    }
};

} // namespace

at::Tensor autocastWeight(const at::Tensor& w)
{
    if (!w.defined() || w.scalar_type() != at::kFloat || !w.requires_grad() || !at::GradMode::is_enabled()) return w;
    const c10::DeviceType device = w.device().type();
    if (!at::autocast::is_autocast_enabled(device)) return w;
    return CastWithFusedGradient::apply(w, at::autocast::get_autocast_dtype(device));
}

at::Tensor linearCastingWeights(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, bool fuse)
{
    auto cast = [fuse](const at::Tensor& t) { return fuse ? autocastWeight(t) : t; };
    return at::linear(x, cast(w), b.defined() ? std::optional<at::Tensor>(cast(b)) : std::nullopt);
}

bool gradAccumulationFusionEnabled()
{
    const char* unfused = std::getenv("MESHWORK_UNFUSED_GRAD_ACCUM");
    return !(unfused && std::string(unfused) == "1");
}

} // namespace meshwork
