#include "core/train/Optimizer.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdlib>
#include <string>

namespace meshwork {

FlatOptimizer::FlatOptimizer(const OptimizerConfig& config, const ParameterLayout& layout, at::Tensor flatParams,
                             at::Tensor flatGrads)
    : m_config(config), m_params(std::move(flatParams)), m_grads(std::move(flatGrads)), m_decay(layout.decayElements)
{
    std::vector<float> decay;
    for (const auto& p : layout.params) {
        m_offsets.push_back(p.offset);
        m_sizes.push_back(p.numel());
        decay.push_back(p.decays() ? static_cast<float>(config.weightDecay) : 0.0f);
    }
    const auto dev = m_params.device();
    m_sizesTensor = at::tensor(m_sizes, at::TensorOptions().dtype(at::kLong)).to(dev);
    m_decayPerTensor = at::tensor(decay, at::TensorOptions().dtype(at::kFloat)).to(dev);
    m_m = at::zeros_like(m_params);
    if (optimizerStatesPerParameter(config.kind) == 2) m_v = at::zeros_like(m_params);
    // MESHWORK_UNFUSED_ADAMW=1 keeps the GPU on the reference ops below (to compare the two).
    const char* unfused = std::getenv("MESHWORK_UNFUSED_ADAMW");
    m_fused = config.kind == Optimizer::AdamW && m_params.is_cuda() && m_params.numel() > 0
              && !(unfused && std::string(unfused) == "1");
}

std::vector<std::pair<std::string, at::Tensor>> FlatOptimizer::states() const
{
    if (m_v.defined()) return {{"exp_avg", m_m}, {"exp_avg_sq", m_v}};
    return {{"momentum", m_m}};
}

at::Tensor FlatOptimizer::perTensorSquaredNorms(const at::Tensor& flat) const
{
    std::vector<at::Tensor> segments;
    segments.reserve(m_offsets.size());
    for (size_t i = 0; i < m_offsets.size(); ++i) segments.push_back(flat.narrow(0, m_offsets[i], m_sizes[i]));
    return at::stack(at::_foreach_norm(segments)).square_();
}

at::Tensor FlatOptimizer::perElement(const at::Tensor& perTensor) const
{
    // output_size avoids a device-to-host sync to learn the length.
    return at::repeat_interleave(perTensor, m_sizesTensor, 0, m_params.numel());
}

void FlatOptimizer::step(double lr)
{
    at::Tensor squaredNorms = beginStep();
    if (squaredNorms.defined() && m_normReducer) m_normReducer(squaredNorms);
    finishStep(lr, squaredNorms);
}

at::Tensor FlatOptimizer::beginStep()
{
    at::NoGradGuard noGrad;
    ++m_step;
    const auto& c = m_config;
    const at::Tensor& w = m_params;
    if (c.kind == Optimizer::Lamb) {
        // u = m^ / (sqrt(v^) + eps) + lambda w; its norm and the weights' per tensor.
        const double bc1 = 1.0 - std::pow(c.beta1, static_cast<double>(m_step));
        const double sbc2 = std::sqrt(1.0 - std::pow(c.beta2, static_cast<double>(m_step)));
        m_m.lerp_(m_grads, 1.0 - c.beta1);
        m_v.mul_(c.beta2).addcmul_(m_grads, m_grads, 1.0 - c.beta2);
        m_update = m_m.div(m_v.sqrt().add_(c.eps * sbc2)).mul_(sbc2 / bc1);
        if (c.weightDecay != 0 && m_decay > 0)
            m_update.narrow(0, 0, m_decay).add_(w.narrow(0, 0, m_decay), c.weightDecay);
        return at::stack({perTensorSquaredNorms(w), perTensorSquaredNorms(m_update)});
    }
    if (c.kind == Optimizer::Lars) return at::stack({perTensorSquaredNorms(w), perTensorSquaredNorms(m_grads)});
    return {};
}

void FlatOptimizer::finishStep(double lr, const at::Tensor& squaredNorms)
{
    at::NoGradGuard noGrad;
    const auto& c = m_config;
    const at::Tensor& w = m_params;
    const at::Tensor& g = m_grads;

    if (c.kind == Optimizer::AdamW && m_fused) {
        fusedAdamW(lr);
        return;
    }
    if (c.kind == Optimizer::AdamW) {
        const double bc1 = 1.0 - std::pow(c.beta1, static_cast<double>(m_step));
        const double bc2 = 1.0 - std::pow(c.beta2, static_cast<double>(m_step));
        m_m.lerp_(g, 1.0 - c.beta1);
        m_v.mul_(c.beta2).addcmul_(g, g, 1.0 - c.beta2);
        // m^ / (sqrt(v^) + eps) = (sqrt(bc2) / bc1) * m / (sqrt(v) + eps sqrt(bc2)): one pass
        // fewer over the buffer than dividing v by bc2 first.
        const double sbc2 = std::sqrt(bc2);
        at::Tensor denom = m_v.sqrt().add_(c.eps * sbc2);
        if (c.weightDecay != 0 && m_decay > 0) w.narrow(0, 0, m_decay).mul_(1.0 - lr * c.weightDecay);
        w.addcdiv_(m_m, denom, -lr * sbc2 / bc1);
        return;
    }
    if (c.kind == Optimizer::Lamb) {
        // The per-tensor trust ratio r = |w| / |u| when both are positive, else 1.
        const at::Tensor norms = squaredNorms.sqrt();
        const at::Tensor wn = norms[0], un = norms[1];
        const at::Tensor r = at::where((wn > 0).logical_and_(un > 0), wn / un, at::ones_like(wn));
        w.addcmul_(m_update, perElement(r), -lr);
        m_update.reset();
        return;
    }

    // LARS and SGD: momentum on d = g + lambda w.
    at::Tensor d = g.clone();
    if (c.weightDecay != 0 && m_decay > 0) d.narrow(0, 0, m_decay).add_(w.narrow(0, 0, m_decay), c.weightDecay);
    if (c.kind == Optimizer::Lars) {
        const at::Tensor norms = squaredNorms.sqrt();
        const at::Tensor wn = norms[0], gn = norms[1];
        const at::Tensor trust = c.larsTrust * wn / (gn + m_decayPerTensor * wn + c.eps);
        const at::Tensor r = at::where((wn > 0).logical_and_(gn > 0), trust, at::ones_like(wn));
        m_m.mul_(c.momentum).addcmul_(d, perElement(r), lr);
        w.sub_(m_m);
        return;
    }
    m_m.mul_(c.momentum).add_(d);
    w.add_(m_m, -lr);
}

// PyTorch's fused AdamW kernel (torch.optim.AdamW(fused=True)): one multi-tensor pass reading
// w, g, m, v and writing w, m, v, where the ops of finishStep() stream the buffer about 16
// times. Same maths: decoupled decay first, then w -= lr/bc1 m / (sqrt(v)/sqrt(bc2) + eps).
// Called once for the decaying prefix and once for the rest (weight decay 0).
void FlatOptimizer::fusedAdamW(double lr)
{
    at::NoGradGuard noGrad;
    const auto& c = m_config;
    if (!m_stepTensor.defined()) m_stepTensor = at::zeros({}, m_params.options());
    m_stepTensor.fill_(static_cast<double>(m_step));
    auto segment = [&](int64_t begin, int64_t n, double weightDecay) {
        if (n <= 0) return;
        const std::vector<at::Tensor> w{m_params.narrow(0, begin, n)}, g{m_grads.narrow(0, begin, n)},
            m{m_m.narrow(0, begin, n)}, v{m_v.narrow(0, begin, n)}, steps{m_stepTensor};
        at::_fused_adamw_(w, g, m, v, {}, steps, lr, c.beta1, c.beta2, weightDecay, c.eps, /*amsgrad=*/false,
                          /*maximize=*/false);
    };
    segment(0, m_decay, c.weightDecay);
    segment(m_decay, m_params.numel() - m_decay, 0.0);
}

} // namespace meshwork
