// What one GPU of one pipeline stage holds: its transformer layers and, on the first stage
// the embedding, on the last the final norm and output head. Parameter counts are per GPU
// (tensor-parallel shards; vocabulary-parallel embedding and head as in Megatron).
#pragma once

#include <cstdint>

namespace meshwork {

struct ModelSpec;
struct Plan;

struct StageShape {
    int stage = 0;
    int64_t layers = 0;          // all virtual chunks of this rank
    bool first = false;
    bool last = false;
    double layerParams = 0;      // per GPU, all layers of the stage
    double layerMatmulParams = 0;
    double embeddingParams = 0;  // token (V/tp) + learned positions
    double headParams = 0;       // untied head (or the tied copy a last stage keeps when pp > 1) + final norm
    double headMatmulParams = 0; // V/tp x C on the last stage (the logits GEMM)
    double params() const { return layerParams + embeddingParams + headParams; }
    double matmulParams() const { return layerMatmulParams + headMatmulParams; }
};

// Per GPU, one transformer layer: matmul weights split by tp, norms replicated.
double layerMatmulParamsPerGpu(const ModelSpec& m, int tp);
double layerParamsPerGpu(const ModelSpec& m, int tp);
// Layers on pipeline rank `stage`, all its virtual chunks: the plan's stage-layers, or L/pp
// each (StageLayers.h, the trainer's rule too).
int64_t layersOnStage(const ModelSpec& m, const Plan& plan, int stage);

StageShape stageShape(const ModelSpec& m, const Plan& plan, int stage);
// The same with one layer's per-GPU parameters (layerParamsPerGpu, layerMatmulParamsPerGpu)
// already known: the memory model computes them once per plan.
StageShape stageShape(const ModelSpec& m, const Plan& plan, int stage, double layerParams, double layerMatmulParams);

} // namespace meshwork
