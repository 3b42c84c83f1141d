// The shape of a transformer language model: what the planner sizes and the trainer builds.
// Vocabulary: L layers, C hidden (channels), NH heads, V vocab (llm.c / CONVENTIONS.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace meshwork {

class Json;

enum class FfnKind { Gelu, SwiGlu };          // GELU MLP (GPT-2) or SwiGLU (LLaMA)
enum class NormKind { LayerNorm, RmsNorm };
enum class PositionKind { Learned, Rope };

const char* toString(FfnKind k);
const char* toString(NormKind k);
const char* toString(PositionKind k);

struct ModelSpec {
    std::string name;
    std::string family;        // "gpt2", "llama", ... (informational)
    int64_t layers = 0;        // L
    int64_t hidden = 0;        // C
    int64_t heads = 0;         // NH
    int64_t kvHeads = 0;       // grouped-query attention: heads sharing one K/V head
    int64_t ffn = 0;           // FFN inner size
    int64_t vocab = 0;         // V, as published
    int64_t paddedVocab = 0;   // V rounded up for fast matmuls (what the trainer allocates)
    int64_t maxSeq = 0;
    FfnKind ffnKind = FfnKind::Gelu;
    NormKind normKind = NormKind::LayerNorm;
    PositionKind positionKind = PositionKind::Learned;
    bool tiedEmbeddings = true;
    bool bias = true;          // biases in linears and norms (GPT-2 yes, LLaMA no)
    bool qkvBias = false;      // biases on Q, K, V only (Qwen2)
    double normEps = 1e-5;
    double ropeTheta = 10000.0;

    int64_t headDim() const { return heads > 0 ? hidden / heads : 0; }
    int64_t kvDim() const { return kvHeads * headDim(); }

    // Parameters of one transformer block (attention, MLP, two norms).
    int64_t layerParameters() const;
    // Embedding parameters (token, plus learned positions) for a vocabulary of size v.
    int64_t embeddingParameters(int64_t v) const;
    // Output head (0 when tied) and final norm.
    int64_t headParameters(int64_t v) const;
    // Exact published parameter count (vocab as published).
    int64_t parameterCount() const;
    // Parameters the trainer allocates (padded vocabulary).
    int64_t allocatedParameterCount() const;

    // Every problem with the dimensions, each naming the numbers; empty when valid.
    std::vector<std::string> validate() const;

    // Defaults a derived field (kvHeads, paddedVocab) from the others.
    void fillDerived();

    Json toJson() const;
    // Reads our own catalog/plan-file form. Throws SpecError naming the key on bad input.
    static ModelSpec fromJson(const Json& j);
};

// Rounds v up to a multiple of m.
int64_t roundUp(int64_t v, int64_t m);

} // namespace meshwork
