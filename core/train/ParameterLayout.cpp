#include "core/train/ParameterLayout.h"

#include <algorithm>
#include <stdexcept>

namespace meshwork {

int64_t ParamInfo::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

bool ParamInfo::decays() const
{
    // GPT-2/nanoGPT and LLaMA practice: decay 2-D weights, never biases or norm gains.
    return role == ParamRole::Embedding || role == ParamRole::Position || role == ParamRole::Linear
        || role == ParamRole::ResidualLinear || role == ParamRole::Head;
}

const ParamInfo* ParameterLayout::find(const std::string& name) const
{
    for (const auto& p : params)
        if (p.name == name) return &p;
    return nullptr;
}

ParameterLayout parameterLayout(const ModelSpec& m)
{
    const int64_t C = m.hidden, F = m.ffn, KV = m.kvDim();
    const int64_t V = m.paddedVocab > 0 ? m.paddedVocab : m.vocab;
    const bool swiglu = m.ffnKind == FfnKind::SwiGlu;
    const bool normBias = m.normKind == NormKind::LayerNorm && m.bias;
    std::vector<ParamInfo> all;
    auto add = [&](std::string name, std::vector<int64_t> shape, ParamRole role) {
        all.push_back(ParamInfo{std::move(name), std::move(shape), role, 0});
    };
    auto norm = [&](const std::string& prefix) {
        add(prefix + ".weight", {C}, ParamRole::NormWeight);
        if (normBias) add(prefix + ".bias", {C}, ParamRole::NormBias);
    };

    add("wte", {V, C}, ParamRole::Embedding);
    if (m.positionKind == PositionKind::Learned) add("wpe", {m.maxSeq, C}, ParamRole::Position);
    for (int64_t i = 0; i < m.layers; ++i) {
        const std::string h = "h." + std::to_string(i);
        norm(h + ".ln_1");
        add(h + ".attn.qkv.weight", {C + 2 * KV, C}, ParamRole::Linear);
        if (m.bias || m.qkvBias) add(h + ".attn.qkv.bias", {C + 2 * KV}, ParamRole::Bias);
        add(h + ".attn.proj.weight", {C, C}, ParamRole::ResidualLinear);
        if (m.bias) add(h + ".attn.proj.bias", {C}, ParamRole::Bias);
        norm(h + ".ln_2");
        add(h + ".mlp.fc.weight", {swiglu ? 2 * F : F, C}, ParamRole::Linear);
        if (m.bias) add(h + ".mlp.fc.bias", {swiglu ? 2 * F : F}, ParamRole::Bias);
        add(h + ".mlp.proj.weight", {C, F}, ParamRole::ResidualLinear);
        if (m.bias) add(h + ".mlp.proj.bias", {C}, ParamRole::Bias);
    }
    norm("ln_f");
    if (!m.tiedEmbeddings) add("lm_head", {V, C}, ParamRole::Head);

    ParameterLayout layout;
    std::stable_partition(all.begin(), all.end(), [](const ParamInfo& p) { return p.decays(); });
    int64_t offset = 0;
    for (auto& p : all) {
        p.offset = offset;
        offset += p.numel();
        if (p.decays()) layout.decayElements = offset;
    }
    layout.totalElements = offset;
    layout.params = std::move(all);
    return layout;
}

int parameterUnit(const std::string& name, int64_t layers)
{
    if (name == "wte" || name == "wpe") return 0;
    if (name.rfind("h.", 0) == 0) return std::stoi(name.substr(2, name.find('.', 2) - 2)) + 1;
    return static_cast<int>(layers) + 1;
}

int optimizerStatesPerParameter(Optimizer o)
{
    return o == Optimizer::AdamW || o == Optimizer::Lamb ? 2 : 1;
}

TrainBuffers trainBuffers(const ModelSpec& model, const Plan& plan)
{
    TrainBuffers b;
    b.parameters = parameterLayout(model).totalElements;
    b.masterBytes = 4 * b.parameters;
    b.gradientBytes = 4 * b.parameters;
    b.optimizerBytes = 4 * b.parameters * optimizerStatesPerParameter(plan.optimizer);
    return b;
}

} // namespace meshwork
