#include "core/spec/Flops.h"

#include "core/spec/ModelSpec.h"

namespace meshwork {

int64_t matmulParameters(const ModelSpec& m)
{
    // Block linears: everything in a layer except biases and norm weights.
    const int64_t C = m.hidden, F = m.ffn, KV = m.kvDim();
    const int64_t attn = 2 * C * C + 2 * C * KV;
    const int64_t mlp = (m.ffnKind == FfnKind::Gelu ? 2 : 3) * C * F;
    const int64_t head = (m.paddedVocab > 0 ? m.paddedVocab : m.vocab) * C;
    return m.layers * (attn + mlp) + head;
}

double trainingFlopsPerToken(const ModelSpec& m, int64_t seq)
{
    return 6.0 * static_cast<double>(matmulParameters(m))
        + 12.0 * static_cast<double>(m.layers) * static_cast<double>(m.hidden) * static_cast<double>(seq);
}

} // namespace meshwork
