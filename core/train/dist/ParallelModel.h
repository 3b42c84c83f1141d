// The transformer of Model.h split over tensor- and pipeline-parallel ranks: the same maths,
// each rank holding its shard of its layers.
//
// Tensor parallelism as Megatron-LM does it (Shoeybi et al. 2019), over a group of t ranks:
//   qkv, mlp.fc      column-parallel: rank j holds the rows of heads [j NH/t, (j+1) NH/t) and kv
//                    heads [j NKV/t, ...) (GQA: kv heads split over tp), of ffn [j F/t, ...)
//                    (SwiGLU: gate and up rows alike); input through f (copyToTp)
//   attn.proj, mlp.proj  row-parallel: the matching columns; output through g (reduceFromTp),
//                    the bias added once after it
//   wte (and a tied head), lm_head  vocabulary-parallel: rows [j V/t, (j+1) V/t); the embedding
//                    masks ids outside its rows and sums over tp; the loss is
//                    vocabParallelCrossEntropy
//   norms, wpe, row-parallel biases  replicated
// With sp (Korthikanti et al. 2022) activations between the linears are [B, T/t, C] sequence
// shards: norms run on shards, f/g become all-gather / reduce-scatter, and the replicated
// parameters' gradients (partial per shard) are summed over tp (finishBackward()).
//
// Pipeline parallelism (Narayanan et al. 2021): pipeline rank i of pp holds vpp chunks; chunk c
// is virtual stage v = c pp + i and holds layers [v L/(pp vpp), (v+1) L/(pp vpp)); virtual
// stage 0 also the embeddings, the last one ln_f and the head. A tied head is a copy of wte on
// the last stage whose gradient is summed with the first stage's (Megatron's embedding group).
//
// Parameters live in one local flat buffer (ParameterLayout order, local shapes), so data
// parallelism and ZeRO work on it unchanged.
#pragma once

#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"
#include "core/train/ParameterLayout.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <vector>

namespace meshwork {

class Mesh;
class ParameterUnitHooks;
struct CommGroup;

enum class TpSplit { Replicated, Rows, Cols, Qkv, GatedRows };

// How the full parameter `p` splits over tp (by its name and the model's shapes).
TpSplit tpSplitOf(const ParamInfo& p, const ModelSpec& spec);
// Rank j's part of a full parameter, and the full parameter from all t parts (its inverse).
at::Tensor tpShard(const at::Tensor& full, const ParamInfo& p, const ModelSpec& spec, int j, int t);
at::Tensor tpAssemble(const std::vector<at::Tensor>& parts, const ParamInfo& p, const ModelSpec& spec);
// Whether pipeline rank `stage` of the plan's pp (vpp chunks each, the layers of
// StageLayers.h) holds parameter p.
bool stageHolds(const ParamInfo& p, const ModelSpec& spec, const Plan& plan, int stage);

class ParallelModel {
public:
    // Builds this rank's part of the model initialized as TransformerModel::initialize(seed).
    ParallelModel(const ModelSpec& spec, const Plan& plan, Mesh& mesh, c10::Device device, uint64_t seed);

    int chunks() const { return static_cast<int>(m_chunks.size()); }
    bool isFirst(int chunk) const;  // virtual stage 0: takes token ids
    bool isLast(int chunk) const;   // last virtual stage: returns the loss
    // One chunk's forward: input is int64 tokens [B, T] for the first stage, else the hidden
    // state received from the previous stage. Returns the hidden state, or the mean loss on
    // the last stage (targets are used there only).
    at::Tensor forward(int chunk, const at::Tensor& input, const at::Tensor& targets);
    // Not owned; null (the default) runs with every parameter resident. forward() calls
    // enter(u) before it reads unit u (Model.h's units, by global layer index): ZeRO-1/2's
    // overlapped gather waits there (ShardedOptimizer). ZeRO-3 does not run on split models,
    // so leave() is never called.
    void setUnitHooks(ParameterUnitHooks* hooks) { m_hooks = hooks; }
    // The whole model on one pipeline rank (pp == 1).
    at::Tensor loss(const at::Tensor& idx, const at::Tensor& targets) { return forward(0, idx, targets); }
    // Shape of the hidden state between stages: [B, T, C], or [B, T/t, C] with sp.
    std::vector<int64_t> hiddenShape(int64_t B, int64_t T) const;

    // After the backward passes of a step: sums sp-partial gradients over tp and the tied
    // embedding's two copies over the first and last pipeline stage.
    void finishBackward();
    // Per local parameter: whether finishBackward() rewrites its gradient (GradientSync holds
    // the buckets of these back until then; the others reduce during the backward pass).
    std::vector<bool> rewrittenByFinishBackward() const;
    // Sum over the elements [begin, end) of the flat gradients of w g^2, w the share of the
    // squared gradient norm this copy counts: 1 for a tp-split parameter, 1/t for a replicated
    // one, 0 for the tied head's second copy. Reductions only: no buffer of the gradients' size
    // (a per-element weight tensor would cost as much memory as the gradients themselves).
    // flatGrads may hold the elements from gradsBegin on alone (ZeRO-2's shard).
    at::Tensor squaredGradNorm(const at::Tensor& flatGrads, int64_t begin, int64_t end, int64_t gradsBegin = 0) const;
    // The full single-process flat buffer (collective over tp and pp: every rank calls it).
    at::Tensor gatherFullParameters();

    at::Tensor& flatParams() { return m_flatParams; }
    at::Tensor& flatGrads() { return m_flatGrads; }
    const ParameterLayout& layout() const { return m_layout; }
    const std::vector<at::Tensor>& parameters() const { return m_params; }
    void zeroGrad() { m_flatGrads.zero_(); }
    // As TransformerModel::releaseGradients(): no gradient buffer, autograd's own tensors
    // (ZeRO-2's partitioned gradients).
    void releaseGradients();

private:
    struct Layer {
        at::Tensor ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, mlpw, mlpb;
    };
    struct Chunk {
        int virtualStage = 0;
        int64_t firstLayer = 0; // global index of layers[0]
        std::vector<Layer> layers;
    };
    at::Tensor get(const std::string& name) const;
    at::Tensor block(const Layer& p, const at::Tensor& x);
    // x W^T + b with the weights cast through autocastWeight as TransformerModel::linear does
    // (their gradients added into the buffers where the unit hooks say those are live), but
    // not under pp (the constructor says why).
    at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {}) const;
    at::Tensor attention(const at::Tensor& qkv);
    at::Tensor norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const;
    at::Tensor rope(const at::Tensor& x) const;
    void prepareRope(int64_t T);
    at::Tensor toTp(const at::Tensor& x);   // f, or all-gather with sp
    at::Tensor fromTp(const at::Tensor& x); // g, or reduce-scatter with sp

    ModelSpec m_spec;
    Plan m_plan;
    Mesh& m_mesh;
    CommGroup& m_tp;
    CommGroup& m_pp;
    c10::Device m_device;
    ParameterLayout m_full, m_layout;
    std::vector<size_t> m_fullIndex;    // m_layout.params[i] is m_full.params[m_fullIndex[i]]
    at::Tensor m_flatParams, m_flatGrads;
    struct NormSegment {
        int64_t offset = 0, numel = 0;
        double weight = 1; // != 1: replicated over tp, or the tied copy
    };
    std::vector<NormSegment> m_normSegments;
    std::vector<at::Tensor> m_params;
    std::vector<bool> m_replicated;
    at::Tensor m_wte, m_wpe, m_lnfw, m_lnfb, m_head;
    bool m_tiedCopy = false;            // the last stage holds a copy of wte as its head
    std::vector<Chunk> m_chunks;
    at::Tensor m_cos, m_sin;
    int64_t m_T = 0;
    ParameterUnitHooks* m_hooks = nullptr;
    bool m_fuseGradAccumulation = true; // gradAccumulationFusionEnabled() when built
};

} // namespace meshwork
