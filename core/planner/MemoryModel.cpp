#include "core/planner/MemoryModel.h"

#include "core/planner/Activations.h"
#include "core/planner/Calibration.h"
#include "core/planner/ModelStates.h"
#include "core/planner/StageLayout.h"
#include "core/planner/TrainerSupport.h"

#include <algorithm>

namespace meshwork {

namespace {

// Logits and loss of one micro-batch on the last stage (computed and consumed at once, so
// never more than one in flight), plus the final norm's and head's saved inputs.
double logitsBytes(const ModelSpec& model, const Plan& plan, Target target)
{
    const ActivationShape x = activationShape(model, plan);
    const double V = double(model.paddedVocab > 0 ? model.paddedVocab : model.vocab);
    const double sb = x.s * x.b, sbh = sb * x.h, sbV = sb * V / x.t;
    const double repDiv = x.sp ? x.t : 1;
    if (target == Target::Megatron) {
        // Final LayerNorm input and head input (2 + 2) sbh; logits in 16 bits (2 sbV/t) and
        // the fp32 copy vocab-parallel cross-entropy works in, whose gradient it writes in place.
        return 4 * sbh / repDiv + (2 + 4) * sbV;
    }
    // Our trainer (measured on H200 against the allocator's peak, docs/bench):
    //  - tp = 1 (the whole model, or a pipeline's last stage) on a GPU, the fused cross-entropy
    //    kernels (kernels/cross_entropy.cu): the logits and their gradient, written by the
    //    forward in the logits' type, both alive at its end: 2 e sbV (2 x H200, 2026-11-28: the
    //    last stage of GPT-2 124M's pp2 4.34 GiB where PyTorch's cross-entropy on an fp32 copy,
    //    12 sbV, took 7.41).
    //  - tp > 1, the vocabulary-parallel node (core/train/dist/TpOps.cpp): the 16-bit logits
    //    (none in fp32), their fp32 copy and the softmax it keeps, at the end of the forward;
    //    its backward works in place.
    const double e = plan.precision == Precision::Fp32 ? 4 : 2;
    const double logits = x.t > 1 ? (plan.precision == Precision::Fp32 ? 0 : 2) + 4 + 4 : 2 * e;
    return (4 + e) * sbh / repDiv + logits * sbV;
}

double commBuffers(const ModelSpec& model, const Plan& plan, Target target, const ModelStateMemory& ms)
{
    const ActivationShape x = activationShape(model, plan);
    const double e = plan.precision == Precision::Fp32 ? 4 : 2;
    const double sbh = x.s * x.b * x.h;
    double bytes = ms.gatherBuffer;
    int groups = 0;
    // Data parallel: both targets reduce in place in their flat gradient buffer (counted as
    // gradients): our trainer all-reduces bucket views of it (core/train/dist/GradientSync),
    // Megatron its contiguous grad buffer.
    if (plan.dp > 1) ++groups;
    if (plan.tp > 1) {
        ++groups;
        bytes += 2 * e * sbh;          // gathered (SP) or all-reduced layer input/output
    }
    if (plan.pp > 1) {
        ++groups;
        bytes += 4 * e * sbh / x.t;    // send and receive, forward and backward
    }
    if (plan.cp > 1) {
        ++groups;
        bytes += 4 * e * x.s * x.b * x.kv / x.t; // K/V ring double buffer
    }
    return bytes + groups * calib::kNcclGiBPerGroup * kGiB;
}


// Partitioned ZeRO-2 (GradientSync.h): each parameter's gradient is autograd's own fp32 tensor
// until its buckets are reduced to their owners, which goes on during the backward pass; the
// trainer waits for the oldest reduction once more than its window is in flight: the largest
// tensor (the head's or the embedding's, at the start of the backward) and 16 buckets.
double gradientsInFlightBytes(const ModelSpec& model, int tp)
{
    const double bucket = kDefaultBucketMb * 1024 * 1024 / 4;
    const double V = double(model.paddedVocab > 0 ? model.paddedVocab : model.vocab);
    const double ffnRows = model.ffnKind == FfnKind::SwiGlu ? 2.0 * double(model.ffn) : double(model.ffn);
    // Matrices are split over tp (the vocabulary-parallel embedding and head too).
    const double largest = std::max(V * double(model.hidden), ffnRows * double(model.hidden)) / std::max(tp, 1);
    return 4 * std::max(4 * bucket, largest + 16 * bucket);
}

// What every stage of one plan shares, computed once per plan (the search calls this for
// tens of thousands of plans).
struct PlanMemoryTerms {
    StateBytes sb;
    double layerParams = 0, layerMatmulParams = 0;
    double perLayer = 0;        // activation bytes of one layer, one micro-batch, as the plan recomputes
    double workingLayer = 0;    // the layer being recomputed holds its full set during its backward
    bool fullGradients = false; // meshwork ZeRO-2 under pp: the gradient buffer stays whole (below)
    double gradientsInFlight = 0; // meshwork ZeRO-2 otherwise: autograd's gradients not yet reduced
    bool meshworkUnits = false; // meshwork ZeRO-3: parameter units gathered one at a time (Zero3.h)
    double logits = 0;          // last stage
    double stageOutput = 0;     // meshwork pp: a forward's output, held until its backward
    double commNoGather = 0;    // buffers other than ZeRO-3's gathered layers
    int64_t microBatches = 1;
};

PlanMemoryTerms planMemoryTerms(const ModelSpec& model, const Plan& plan, Target target, bool flash)
{
    PlanMemoryTerms t;
    t.sb = stateBytes(target, plan.precision, plan.optimizer);
    t.layerParams = layerParamsPerGpu(model, plan.tp);
    t.layerMatmulParams = layerMatmulParamsPerGpu(model, plan.tp);
    const ActivationShape x = activationShape(model, plan);
    t.perLayer = layerActivationBytes(target, x, plan.precision, plan.recompute, flash);
    // During a recomputed layer's backward the recomputed tensors are live again.
    if (plan.recompute != Recompute::None)
        t.workingLayer = std::max(0.0, layerActivationBytes(target, x, plan.precision, Recompute::None, flash) - t.perLayer);
    // Our trainer's ZeRO-2 (GradientSync): under a pipeline it reduces each gradient bucket in
    // place to the rank whose shard holds it, keeping the whole fp32 gradient buffer as ZeRO-1
    // does; otherwise it keeps the shard's sums alone, plus the gradients in flight.
    t.fullGradients = target == Target::Meshwork && plan.zero == 2 && !partitionsGradients(plan);
    if (target == Target::Meshwork && partitionsGradients(plan)) t.gradientsInFlight = gradientsInFlightBytes(model, plan.tp);
    t.meshworkUnits = target == Target::Meshwork && plan.zero >= 3;
    t.logits = logitsBytes(model, plan, target);
    // Our pipeline (core/train/dist/PipelineRunner) keeps every forward's output, the fp32
    // hidden state it sends on ([b, s/t, h] under sp), until that micro-batch's backward calls
    // backward() on it; no layer of the stage saves it. Megatron frees the output's data once
    // it is sent (deallocate_output_tensor).
    if (target == Target::Meshwork && plan.pp > 1) t.stageOutput = 4 * x.s * x.b * x.h / (x.sp ? x.t : 1);
    t.commNoGather = commBuffers(model, plan, target, ModelStateMemory{});
    t.microBatches = plan.microBatches();
    return t;
}

double stageActivations(const PlanMemoryTerms& t, const Plan& plan, int64_t layers, int stage)
{
    const double inFlight = inFlightMicroBatches(plan.pp, plan.vpp, t.microBatches, stage);
    double a = t.perLayer * double(layers) * inFlight;
    if (layers > 0) a += t.workingLayer;
    // Held outputs: one per chunk and micro-batch in flight, but the last virtual stage's
    // output is the loss (on the last rank, at most one of its chunks in flight is that one).
    const double vpp = std::max(1, plan.vpp);
    a += t.stageOutput * std::max(0.0, inFlight * vpp - (stage == plan.pp - 1 ? 1.0 : 0.0));
    return a;
}

void finish(StageMemory& s)
{
    const double sub = s.weights + s.gradients + s.optimizer + s.activations + s.logits + s.buffers;
    s.reserve = sub * calib::kAllocatorReserveFraction;
    s.total = sub + s.context + s.reserve;
}

StageMemory stageMemoryFrom(const PlanMemoryTerms& t, const ModelSpec& model, const Plan& plan, int stage)
{
    const StageShape shape = stageShape(model, plan, stage, t.layerParams, t.layerMatmulParams);
    ModelStateMemory ms = modelStateMemory(t.sb, shape.params(), shape.matmulParams(), t.layerParams,
                                           t.layerMatmulParams, plan);
    if (t.fullGradients) ms.gradients = shape.params() * t.sb.gradients;
    // Gradients in flight appear once the head's backward has run, after the cross-entropy's
    // buffers (the logits' peak) are gone: they show only beyond it. On 2 x H200 partitioned
    // ZeRO-2 held exactly ZeRO-1's peak less half the gradients (llama-1b 26.30 against 28.60
    // GiB, GPT-2 124M 8.66 against 8.89).
    ms.gradients += std::max(0.0, t.gradientsInFlight - (shape.last ? t.logits : 0));
    const double logits = shape.last ? t.logits : 0;
    double unitPeak = 0; // ZeRO-3: what a gathered unit adds at the stage's peak, beyond the logits
    if (t.meshworkUnits) {
        // core/train/dist/Zero3: the units are the embeddings, each layer, and the final norm
        // with the head; a unit is gathered for its forward and again for its backward, then
        // holds its full fp32 gradients until they are reduce-scattered into its 1/dp slice.
        // The backward pass prefetches the next unit's parameters and leaves each unit's
        // reduce-scatter (gradients and output slice) in flight during the next unit's
        // backward: a layer's backward holds two layers' parameters, its own gradients and
        // those of the unit after it (the head's, for the last layer).
        // The autocast copy of every matmul weight is saved for the backward pass, as without
        // ZeRO-3 (autograd keeps the cast, not the freed fp32 unit).
        // Gathered units never meet the logits' peak: the cross-entropy's backward runs before
        // the head unit is gathered again, and the head's backward leaves the logits' gradient
        // (half of the peak: fp32 and 16-bit) beside the unit. Measured on H200 (docs/bench):
        // the peak is the largest of the cross-entropy backward, the head unit's backward and a
        // layer's backward, each with the activations still saved. The embedding unit's
        // backward comes last, when the activations are gone.
        const double head = shape.last ? shape.headParams : 0;
        const double tied = shape.first && shape.last && model.tiedEmbeddings ? shape.embeddingParams : 0;
        const double prefetched = shape.layers > 0 ? t.layerParams : 0;
        // A unit's parameters and gradients, units gathered beside it, the gradients of the unit
        // whose backward ran before it in flight, and one reduce-scatter output slice at a time.
        auto phase = [&](double params, double alsoGathered, double inFlight) {
            return (2 * params + alsoGathered + inFlight) * t.sb.weights
                   + (plan.dp > 1 ? std::max(params, inFlight) * t.sb.gradients / plan.dp : 0);
        };
        const double headPhase = shape.last ? 0.5 * logits + phase(head, tied + prefetched, 0) : 0;
        const double layerPhase = shape.layers > 0 ? phase(t.layerParams, prefetched, std::max(t.layerParams, head)) : 0;
        unitPeak = std::max(0.0, std::max(headPhase, layerPhase) - logits);
        ms.gatherBuffer = 0;
        ms.weights += shape.matmulParams() * t.sb.autocastCopy;
    }
    StageMemory s;
    s.stage = stage;
    s.layers = int(shape.layers);
    s.weights = ms.weights / kGiB;
    s.gradients = ms.gradients / kGiB;
    s.optimizer = ms.optimizer / kGiB;
    s.activations = stageActivations(t, plan, shape.layers, stage) / kGiB;
    s.logits = logits / kGiB;
    s.buffers = (t.commNoGather + ms.gatherBuffer + unitPeak) / kGiB;
    s.context = calib::kCudaContextGiB;
    s.host = ms.host / kGiB;
    finish(s);
    return s;
}

} // namespace

StageMemory stageMemory(const ModelSpec& model, const Plan& plan, Target target, int stage, bool flash)
{
    return stageMemoryFrom(planMemoryTerms(model, plan, target, flash), model, plan, stage);
}

double fullestStageGiB(const ModelSpec& model, const Plan& plan, Target target, bool flash)
{
    // Stage 0 holds the most layers, the most micro-batches in flight and the embedding; the
    // last stage the head and the logits. No stage between can hold more than stage 0.
    const PlanMemoryTerms t = planMemoryTerms(model, plan, target, flash);
    double g = stageMemoryFrom(t, model, plan, 0).total;
    if (plan.pp > 1) g = std::max(g, stageMemoryFrom(t, model, plan, plan.pp - 1).total);
    return g;
}

MemoryEstimate memoryEstimate(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target,
                              bool flash)
{
    MemoryEstimate m;
    const int pp = std::max(plan.pp, 1);
    m.stages.reserve(size_t(pp));
    m.capacityGiB = cluster.gpu.memoryGiB;
    const PlanMemoryTerms t = planMemoryTerms(model, plan, target, flash);
    for (int i = 0; i < pp; ++i) {
        // A middle stage with as many layers as the one before differs from it only in the
        // micro-batches in flight: reuse its states.
        const StageMemory* prev = i >= 2 && i < pp - 1 ? &m.stages.back() : nullptr;
        if (prev && prev->layers == int(layersOnStage(model, plan, i))) {
            StageMemory s = *prev;
            s.stage = i;
            s.activations = stageActivations(t, plan, s.layers, i) / kGiB;
            finish(s);
            m.stages.push_back(s);
        } else {
            m.stages.push_back(stageMemoryFrom(t, model, plan, i));
        }
        const StageMemory& s = m.stages.back();
        if (s.total > m.totalGiB) {
            m.totalGiB = s.total;
            m.fullestStage = i;
        }
        m.hostGiB = std::max(m.hostGiB, s.host);
    }
    return m;
}

} // namespace meshwork
