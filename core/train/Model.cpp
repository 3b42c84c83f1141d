#include "core/train/Model.h"

#include "core/train/AutocastWeight.h"
#include "core/train/Loss.h"
#include "core/train/Recompute.h"
#include "core/train/TrainError.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>

#include <cmath>

namespace meshwork {

namespace {

// A leaf tensor that shares `flat`'s storage at `offset` (not an autograd view of it), so the
// optimizer can update the flat buffer in place and autograd sees plain leaves.
at::Tensor sharedSlice(const at::Tensor& flat, int64_t offset, const std::vector<int64_t>& shape)
{
    at::Tensor t = at::empty({0}, flat.options());
    std::vector<int64_t> strides(shape.size(), 1);
    for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
        strides[static_cast<size_t>(i)] = strides[static_cast<size_t>(i + 1)] * shape[static_cast<size_t>(i + 1)];
    t.set_(flat.storage(), flat.storage_offset() + offset, shape, strides);
    return t;
}

} // namespace

std::vector<at::Tensor> TransformerModel::Layer::list() const
{
    std::vector<at::Tensor> v;
    for (const at::Tensor* t : {&ln1w, &ln1b, &qkvw, &qkvb, &projw, &projb, &ln2w, &ln2b, &fcw, &fcb, &mlpw, &mlpb})
        if (t->defined()) v.push_back(*t);
    return v;
}

void TransformerModel::Layer::assign(const std::vector<at::Tensor>& v, size_t first)
{
    size_t k = first;
    for (at::Tensor* t : {&ln1w, &ln1b, &qkvw, &qkvb, &projw, &projb, &ln2w, &ln2b, &fcw, &fcb, &mlpw, &mlpb})
        if (t->defined()) *t = v.at(k++);
}

TransformerModel::TransformerModel(const ModelSpec& spec, Recompute recompute, c10::Device device)
    : m_spec(spec), m_recompute(recompute), m_device(device), m_layout(parameterLayout(spec)),
      m_fuseGradAccumulation(gradAccumulationFusionEnabled())
{
    const auto opts = at::TensorOptions().dtype(at::kFloat).device(device);
    m_flatParams = at::zeros({m_layout.totalElements}, opts);
    m_flatGrads = at::zeros({m_layout.totalElements}, opts);
    for (const auto& info : m_layout.params) {
        at::Tensor p = sharedSlice(m_flatParams, info.offset, info.shape);
        p.requires_grad_(true);
        // The gradient lives in the flat gradient buffer: autograd accumulates into a defined
        // .grad in place, so it stays there.
        p.mutable_grad() = sharedSlice(m_flatGrads, info.offset, info.shape);
        m_index[info.name] = m_params.size();
        m_params.push_back(p);
    }
    auto get = [&](const std::string& name) -> at::Tensor {
        auto it = m_index.find(name);
        return it == m_index.end() ? at::Tensor() : m_params[it->second];
    };
    m_wte = get("wte");
    m_wpe = get("wpe");
    m_lnfw = get("ln_f.weight");
    m_lnfb = get("ln_f.bias");
    m_head = spec.tiedEmbeddings ? m_wte : get("lm_head");
    for (int64_t i = 0; i < spec.layers; ++i) {
        const std::string h = "h." + std::to_string(i);
        Layer l;
        l.ln1w = get(h + ".ln_1.weight");
        l.ln1b = get(h + ".ln_1.bias");
        l.qkvw = get(h + ".attn.qkv.weight");
        l.qkvb = get(h + ".attn.qkv.bias");
        l.projw = get(h + ".attn.proj.weight");
        l.projb = get(h + ".attn.proj.bias");
        l.ln2w = get(h + ".ln_2.weight");
        l.ln2b = get(h + ".ln_2.bias");
        l.fcw = get(h + ".mlp.fc.weight");
        l.fcb = get(h + ".mlp.fc.bias");
        l.mlpw = get(h + ".mlp.proj.weight");
        l.mlpb = get(h + ".mlp.proj.bias");
        m_layers.push_back(l);
    }
}

const at::Tensor& TransformerModel::parameter(const std::string& name) const
{
    auto it = m_index.find(name);
    if (it == m_index.end()) throw TrainError(TrainErrorKind::Internal, "no parameter named " + name);
    return m_params[it->second];
}

void TransformerModel::initialize(uint64_t seed)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    at::Tensor host = at::empty({m_layout.totalElements}, at::TensorOptions().dtype(at::kFloat));
    const double residualStd = 0.02 / std::sqrt(2.0 * static_cast<double>(std::max<int64_t>(1, m_spec.layers)));
    for (const auto& info : m_layout.params) {
        at::Tensor t = host.narrow(0, info.offset, info.numel());
        switch (info.role) {
        case ParamRole::Embedding:
        case ParamRole::Position:
        case ParamRole::Linear:
        case ParamRole::Head: t.normal_(0.0, 0.02, gen); break;
        case ParamRole::ResidualLinear: t.normal_(0.0, residualStd, gen); break;
        case ParamRole::NormWeight: t.fill_(1.0); break;
        case ParamRole::Bias:
        case ParamRole::NormBias: t.zero_(); break;
        }
    }
    at::NoGradGuard noGrad;
    m_flatParams.copy_(host);
}

void TransformerModel::zeroGrad()
{
    if (m_flatGrads.defined()) m_flatGrads.zero_();
}

void TransformerModel::releaseGradients()
{
    for (at::Tensor& p : m_params) p.mutable_grad().reset();
    m_flatGrads = at::Tensor();
}

at::Tensor TransformerModel::norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const
{
    const int64_t C = m_spec.hidden;
    if (m_spec.normKind == NormKind::LayerNorm)
        return at::layer_norm(x, {C}, w, b.defined() ? std::optional<at::Tensor>(b) : std::nullopt, m_spec.normEps);
    // RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x^2) + eps) * w.
    return at::rms_norm(x, {C}, w, m_spec.normEps);
}

void TransformerModel::prepareRope(int64_t T, c10::ScalarType type)
{
    if (m_cos.defined() && m_cos.size(0) == T && m_cos.scalar_type() == type) return;
    // RoPE (Su et al. 2021) in the rotate-half form of Hugging Face LLaMA: frequency
    // theta^(-2i/hd) for i < hd/2, the angle table repeated for both halves of the head.
    const int64_t hd = m_spec.headDim();
    const auto f64 = at::TensorOptions().dtype(at::kDouble);
    at::Tensor inv = at::pow(m_spec.ropeTheta, -at::arange(0, hd, 2, f64) / static_cast<double>(hd));
    at::Tensor angles = at::outer(at::arange(T, f64), inv);
    angles = at::cat({angles, angles}, -1);
    m_cos = angles.cos().to(type).to(m_device);
    m_sin = angles.sin().to(type).to(m_device);
}

at::Tensor TransformerModel::rope(const at::Tensor& x) const
{
    // x * cos + rotate_half(x) * sin, rotate_half([x1, x2]) = [-x2, x1].
    // chunk, not two narrows: one backward node that concatenates, where each narrow's
    // backward would fill a zero tensor of x's size and the two would then be added.
    const auto halves = x.chunk(2, -1);
    at::Tensor rotated = at::cat({-halves[1], halves[0]}, -1);
    return x * m_cos + rotated * m_sin;
}

at::Tensor TransformerModel::linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const
{
    return linearCastingWeights(x, w, b, m_fuseGradAccumulation && (!m_hooks || m_hooks->gradientBuffersLive()));
}

at::Tensor TransformerModel::attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const
{
    auto core = [](const std::vector<at::Tensor>& in) {
        return at::scaled_dot_product_attention(in[0], in[1], in[2], std::nullopt, 0.0, /*is_causal=*/true);
    };
    if (m_recompute == Recompute::Selective) return recompute(core, {q, k, v});
    return core({q, k, v});
}

at::Tensor TransformerModel::block(const Layer& p, const at::Tensor& x) const
{
    const int64_t B = x.size(0), T = x.size(1), C = m_spec.hidden;
    const int64_t NH = m_spec.heads, NKV = m_spec.kvHeads, hd = m_spec.headDim(), KV = m_spec.kvDim();

    at::Tensor h = norm(x, p.ln1w, p.ln1b);
    at::Tensor qkv = linear(h, p.qkvw, p.qkvb);
    // One split (its backward a single concatenation) rather than three narrows, whose
    // backward passes would each zero-fill a [B, T, C + 2 KV] gradient and add them up.
    const auto parts = qkv.split_with_sizes({C, KV, KV}, -1);
    at::Tensor q = parts[0].view({B, T, NH, hd}).transpose(1, 2);
    at::Tensor k = parts[1].view({B, T, NKV, hd}).transpose(1, 2);
    at::Tensor v = parts[2].view({B, T, NKV, hd}).transpose(1, 2);
    if (m_spec.positionKind == PositionKind::Rope) {
        q = rope(q);
        k = rope(k);
    }
    if (NKV != NH) {
        // Grouped-query attention: query head i reads K/V head i / (NH / NKV).
        const int64_t rep = NH / NKV;
        k = k.unsqueeze(2).expand({B, NKV, rep, T, hd}).reshape({B, NH, T, hd});
        v = v.unsqueeze(2).expand({B, NKV, rep, T, hd}).reshape({B, NH, T, hd});
    }
    at::Tensor y = attention(q, k, v).transpose(1, 2).reshape({B, T, C});
    at::Tensor out = x + linear(y, p.projw, p.projb);

    h = norm(out, p.ln2w, p.ln2b);
    at::Tensor f = linear(h, p.fcw, p.fcb);
    if (m_spec.ffnKind == FfnKind::Gelu) {
        f = at::gelu(f, "tanh");
    } else {
        // SwiGLU (Shazeer 2020): silu(x W_gate) * (x W_up); the fused weight holds gate rows first.
        auto parts = f.chunk(2, -1);
        f = at::silu(parts[0]) * parts[1];
    }
    return out + linear(f, p.mlpw, p.mlpb);
}

at::Tensor TransformerModel::hidden(const at::Tensor& idx)
{
    const int64_t T = idx.size(1);
    if (T > m_spec.maxSeq)
        throw TrainError(TrainErrorKind::Config, "sequence " + std::to_string(T) + " exceeds the model's maximum "
                         + std::to_string(m_spec.maxSeq));
    const int head = static_cast<int>(m_layers.size()) + 1;
    if (m_hooks) m_hooks->enter(0);
    at::Tensor x;
    if (m_lookupSink && at::GradMode::is_enabled()) {
        // The looked-up rows are a leaf of their own: their gradient goes to the sink.
        x = at::embedding(m_wte.detach(), idx).requires_grad_(true);
        x.register_hook([sink = m_lookupSink, idx](const at::Tensor& g) { sink->lookupGradient(idx, g); });
    } else {
        x = at::embedding(m_wte, idx);
    }
    if (m_wpe.defined()) x = x + m_wpe.narrow(0, 0, T);
    if (m_hooks) x = m_hooks->leave(0, x);
    if (m_spec.positionKind == PositionKind::Rope) {
        // RoPE tables in the type q and k will have: the autocast type when it is on.
        const bool ac = at::autocast::is_autocast_enabled(m_device.type());
        prepareRope(T, ac ? at::autocast::get_autocast_dtype(m_device.type()) : at::kFloat);
    }
    for (size_t i = 0; i < m_layers.size(); ++i) {
        const Layer& p = m_layers[i];
        if (m_hooks) m_hooks->enter(static_cast<int>(i) + 1);
        if (m_recompute == Recompute::Full) {
            // Keep only each block's input; rerun the block in backward.
            std::vector<at::Tensor> inputs{x};
            for (const auto& t : p.list()) inputs.push_back(t);
            const Layer pattern = p;
            x = recompute([this, pattern](const std::vector<at::Tensor>& in) {
                Layer l = pattern;
                l.assign(in, 1);
                return block(l, in[0]);
            }, inputs);
        } else {
            x = block(p, x);
        }
        if (m_hooks) x = m_hooks->leave(static_cast<int>(i) + 1, x);
    }
    if (m_hooks) m_hooks->enter(head); // left in logits(), after the head
    return norm(x, m_lnfw, m_lnfb);
}

at::Tensor TransformerModel::logits(const at::Tensor& idx)
{
    at::Tensor l = linear(hidden(idx), m_head, at::Tensor());
    if (m_hooks) l = m_hooks->leave(static_cast<int>(m_layers.size()) + 1, l);
    return l;
}

at::Tensor TransformerModel::loss(const at::Tensor& idx, const at::Tensor& targets)
{
    at::Tensor l = logits(idx);
    const int64_t V = l.size(-1);
    return crossEntropy(l.reshape({-1, V}), targets.reshape({-1}));
}

} // namespace meshwork
