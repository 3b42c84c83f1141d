#include "core/planner/StageLayout.h"

#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"
#include "core/spec/StageLayers.h"

namespace meshwork {

double layerMatmulParamsPerGpu(const ModelSpec& m, int tp)
{
    const double C = double(m.hidden), F = double(m.ffn), KV = double(m.kvDim());
    const double attn = 2 * C * C + 2 * C * KV;
    const double mlp = (m.ffnKind == FfnKind::Gelu ? 2 : 3) * C * F;
    return (attn + mlp) / (tp > 0 ? tp : 1);
}

double layerParamsPerGpu(const ModelSpec& m, int tp)
{
    const double t = tp > 0 ? tp : 1;
    const double matmul = layerMatmulParamsPerGpu(m, 1);
    const double rest = double(m.layerParameters()) - matmul; // norms and biases: replicated
    return matmul / t + rest;
}

int64_t layersOnStage(const ModelSpec& m, const Plan& plan, int stage)
{
    return layersOfPipelineRank(plan, m.layers, stage);
}

StageShape stageShape(const ModelSpec& m, const Plan& plan, int stage)
{
    return stageShape(m, plan, stage, layerParamsPerGpu(m, plan.tp), layerMatmulParamsPerGpu(m, plan.tp));
}

StageShape stageShape(const ModelSpec& m, const Plan& plan, int stage, double layerParams, double layerMatmulParams)
{
    const int pp = plan.pp > 0 ? plan.pp : 1;
    const double t = plan.tp > 0 ? plan.tp : 1;
    const double V = double(m.paddedVocab > 0 ? m.paddedVocab : m.vocab);
    const double C = double(m.hidden);
    StageShape s;
    s.stage = stage;
    s.first = stage == 0;
    s.last = stage == pp - 1;
    s.layers = layersOnStage(m, plan, stage);
    s.layerParams = double(s.layers) * layerParams;
    s.layerMatmulParams = double(s.layers) * layerMatmulParams;
    if (s.first) s.embeddingParams = double(m.embeddingParameters(0)) + V * C / t; // positions + V/t rows
    if (s.last) {
        const double normParams = double(m.headParameters(0)); // final norm (head of a 0 vocab)
        // A tied head shares the embedding on a single stage; with pp > 1 the last stage keeps
        // its own copy of the word embeddings (Megatron: shared weights all-reduced between
        // first and last stage).
        const bool ownHead = !m.tiedEmbeddings || pp > 1;
        s.headParams = normParams + (ownHead ? V * C / t : 0);
        s.headMatmulParams = V * C / t;
    }
    return s;
}

} // namespace meshwork
