#include "core/spec/HfConfig.h"

#include "core/json/Json.h"
#include "core/spec/JsonFields.h"
#include "core/spec/SpecError.h"

#include <fstream>
#include <sstream>

namespace meshwork {

namespace {

constexpr int64_t kMaxDimension = int64_t(1) << 24; // 16M: past any real model, short of overflow

int64_t dim(const Json& j, const char* key, const std::string& ctx, int64_t fallback = -1)
{
    using namespace json_fields;
    int64_t v = fallback < 0 ? requireInt(j, key, ctx) : optInt(j, key, fallback, ctx);
    if (v <= 0 || v > kMaxDimension)
        throw SpecError(ctx + ": key \"" + key + "\" must be between 1 and " + std::to_string(kMaxDimension)
                        + ", found " + std::to_string(v));
    return v;
}

ModelSpec gpt2(const Json& j, const std::string& ctx)
{
    ModelSpec m;
    m.family = "gpt2";
    m.layers = dim(j, "n_layer", ctx);
    m.hidden = dim(j, "n_embd", ctx);
    m.heads = dim(j, "n_head", ctx);
    m.kvHeads = m.heads;
    m.vocab = dim(j, "vocab_size", ctx);
    m.maxSeq = dim(j, "n_positions", ctx, 1024);
    const Json* inner = j.find("n_inner");
    m.ffn = (inner && !inner->isNull()) ? dim(j, "n_inner", ctx) : 4 * m.hidden;
    m.ffnKind = FfnKind::Gelu;
    m.normKind = NormKind::LayerNorm;
    m.positionKind = PositionKind::Learned;
    m.tiedEmbeddings = json_fields::optBool(j, "tie_word_embeddings", true, ctx);
    m.bias = true;
    m.normEps = json_fields::optNumber(j, "layer_norm_epsilon", 1e-5, ctx);
    return m;
}

ModelSpec llamaLike(const Json& j, const std::string& ctx, const std::string& family)
{
    ModelSpec m;
    m.family = family;
    m.layers = dim(j, "num_hidden_layers", ctx);
    m.hidden = dim(j, "hidden_size", ctx);
    m.heads = dim(j, "num_attention_heads", ctx);
    m.kvHeads = dim(j, "num_key_value_heads", ctx, m.heads);
    m.ffn = dim(j, "intermediate_size", ctx);
    m.vocab = dim(j, "vocab_size", ctx);
    m.maxSeq = dim(j, "max_position_embeddings", ctx, 4096);
    m.ffnKind = FfnKind::SwiGlu;
    m.normKind = NormKind::RmsNorm;
    m.positionKind = PositionKind::Rope;
    m.tiedEmbeddings = json_fields::optBool(j, "tie_word_embeddings", false, ctx);
    m.bias = json_fields::optBool(j, "mlp_bias", false, ctx);
    m.qkvBias = family == "qwen2" || json_fields::optBool(j, "attention_bias", false, ctx);
    m.normEps = json_fields::optNumber(j, "rms_norm_eps", 1e-5, ctx);
    m.ropeTheta = json_fields::optNumber(j, "rope_theta", 10000.0, ctx);
    if (m.normEps <= 0 || m.normEps > 1)
        throw SpecError(ctx + ": key \"rms_norm_eps\" must be between 0 and 1");
    if (m.ropeTheta <= 0) throw SpecError(ctx + ": key \"rope_theta\" must be positive");
    return m;
}

} // namespace

ModelSpec modelFromHfConfig(std::string_view text, const std::string& name)
{
    const std::string ctx = "config.json \"" + name + "\"";
    std::string error;
    auto parsed = Json::parse(text, &error, 64);
    if (!parsed) throw SpecError(ctx + ": not valid JSON: " + error);
    const Json& j = *parsed;
    if (!j.isObject()) throw SpecError(ctx + ": expected a JSON object at the top level");
    const std::string type = json_fields::optString(j, "model_type", "", ctx);
    ModelSpec m;
    if (type == "gpt2")
        m = gpt2(j, ctx);
    else if (type == "llama" || type == "mistral" || type == "qwen2")
        m = llamaLike(j, ctx, type);
    else if (type.empty())
        throw SpecError(ctx + ": key \"model_type\" is missing (supported: gpt2, llama, mistral, qwen2)");
    else
        throw SpecError(ctx + ": key \"model_type\" is \"" + type
                        + "\", which is not supported (supported: gpt2, llama, mistral, qwen2)");
    m.name = name;
    m.fillDerived();
    auto problems = m.validate();
    if (!problems.empty()) throw SpecError(ctx + ": " + problems.front());
    return m;
}

ModelSpec loadModelFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SpecError("cannot open model file " + path + " (give a catalog name or a config.json path)");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    if (text.size() > (16u << 20)) throw SpecError(path + ": larger than 16 MiB; not a model config");
    std::string name = path;
    auto slash = name.find_last_of('/');
    if (slash != std::string::npos) {
        // ".../Llama-2-7b/config.json" is named after its folder.
        std::string file = name.substr(slash + 1);
        std::string dir = name.substr(0, slash);
        auto dirSlash = dir.find_last_of('/');
        std::string folder = dirSlash == std::string::npos ? dir : dir.substr(dirSlash + 1);
        name = (file == "config.json" && !folder.empty()) ? folder : file;
    }
    std::string error;
    auto parsed = Json::parse(text, &error, 64);
    if (parsed && parsed->isObject() && parsed->contains("layers") && parsed->contains("hidden")) {
        try {
            return ModelSpec::fromJson(*parsed);
        } catch (const SpecError& e) {
            throw SpecError(path + ": " + e.what());
        }
    }
    return modelFromHfConfig(text, name);
}

} // namespace meshwork
