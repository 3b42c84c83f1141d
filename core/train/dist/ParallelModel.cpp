#include "core/train/dist/ParallelModel.h"

#include "core/spec/StageLayers.h"
#include "core/train/AutocastWeight.h"
#include "core/train/Loss.h"
#include "core/train/Model.h"
#include "core/train/Recompute.h"
#include "core/train/TrainError.h"
#include "core/train/dist/Mesh.h"
#include "core/train/dist/TpOps.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

namespace meshwork {

namespace {

bool endsWith(const std::string& s, const std::string& tail)
{
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// "h.12.attn.qkv.weight" -> 12; -1 for parameters outside the blocks.
int64_t layerOf(const std::string& name)
{
    if (name.rfind("h.", 0) != 0) return -1;
    return std::stoll(name.substr(2, name.find('.', 2) - 2));
}

at::Tensor sharedSlice(const at::Tensor& flat, int64_t offset, const std::vector<int64_t>& shape)
{
    at::Tensor t = at::empty({0}, flat.options());
    std::vector<int64_t> strides(shape.size(), 1);
    for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
        strides[static_cast<size_t>(i)] = strides[static_cast<size_t>(i + 1)] * shape[static_cast<size_t>(i + 1)];
    t.set_(flat.storage(), flat.storage_offset() + offset, shape, strides);
    return t;
}

// The row blocks of a fused qkv or gated fc parameter (dim 0).
std::vector<int64_t> blocksOf(TpSplit s, const ModelSpec& m)
{
    if (s == TpSplit::Qkv) return {m.hidden, m.kvDim(), m.kvDim()};
    return {m.ffn, m.ffn};
}

std::optional<at::Tensor> opt(const at::Tensor& t) { return t.defined() ? std::optional<at::Tensor>(t) : std::nullopt; }

} // namespace

TpSplit tpSplitOf(const ParamInfo& p, const ModelSpec& m)
{
    const std::string& n = p.name;
    if (n == "wte" || n == "lm_head") return TpSplit::Rows;
    if (endsWith(n, "attn.qkv.weight") || endsWith(n, "attn.qkv.bias")) return TpSplit::Qkv;
    if (endsWith(n, "mlp.fc.weight") || endsWith(n, "mlp.fc.bias"))
        return m.ffnKind == FfnKind::SwiGlu ? TpSplit::GatedRows : TpSplit::Rows;
    if (endsWith(n, "attn.proj.weight") || endsWith(n, "mlp.proj.weight")) return TpSplit::Cols;
    return TpSplit::Replicated;
}

at::Tensor tpShard(const at::Tensor& full, const ParamInfo& p, const ModelSpec& spec, int j, int t)
{
    const TpSplit s = tpSplitOf(p, spec);
    switch (s) {
    case TpSplit::Replicated: return full;
    case TpSplit::Rows: return full.chunk(t, 0)[j];
    case TpSplit::Cols: return full.chunk(t, 1)[j];
    case TpSplit::Qkv:
    case TpSplit::GatedRows: {
        std::vector<at::Tensor> parts;
        for (const at::Tensor& b : full.split_with_sizes(blocksOf(s, spec), 0)) parts.push_back(b.chunk(t, 0)[j]);
        return at::cat(parts, 0);
    }
    }
    return full;
}

at::Tensor tpAssemble(const std::vector<at::Tensor>& parts, const ParamInfo& p, const ModelSpec& spec)
{
    const TpSplit s = tpSplitOf(p, spec);
    const int64_t t = static_cast<int64_t>(parts.size());
    switch (s) {
    case TpSplit::Replicated: return parts[0];
    case TpSplit::Rows: return at::cat(parts, 0);
    case TpSplit::Cols: return at::cat(parts, 1);
    case TpSplit::Qkv:
    case TpSplit::GatedRows: {
        std::vector<int64_t> sizes = blocksOf(s, spec);
        for (auto& v : sizes) v /= t;
        std::vector<std::vector<at::Tensor>> byBlock(sizes.size());
        for (const at::Tensor& part : parts) {
            auto blocks = part.split_with_sizes(sizes, 0);
            for (size_t b = 0; b < blocks.size(); ++b) byBlock[b].push_back(blocks[b]);
        }
        std::vector<at::Tensor> whole;
        for (auto& v : byBlock) whole.push_back(at::cat(v, 0));
        return at::cat(whole, 0);
    }
    }
    return parts[0];
}

bool stageHolds(const ParamInfo& p, const ModelSpec& spec, const Plan& plan, int stage)
{
    const int pp = std::max(plan.pp, 1);
    const int64_t layer = layerOf(p.name);
    if (layer >= 0) {
        // The virtual stage whose layers include this one (StageLayers.h): chunk c of rank r is c pp + r.
        for (int v = 0; v < pp * plan.vpp; ++v) {
            const int64_t first = firstLayerOfVirtualStage(plan, spec.layers, v);
            if (layer < first + layersOfVirtualStage(plan, spec.layers, v)) return v % pp == stage;
        }
        return false;
    }
    if (p.name == "wte") return stage == 0 || (spec.tiedEmbeddings && stage == pp - 1);
    if (p.name == "wpe") return stage == 0;
    return stage == pp - 1; // ln_f, lm_head
}

ParallelModel::ParallelModel(const ModelSpec& spec, const Plan& plan, Mesh& mesh, c10::Device device, uint64_t seed)
    : m_spec(spec), m_plan(plan), m_mesh(mesh), m_tp(mesh.group(Axis::Tp)), m_pp(mesh.group(Axis::Pp)),
      m_device(device), m_full(parameterLayout(spec)),
      // Not under pp: there several micro-batches are in flight, and each would keep its own
      // 16-bit copy of the stage's weights for its backward, where autocast's cast cache keeps
      // one (llama-1b pp 2 on 2 H200s: the first stage peaked 0.86 GiB higher, for 1.5% more
      // tokens/s; docs/bench/gpu-h200x4-dp-ab.txt call 5).
      m_fuseGradAccumulation(gradAccumulationFusionEnabled() && mesh.group(Axis::Pp).size() == 1)
{
    const int t = m_tp.size(), j = m_tp.index, pp = m_pp.size(), stage = m_pp.index, vpp = plan.vpp;
    const int64_t V = spec.paddedVocab > 0 ? spec.paddedVocab : spec.vocab;
    if (V % t != 0)
        throw TrainError(TrainErrorKind::Config, "the padded vocabulary (" + std::to_string(V)
                                                     + ") must be divisible by tp (" + std::to_string(t) + ")");
    // This rank's parameters, in the full layout's order (decaying ones first), local shapes.
    int64_t offset = 0;
    for (size_t i = 0; i < m_full.params.size(); ++i) {
        ParamInfo p = m_full.params[i];
        if (!stageHolds(p, spec, plan, stage)) continue;
        switch (tpSplitOf(p, spec)) {
        case TpSplit::Replicated: break;
        case TpSplit::Rows:
        case TpSplit::Qkv:
        case TpSplit::GatedRows: p.shape[0] /= t; break;
        case TpSplit::Cols: p.shape[1] /= t; break;
        }
        p.offset = offset;
        offset += p.numel();
        if (p.decays()) m_layout.decayElements = offset;
        m_layout.params.push_back(std::move(p));
        m_fullIndex.push_back(i);
    }
    m_layout.totalElements = offset;
    m_tiedCopy = spec.tiedEmbeddings && pp > 1 && stage == pp - 1;

    const auto opts = at::TensorOptions().dtype(at::kFloat).device(device);
    m_flatParams = at::zeros({m_layout.totalElements}, opts);
    m_flatGrads = at::zeros({m_layout.totalElements}, opts);

    // The initial weights of the single-process model, cut to this rank's part.
    TransformerModel reference(spec, Recompute::None, c10::Device(c10::kCPU));
    reference.initialize(seed);
    at::NoGradGuard noGrad;
    for (size_t i = 0; i < m_layout.params.size(); ++i) {
        const ParamInfo& local = m_layout.params[i];
        const ParamInfo& whole = m_full.params[m_fullIndex[i]];
        const at::Tensor full = reference.flatParams().narrow(0, whole.offset, whole.numel()).view(whole.shape);
        m_flatParams.narrow(0, local.offset, local.numel()).copy_(tpShard(full, whole, spec, j, t).reshape({-1}));
        at::Tensor p = sharedSlice(m_flatParams, local.offset, local.shape);
        p.requires_grad_(true);
        p.mutable_grad() = sharedSlice(m_flatGrads, local.offset, local.shape);
        m_params.push_back(p);
        const bool replicated = tpSplitOf(whole, spec) == TpSplit::Replicated;
        m_replicated.push_back(replicated);
        const double w = m_tiedCopy && local.name == "wte" ? 0.0 : replicated ? 1.0 / t : 1.0;
        if (w != 1.0) m_normSegments.push_back({local.offset, local.numel(), w});
    }
    m_wte = get("wte");
    m_wpe = get("wpe");
    m_lnfw = get("ln_f.weight");
    m_lnfb = get("ln_f.bias");
    m_head = spec.tiedEmbeddings ? m_wte : get("lm_head");
    for (int c = 0; c < vpp; ++c) {
        Chunk ch;
        ch.virtualStage = c * pp + stage;
        ch.firstLayer = firstLayerOfVirtualStage(plan, spec.layers, ch.virtualStage);
        for (int64_t i = ch.firstLayer; i < ch.firstLayer + layersOfVirtualStage(plan, spec.layers, ch.virtualStage); ++i) {
            const std::string h = "h." + std::to_string(i);
            ch.layers.push_back(Layer{get(h + ".ln_1.weight"), get(h + ".ln_1.bias"), get(h + ".attn.qkv.weight"),
                                      get(h + ".attn.qkv.bias"), get(h + ".attn.proj.weight"), get(h + ".attn.proj.bias"),
                                      get(h + ".ln_2.weight"), get(h + ".ln_2.bias"), get(h + ".mlp.fc.weight"),
                                      get(h + ".mlp.fc.bias"), get(h + ".mlp.proj.weight"), get(h + ".mlp.proj.bias")});
        }
        m_chunks.push_back(std::move(ch));
    }
}

at::Tensor ParallelModel::get(const std::string& name) const
{
    for (size_t i = 0; i < m_layout.params.size(); ++i)
        if (m_layout.params[i].name == name) return m_params[i];
    return {};
}

bool ParallelModel::isFirst(int chunk) const { return m_chunks.at(chunk).virtualStage == 0; }
bool ParallelModel::isLast(int chunk) const
{
    return m_chunks.at(chunk).virtualStage == m_pp.size() * m_plan.vpp - 1;
}

std::vector<int64_t> ParallelModel::hiddenShape(int64_t B, int64_t T) const
{
    return {B, m_plan.sp ? T / m_tp.size() : T, m_spec.hidden};
}

at::Tensor ParallelModel::toTp(const at::Tensor& x)
{
    return m_plan.sp ? gatherSeq(x, m_mesh, m_tp) : copyToTp(x, m_mesh, m_tp);
}

at::Tensor ParallelModel::fromTp(const at::Tensor& x)
{
    return m_plan.sp ? scatterSeq(x, m_mesh, m_tp) : reduceFromTp(x, m_mesh, m_tp);
}

at::Tensor ParallelModel::norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const
{
    const int64_t C = m_spec.hidden;
    if (m_spec.normKind == NormKind::LayerNorm) return at::layer_norm(x, {C}, w, opt(b), m_spec.normEps);
    return at::rms_norm(x, {C}, w, m_spec.normEps);
}

void ParallelModel::prepareRope(int64_t T)
{
    if (m_spec.positionKind != PositionKind::Rope) return;
    const bool ac = at::autocast::is_autocast_enabled(m_device.type());
    const auto type = ac ? at::autocast::get_autocast_dtype(m_device.type()) : at::kFloat;
    if (m_T == T && m_cos.scalar_type() == type) return;
    // As Model.cpp: rotate-half RoPE, theta^(-2i/hd), the angle table repeated for both halves.
    const int64_t hd = m_spec.headDim();
    const auto f64 = at::TensorOptions().dtype(at::kDouble);
    at::Tensor inv = at::pow(m_spec.ropeTheta, -at::arange(0, hd, 2, f64) / static_cast<double>(hd));
    at::Tensor angles = at::outer(at::arange(T, f64), inv);
    angles = at::cat({angles, angles}, -1);
    m_cos = angles.cos().to(type).to(m_device);
    m_sin = angles.sin().to(type).to(m_device);
    m_T = T;
}

at::Tensor ParallelModel::rope(const at::Tensor& x) const
{
    const auto halves = x.chunk(2, -1); // one backward node (Model.cpp's rope)
    return x * m_cos + at::cat({-halves[1], halves[0]}, -1) * m_sin;
}

at::Tensor ParallelModel::attention(const at::Tensor& qkv)
{
    const int t = m_tp.size();
    const int64_t B = qkv.size(0), T = qkv.size(1);
    const int64_t NH = m_spec.heads / t, NKV = m_spec.kvHeads / t, hd = m_spec.headDim();
    const auto parts = qkv.split_with_sizes({NH * hd, NKV * hd, NKV * hd}, -1); // one backward node (Model.cpp)
    at::Tensor q = parts[0].view({B, T, NH, hd}).transpose(1, 2);
    at::Tensor k = parts[1].view({B, T, NKV, hd}).transpose(1, 2);
    at::Tensor v = parts[2].view({B, T, NKV, hd}).transpose(1, 2);
    if (m_spec.positionKind == PositionKind::Rope) {
        q = rope(q);
        k = rope(k);
    }
    if (NKV != NH) {
        // Local query head i reads local kv head i / (NH / NKV): the split keeps groups whole.
        const int64_t rep = NH / NKV;
        k = k.unsqueeze(2).expand({B, NKV, rep, T, hd}).reshape({B, NH, T, hd});
        v = v.unsqueeze(2).expand({B, NKV, rep, T, hd}).reshape({B, NH, T, hd});
    }
    auto core = [](const std::vector<at::Tensor>& in) {
        return at::scaled_dot_product_attention(in[0], in[1], in[2], std::nullopt, 0.0, /*is_causal=*/true);
    };
    at::Tensor y = m_plan.recompute == Recompute::Selective ? recompute(core, {q, k, v}) : core({q, k, v});
    return y.transpose(1, 2).reshape({B, T, NH * hd});
}

at::Tensor ParallelModel::linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const
{
    return linearCastingWeights(x, w, b, m_fuseGradAccumulation && (!m_hooks || m_hooks->gradientBuffersLive()));
}

at::Tensor ParallelModel::block(const Layer& p, const at::Tensor& x)
{
    at::Tensor h = toTp(norm(x, p.ln1w, p.ln1b));
    at::Tensor y = attention(linear(h, p.qkvw, p.qkvb));
    at::Tensor o = fromTp(linear(y, p.projw));
    if (p.projb.defined()) o = o + p.projb;
    at::Tensor out = x + o;

    h = toTp(norm(out, p.ln2w, p.ln2b));
    at::Tensor f = linear(h, p.fcw, p.fcb);
    if (m_spec.ffnKind == FfnKind::Gelu) {
        f = at::gelu(f, "tanh");
    } else {
        auto parts = f.chunk(2, -1);
        f = at::silu(parts[0]) * parts[1];
    }
    at::Tensor o2 = fromTp(linear(f, p.mlpw));
    if (p.mlpb.defined()) o2 = o2 + p.mlpb;
    return out + o2;
}

at::Tensor ParallelModel::forward(int chunkIndex, const at::Tensor& input, const at::Tensor& targets)
{
    const Chunk& chunk = m_chunks.at(chunkIndex);
    const int t = m_tp.size(), j = m_tp.index;
    at::Tensor x;
    int64_t T;
    if (chunk.virtualStage == 0) {
        if (m_hooks) m_hooks->enter(0);
        T = input.size(1);
        if (T > m_spec.maxSeq)
            throw TrainError(TrainErrorKind::Config, "sequence " + std::to_string(T) + " exceeds the model's maximum "
                                                         + std::to_string(m_spec.maxSeq));
        // Vocabulary-parallel embedding: rows [start, start + Vl) here, other ids give zeros.
        const int64_t Vl = m_wte.size(0), start = j * Vl;
        const at::Tensor mine = input.ge(start).logical_and(input.lt(start + Vl));
        x = at::embedding(m_wte, (input - start).clamp(0, Vl - 1)) * mine.unsqueeze(-1).to(at::kFloat);
        x = fromTp(x); // sums the ranks' rows (with sp: leaves this rank's sequence shard)
        if (m_wpe.defined()) {
            const int64_t Ts = m_plan.sp ? T / t : T;
            x = x + m_wpe.narrow(0, m_plan.sp ? j * Ts : 0, Ts);
        }
    } else {
        x = input;
        T = m_plan.sp ? input.size(1) * t : input.size(1);
    }
    prepareRope(T);
    for (size_t k = 0; k < chunk.layers.size(); ++k) {
        const Layer& p = chunk.layers[k];
        if (m_hooks) m_hooks->enter(static_cast<int>(chunk.firstLayer + static_cast<int64_t>(k)) + 1);
        if (m_plan.recompute == Recompute::Full) {
            // Keep only the block's input; rerun the block (collectives included) in backward.
            std::vector<at::Tensor> in{x};
            for (const at::Tensor* w : {&p.ln1w, &p.ln1b, &p.qkvw, &p.qkvb, &p.projw, &p.projb, &p.ln2w, &p.ln2b, &p.fcw,
                                        &p.fcb, &p.mlpw, &p.mlpb})
                if (w->defined()) in.push_back(*w);
            x = recompute([this, p](const std::vector<at::Tensor>& v) {
                Layer l = p;
                size_t k = 1;
                for (at::Tensor* w : {&l.ln1w, &l.ln1b, &l.qkvw, &l.qkvb, &l.projw, &l.projb, &l.ln2w, &l.ln2b, &l.fcw,
                                      &l.fcb, &l.mlpw, &l.mlpb})
                    if (w->defined()) *w = v.at(k++);
                return block(l, v[0]);
            }, in);
        } else {
            x = block(p, x);
        }
    }
    if (!isLast(chunkIndex)) return x;
    if (m_hooks) m_hooks->enter(static_cast<int>(m_spec.layers) + 1);
    x = toTp(norm(x, m_lnfw, m_lnfb));
    const at::Tensor logits = linear(x, m_head);
    // The whole vocabulary on this rank (pp alone): the loss as one process computes it
    // (TransformerModel::loss, core/train/Loss.h: two kernels on a GPU), which streams the
    // logits a fraction as often as the vocabulary-parallel ops below.
    if (m_tp.size() == 1) return crossEntropy(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}));
    const int64_t start = j * m_head.size(0);
    return vocabParallelCrossEntropy(logits.reshape({-1, logits.size(-1)}).to(at::kFloat), targets.reshape({-1}), start,
                                     m_mesh, m_tp);
}

at::Tensor ParallelModel::squaredGradNorm(const at::Tensor& grads, int64_t begin, int64_t end, int64_t gradsBegin) const
{
    at::NoGradGuard noGrad;
    // sum w g^2 = sum g^2 + sum over the weighted segments of (w - 1) |g_segment|^2.
    at::Tensor total = at::linalg_vector_norm(grads.narrow(0, begin - gradsBegin, end - begin), 2).square();
    std::vector<at::Tensor> parts;
    std::vector<double> weights;
    for (const NormSegment& s : m_normSegments) {
        const int64_t b = std::max(begin, s.offset), e = std::min(end, s.offset + s.numel);
        if (b >= e) continue;
        parts.push_back(grads.narrow(0, b - gradsBegin, e - b));
        weights.push_back(s.weight - 1.0);
    }
    if (parts.empty()) return total;
    const at::Tensor norms = at::stack(at::_foreach_norm(parts, 2)).to(at::kDouble);
    const at::Tensor w = at::tensor(weights, at::TensorOptions().dtype(at::kDouble)).to(norms.device());
    // Rounding could take a sum whose every element is discounted a hair below zero.
    return (total.to(at::kDouble) + (norms.square() * w).sum()).clamp_min(0).to(grads.scalar_type());
}

void ParallelModel::releaseGradients()
{
    for (at::Tensor& p : m_params) p.mutable_grad().reset();
    m_flatGrads = at::Tensor();
}

void ParallelModel::finishBackward()
{
    at::NoGradGuard noGrad;
    if (m_plan.sp && !m_tp.trivial()) {
        std::vector<at::Tensor> parts;
        for (size_t i = 0; i < m_params.size(); ++i)
            if (m_replicated[i]) parts.push_back(m_params[i].grad().reshape({-1}));
        if (!parts.empty()) {
            at::Tensor all = at::cat(parts);
            allReduceInPlace(m_mesh, m_tp, all, "sequence-parallel gradient all-reduce");
            int64_t off = 0;
            for (size_t i = 0; i < m_params.size(); ++i) {
                if (!m_replicated[i]) continue;
                const int64_t n = m_params[i].numel();
                m_params[i].mutable_grad().view({-1}).copy_(all.narrow(0, off, n));
                off += n;
            }
        }
    }
    if (m_spec.tiedEmbeddings && m_pp.size() > 1) {
        // The tied embedding's two copies (first and last stage) get the sum of both gradients;
        // stages in between contribute zeros.
        const int64_t V = (m_spec.paddedVocab > 0 ? m_spec.paddedVocab : m_spec.vocab) / m_tp.size();
        at::Tensor g = m_wte.defined() ? m_wte.grad().reshape({-1}).clone()
                                       : at::zeros({V * m_spec.hidden}, m_flatGrads.options());
        allReduceInPlace(m_mesh, m_pp, g, "tied embedding gradient all-reduce");
        if (m_wte.defined()) m_wte.mutable_grad().view({-1}).copy_(g);
    }
}

std::vector<bool> ParallelModel::rewrittenByFinishBackward() const
{
    std::vector<bool> out(m_params.size(), false);
    for (size_t i = 0; i < m_params.size(); ++i) {
        if (m_plan.sp && !m_tp.trivial() && m_replicated[i]) out[i] = true;
        if (m_spec.tiedEmbeddings && m_pp.size() > 1 && m_layout.params[i].name == "wte") out[i] = true;
    }
    return out;
}

at::Tensor ParallelModel::gatherFullParameters()
{
    at::NoGradGuard noGrad;
    const int t = m_tp.size();
    const int64_t n = m_layout.totalElements;
    const at::Tensor all = m_tp.trivial() ? m_flatParams.detach() : allGatherDim0(m_mesh, m_tp, m_flatParams.detach());
    at::Tensor full = at::zeros({m_full.totalElements}, m_flatParams.options());
    for (size_t i = 0; i < m_layout.params.size(); ++i) {
        const ParamInfo& local = m_layout.params[i];
        if (m_tiedCopy && local.name == "wte") continue; // the first stage gives it
        std::vector<at::Tensor> parts;
        for (int r = 0; r < t; ++r) parts.push_back(all.narrow(0, r * n + local.offset, local.numel()).view(local.shape));
        const ParamInfo& whole = m_full.params[m_fullIndex[i]];
        full.narrow(0, whole.offset, whole.numel()).copy_(tpAssemble(parts, whole, m_spec).reshape({-1}));
    }
    allReduceInPlace(m_mesh, m_pp, full, "parameter gather over pipeline stages");
    return full;
}

} // namespace meshwork
