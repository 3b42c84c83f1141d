#include "core/spec/ModelSpec.h"

#include "core/json/Json.h"
#include "core/spec/JsonFields.h"
#include "core/spec/SpecError.h"

namespace meshwork {

const char* toString(FfnKind k) { return k == FfnKind::Gelu ? "gelu" : "swiglu"; }
const char* toString(NormKind k) { return k == NormKind::LayerNorm ? "layernorm" : "rmsnorm"; }
const char* toString(PositionKind k) { return k == PositionKind::Learned ? "learned" : "rope"; }

int64_t roundUp(int64_t v, int64_t m) { return m <= 0 ? v : (v + m - 1) / m * m; }

namespace {
int64_t normParameters(const ModelSpec& m)
{
    // LayerNorm has a weight and (with biases) a bias; RMSNorm only a weight.
    return m.normKind == NormKind::LayerNorm && m.bias ? 2 * m.hidden : m.hidden;
}
} // namespace

int64_t ModelSpec::layerParameters() const
{
    const int64_t C = hidden, F = ffn, KV = kvDim();
    // Attention: Q and output projections are C x C, K and V are C x KV (GQA).
    int64_t attn = 2 * C * C + 2 * C * KV;
    if (bias) attn += C + 2 * KV + C;
    else if (qkvBias) attn += C + 2 * KV;
    // MLP: GELU has up (C x F) and down (F x C); SwiGLU adds a gate (C x F).
    int64_t mlp = ffnKind == FfnKind::Gelu ? 2 * C * F : 3 * C * F;
    if (bias) mlp += (ffnKind == FfnKind::Gelu ? F : 2 * F) + C;
    return attn + mlp + 2 * normParameters(*this);
}

int64_t ModelSpec::embeddingParameters(int64_t v) const
{
    return v * hidden + (positionKind == PositionKind::Learned ? maxSeq * hidden : 0);
}

int64_t ModelSpec::headParameters(int64_t v) const
{
    return (tiedEmbeddings ? 0 : v * hidden) + normParameters(*this);
}

int64_t ModelSpec::parameterCount() const
{
    return embeddingParameters(vocab) + layers * layerParameters() + headParameters(vocab);
}

int64_t ModelSpec::allocatedParameterCount() const
{
    const int64_t v = paddedVocab > 0 ? paddedVocab : vocab;
    return embeddingParameters(v) + layers * layerParameters() + headParameters(v);
}

void ModelSpec::fillDerived()
{
    if (kvHeads <= 0) kvHeads = heads;
    if (paddedVocab <= 0) paddedVocab = roundUp(vocab, 128);
    if (ffn <= 0 && ffnKind == FfnKind::Gelu) ffn = 4 * hidden;
}

std::vector<std::string> ModelSpec::validate() const
{
    std::vector<std::string> errors;
    auto positive = [&](int64_t v, const char* what) {
        if (v <= 0) errors.push_back(std::string(what) + " must be positive (got " + std::to_string(v) + ")");
    };
    positive(layers, "layers");
    positive(hidden, "hidden");
    positive(heads, "heads");
    positive(kvHeads, "kv-heads");
    positive(ffn, "ffn");
    positive(vocab, "vocab");
    positive(maxSeq, "max sequence");
    if (heads > 0 && hidden > 0 && hidden % heads != 0)
        errors.push_back("hidden (" + std::to_string(hidden) + ") must be divisible by heads ("
                         + std::to_string(heads) + ")");
    if (heads > 0 && kvHeads > 0 && heads % kvHeads != 0)
        errors.push_back("heads (" + std::to_string(heads) + ") must be divisible by kv-heads ("
                         + std::to_string(kvHeads) + ")");
    if (positionKind == PositionKind::Rope && heads > 0 && hidden % heads == 0 && headDim() % 2 != 0)
        errors.push_back("RoPE needs an even head dimension (hidden/heads = " + std::to_string(headDim()) + ")");
    if (paddedVocab > 0 && paddedVocab < vocab)
        errors.push_back("padded vocab (" + std::to_string(paddedVocab) + ") is smaller than vocab ("
                         + std::to_string(vocab) + ")");
    return errors;
}

Json ModelSpec::toJson() const
{
    Json j = Json::object();
    j.set("name", name).set("family", family);
    j.set("layers", layers).set("hidden", hidden).set("heads", heads).set("kv_heads", kvHeads);
    j.set("ffn", ffn).set("ffn_kind", toString(ffnKind));
    j.set("vocab", vocab).set("padded_vocab", paddedVocab).set("max_seq", maxSeq);
    j.set("norm", toString(normKind)).set("position", toString(positionKind));
    j.set("tied_embeddings", tiedEmbeddings).set("bias", bias).set("qkv_bias", qkvBias);
    j.set("norm_eps", normEps).set("rope_theta", ropeTheta);
    return j;
}

ModelSpec ModelSpec::fromJson(const Json& j)
{
    using namespace json_fields;
    if (!j.isObject()) throw SpecError("model: expected a JSON object");
    ModelSpec m;
    m.name = optString(j, "name", "custom", "model");
    const std::string ctx = "model \"" + m.name + "\"";
    m.family = optString(j, "family", "", ctx);
    m.layers = requireInt(j, "layers", ctx);
    m.hidden = requireInt(j, "hidden", ctx);
    m.heads = requireInt(j, "heads", ctx);
    m.kvHeads = optInt(j, "kv_heads", 0, ctx);
    m.ffn = optInt(j, "ffn", 0, ctx);
    m.vocab = requireInt(j, "vocab", ctx);
    m.paddedVocab = optInt(j, "padded_vocab", 0, ctx);
    m.maxSeq = requireInt(j, "max_seq", ctx);
    const std::string ffnKind = optString(j, "ffn_kind", "gelu", ctx);
    if (ffnKind == "gelu") m.ffnKind = FfnKind::Gelu;
    else if (ffnKind == "swiglu") m.ffnKind = FfnKind::SwiGlu;
    else throw SpecError(ctx + ": key \"ffn_kind\" must be gelu or swiglu, found \"" + ffnKind + "\"");
    const std::string norm = optString(j, "norm", "layernorm", ctx);
    if (norm == "layernorm") m.normKind = NormKind::LayerNorm;
    else if (norm == "rmsnorm") m.normKind = NormKind::RmsNorm;
    else throw SpecError(ctx + ": key \"norm\" must be layernorm or rmsnorm, found \"" + norm + "\"");
    const std::string pos = optString(j, "position", "learned", ctx);
    if (pos == "learned") m.positionKind = PositionKind::Learned;
    else if (pos == "rope") m.positionKind = PositionKind::Rope;
    else throw SpecError(ctx + ": key \"position\" must be learned or rope, found \"" + pos + "\"");
    m.tiedEmbeddings = optBool(j, "tied_embeddings", true, ctx);
    m.bias = optBool(j, "bias", m.normKind == NormKind::LayerNorm, ctx);
    m.qkvBias = optBool(j, "qkv_bias", false, ctx);
    m.normEps = optNumber(j, "norm_eps", 1e-5, ctx);
    m.ropeTheta = optNumber(j, "rope_theta", 10000.0, ctx);
    m.fillDerived();
    auto errors = m.validate();
    if (!errors.empty()) throw SpecError(ctx + ": " + errors.front());
    return m;
}

} // namespace meshwork
