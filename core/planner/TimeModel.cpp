#include "core/planner/TimeModel.h"

#include "core/planner/Calibration.h"
#include "core/planner/Links.h"
#include "core/planner/ModelStates.h"
#include "core/planner/StageLayout.h"
#include "core/planner/TrainerSupport.h"
#include "core/spec/Flops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace meshwork {

double matmulEfficiency(double M, double N, double K, double peakTflops)
{
    const double x0 = calib::kMatmulHalfSize * std::sqrt(std::max(peakTflops, 1.0) / calib::kMatmulReferenceTflops);
    auto g = [x0](double x) { return x / (x + x0); };
    return calib::kMatmulPeakFraction * g(M) * g(N) * g(K);
}

double hardwareFlopsPerToken(const ModelSpec& model, int64_t seq, Recompute recompute)
{
    const double base = trainingFlopsPerToken(model, seq);
    const double attnFwd = 4.0 * double(model.layers) * double(model.hidden) * double(seq);
    switch (recompute) {
    case Recompute::Full: return base + 2.0 * double(model.layers) * layerMatmulParamsPerGpu(model, 1) + attnFwd;
    case Recompute::Selective: return base + attnFwd;
    case Recompute::None: break;
    }
    return base;
}

namespace {

struct Work {
    double peak = 0;        // FLOP/s
    double hbm = 0;         // B/s effective
    double e = 2;           // compute precision bytes
    double r = 2;           // residual stream bytes
    double T = 0;           // tokens per micro-batch on this GPU (b s / cp)
    double t = 1;
};

// Forward seconds of the four GEMM groups of one layer on one GPU.
double layerGemmForward(const ModelSpec& m, const Work& w)
{
    const double C = double(m.hidden), F = double(m.ffn), KV = double(m.kvDim()), t = w.t;
    const double up = (m.ffnKind == FfnKind::SwiGlu ? 2 : 1) * F / t;
    const double gemms[4][2] = {{(C + 2 * KV) / t, C}, {C, C / t}, {up, C}, {C, F / t}};
    double s = 0;
    for (const auto& g : gemms) {
        const double flops = 2 * w.T * g[0] * g[1];
        s += flops / (w.peak * matmulEfficiency(w.T, g[0], g[1], w.peak / 1e12));
    }
    return s;
}

} // namespace

namespace {

// One layer's share of a micro-batch's time, and the head's (last stage only): a stage of L
// layers takes L times the first plus, when last, the second.
struct UnitCost {
    MicroBatchTime layer;
    double headCompute = 0;
    double headMemory = 0;
    double hostPerLayer = 0;    // the host's seconds to issue a layer's forward and backward
    double embeddingMemory = 0; // first stage only
    double embeddingTpComm = 0; // first stage only
    double headTpComm = 0;      // last stage only
};

UnitCost unitCost(const ModelSpec& m, const ClusterSpec& cluster, const Plan& plan, Target target, bool flash,
                  const Links& links)
{
    Work w;
    w.peak = cluster.gpu.peakTflops(plan.precision) * 1e12;
    w.hbm = cluster.gpu.hbmGBps * 1e9 * calib::kHbmEfficiency;
    w.e = plan.precision == Precision::Fp32 ? 4 : 2;
    w.r = target == Target::Meshwork ? 4 : w.e;
    const double cp = plan.cp > 0 ? plan.cp : 1;
    const double s = double(plan.seq);
    w.T = double(plan.microBatch) * s / cp;
    w.t = plan.tp > 0 ? plan.tp : 1;
    const double C = double(m.hidden), F = double(m.ffn), KV = double(m.kvDim());
    const double L = 1;
    const double V = double(m.paddedVocab > 0 ? m.paddedVocab : m.vocab);
    const bool sp = plan.sp && plan.tp > 1;
    UnitCost unit;
    MicroBatchTime& out = unit.layer;
    if (w.peak <= 0 || w.hbm <= 0) return unit;

    // Matmuls: backward = data gradient + weight gradient, the same shapes: 3x the forward.
    const double gemmFwd = layerGemmForward(m, w);
    out.compute = 3 * L * gemmFwd;
    const double headFlops = 2 * w.T * V / w.t * C;
    unit.headCompute = 3 * headFlops / (w.peak * matmulEfficiency(w.T, V / w.t, C, w.peak / 1e12));

    // Attention core: 4 T s C / t FLOPs forward (QK^T and AV over the whole sequence's keys).
    const double attnFlops = 4 * w.T * s * C / w.t;
    double attnFwd = 0, attnTrain = 0;
    if (flash) {
        attnFwd = attnFlops * calib::kCausalFraction / (w.peak * calib::kAttentionEfficiency);
        attnTrain = attnFwd * (1 + calib::kAttentionBackwardRatio);
    } else {
        // Batched GEMMs of depth head-dim over the full score matrix (no causal skipping),
        // plus the scores streamed through softmax and dropout.
        const double hd = double(m.headDim()), sq = s / cp;
        const double gemm = attnFlops / (w.peak * matmulEfficiency(sq, s, hd, w.peak / 1e12));
        const double scores = double(plan.microBatch) * double(m.heads) / w.t * sq * s;
        const double fwdBytes = scores * calib::kScoreElementsForward * w.e;
        const double bwdBytes = scores * calib::kScoreElementsBackward * w.e;
        attnFwd = gemm + fwdBytes / w.hbm;
        attnTrain = 3 * gemm + (fwdBytes + bwdBytes) / w.hbm;
    }
    out.attention = L * attnTrain;

    // Memory-bound work. Without SP the hidden-size elementwise work is replicated on every
    // TP rank; with SP each rank does 1/t of it.
    const double hidDiv = sp ? w.t : 1;
    const double memFwd = (w.T * C / hidDiv * calib::kHiddenElementsPerLayer * w.r
                           + w.T * F / w.t * calib::kFfnElementsPerLayer * w.e) / w.hbm;
    out.memoryBound = L * memFwd * (1 + calib::kBackwardMemoryRatio);
    // Cross-entropy over the logits: read 16-bit logits, write/read the fp32 copy and its
    // gradient, write the 16-bit gradient: ~16 B per logit. Our trainer (Calibration.h): without
    // tp, the whole model or a pipeline's last stage, the fused kernels
    // (kernels/cross_entropy.cu; the eager factor below is already in the figure).
    double lossBytes = 16;
    if (target == Target::Meshwork && w.t <= 1)
        lossBytes = calib::kFusedLossBytesPerLogit * w.e / 2 * calib::kEagerEfficiency;
    unit.headMemory = w.T * V / w.t * lossBytes / w.hbm;
    if (target == Target::Meshwork) {
        // The fp32 parameters' traffic, every micro-batch (Calibration.h): the matmul weights of
        // each layer and the head; the embedding's dense gradient on the first stage.
        const double perParam = plan.precision == Precision::Fp32 ? calib::kFp32AddBytesPerParam : calib::kCastBytesPerParam;
        out.memoryBound += layerMatmulParamsPerGpu(m, plan.tp) * perParam / w.hbm;
        if (plan.recompute == Recompute::Full && plan.precision != Precision::Fp32)
            out.memoryBound += layerMatmulParamsPerGpu(m, plan.tp) * 6 / w.hbm; // the forward's casts again
        unit.headMemory += V * C / w.t * perParam / w.hbm;
        unit.embeddingMemory = V * C / w.t * calib::kEmbeddingGradBytesPerParam / w.hbm;
    }

    // TP: two all-reduces (or all-gather + reduce-scatter with SP: same bus bytes) forward,
    // two backward per layer, of T x C activations (Narayanan et al. 2021 Section 3.2).
    const double tpBytes = w.T * C * w.e;
    double tpOne = allReduceSeconds(tpBytes, links.tp) * (1 - calib::kTpOverlap);
    out.tpComm = L * 4 * tpOne;
    if (target == Target::Meshwork && links.tp.size > 1) {
        // Our trainer (core/train/dist/TpOps.cpp, ParallelModel.cpp) all-reduces, blocking:
        // forward, the 16-bit outputs of the row-parallel projections (g); backward, the
        // gradients of the norms' outputs (f), which autocast keeps in fp32 (4 bytes); each
        // through a clone of the tensor (one read, one write). With sp: an all-gather and a
        // reduce-scatter each, the same bus bytes.
        const double stall = calib::kBlockingCollectiveStallS;
        const double fwdOne = allReduceSeconds(w.T * C * w.e, links.tp) + stall;
        const double bwdOne = allReduceSeconds(w.T * C * 4, links.tp) + stall;
        tpOne = fwdOne;
        out.tpComm = L * 2 * (fwdOne + bwdOne);
        const double cloneBytes = 2 * 2 * w.T * C * (w.e + 4);
        out.memoryBound += L * cloneBytes / w.hbm;
        // The vocabulary-parallel embedding sums its fp32 [B, T, C] output over tp (forward),
        // the head's input norm all-reduces its fp32 gradient (backward), and the vocabulary-
        // parallel cross-entropy all-reduces the rows' maxima and sums (two small ones).
        unit.embeddingTpComm = allReduceSeconds(w.T * C * 4, links.tp) + stall;
        unit.headTpComm = allReduceSeconds(w.T * C * 4, links.tp) + 2 * allReduceSeconds(w.T * 2 * 4, links.tp) + 3 * stall;
        // Megatron's vocabulary-parallel cross-entropy written as separate eager ops (TpOps.cpp)
        // streams each local fp32 logit ~10 times (cast, max, shift, exp, sum, divide; backward
        // scale, cast back): ~52 bytes where PyTorch's fused cross-entropy on one rank moves ~16.
        unit.headMemory += w.T * V / w.t * (52 - 16) / w.hbm;
    }

    // CP: ring exchange of K and V (cp - 1 hops) forward, K, V, dK, dV backward, hidden
    // behind the attention core when the link keeps up.
    if (links.cp.size > 1 && links.cp.GBps > 0) {
        const double kvBytes = 2 * w.T * KV / w.t * w.e;
        const double hops = double(links.cp.size - 1);
        const double comm = 3 * hops * (calib::kP2pLatencyS + kvBytes / (links.cp.GBps * 1e9));
        out.cpComm = L * std::max(0.0, comm - attnTrain);
    }

    // Recomputation repeats forward work in the backward pass.
    if (plan.recompute == Recompute::Full)
        out.recompute = L * (gemmFwd + attnFwd + memFwd + 2 * tpOne);
    else if (plan.recompute == Recompute::Selective)
        out.recompute = L * attnFwd; // the attention core only (Korthikanti et al.; our trainer checkpoints SDPA)
    if (target == Target::Meshwork) {
        // Eager LibTorch reaches a fixed share of the fused kernels' speed (Calibration.h).
        const double slow = 1 / calib::kEagerEfficiency;
        out.compute *= slow;
        out.attention *= slow;
        out.memoryBound *= slow;
        out.recompute *= slow;
        // The output head is one large GEMM a pass, at its own efficiency however it is issued.
        unit.headMemory *= slow;
        unit.embeddingMemory *= slow;
        // Tensor parallelism's collectives are issued by the same host thread: two forward,
        // two backward a layer (the embedding's and the head's about as many).
        unit.hostPerLayer = calib::kHostSecondsPerLayer + (w.t > 1 ? 4 * calib::kHostSecondsPerCollective : 0);
    }
    return unit;
}

// The host's seconds to issue a micro-batch's forward and backward on a stage.
double stageHostSeconds(const UnitCost& u, double layers, bool first, bool last)
{
    return (layers + (first ? calib::kHostLayersForEmbedding : 0) + (last ? calib::kHostLayersForHead : 0)) * u.hostPerLayer;
}

MicroBatchTime stageTime(const UnitCost& u, double layers, bool first, bool last)
{
    MicroBatchTime t;
    t.compute = layers * u.layer.compute + (last ? u.headCompute : 0);
    t.attention = layers * u.layer.attention;
    t.memoryBound = layers * u.layer.memoryBound + (first ? u.embeddingMemory : 0) + (last ? u.headMemory : 0);
    t.recompute = layers * u.layer.recompute;
    t.tpComm = layers * u.layer.tpComm + (first ? u.embeddingTpComm : 0) + (last ? u.headTpComm : 0);
    t.cpComm = layers * u.layer.cpComm;
    t.host = std::max(0.0, stageHostSeconds(u, layers, first, last) - t.device());
    return t;
}

// The data-parallel time our trainer (target meshwork) leaves on the critical path, per step;
// `total` gets the same before overlap.
double meshworkDpExposed(const ModelSpec& m, const Plan& plan, const StageShape& first, const UnitCost& unit,
                         const AxisLink& dp, const StateBytes& sb, double mb, double tmb, double& total)
{
    const double P = first.params();
    const double stall = calib::kBlockingCollectiveStallS;
    if (plan.zero <= 2) {
        // Buckets reduced as AccumulateGrad hooks find them final (GradientSync.cpp): all-reduced,
        // or under ZeRO-1/2 each reduced to the rank whose shard holds it (a reduce-scatter's
        // bytes); the part that the backward pass leaves for its end is exposed, the rest hides
        // under it as far as kDpOverlap says. ZeRO-1 and 2 then bring the updated shards to
        // every rank (below).
        auto reduce = [&](double bytes) {
            return plan.zero >= 1 ? reduceScatterSeconds(bytes, dp) : allReduceSeconds(bytes, dp);
        };
        const int64_t V = m.paddedVocab > 0 ? m.paddedVocab : m.vocab;
        double all = 0, last = 0, hidden = 0;
        double everyBackward = 0; // what partitioned ZeRO-2 reduces after each backward (below)
        if (gathersEmbeddingRows(plan, V)) {
            // The lookup's rows are gathered at the end of the backward (EmbeddingRowSync.h, fp32
            // rows and int64 ids); an untied wte leaves the buckets, a tied one's head part is
            // final at the start of the backward and hides with the rest.
            const double tokens = double(plan.microBatch * plan.seq * plan.microBatches());
            const double wte = double(V) * double(m.hidden) / std::max(plan.tp, 1);
            last = allGatherSeconds(dp.size * tokens * (m.hidden * 4.0 + 8.0), dp);
            hidden = reduce((P - (m.tiedEmbeddings ? 0 : wte)) * sb.gradComm);
            all = hidden + last;
            everyBackward = hidden; // the rows are gathered once, in the step's last backward
        } else {
            // The embedding's gradient is final only when the backward ends (the token
            // embedding's backward ends the pass; a tied head's contribution is summed into the
            // same leaf), so its buckets reduce after it.
            all = reduce(P * sb.gradComm);
            last = reduce(first.embeddingParams * sb.gradComm);
            hidden = all - last;
            everyBackward = all;
        }
        // What hides still slows the backward (kDpContention); what does not fit is exposed.
        const double room = calib::kDpOverlap * (2.0 / 3.0) * tmb;
        double rest = std::max(0.0, hidden - room) + calib::kDpContention * std::min(hidden, room);
        if (partitionsGradients(plan) && mb > 1) {
            // Partitioned ZeRO-2 reduces after every micro-batch: the earlier ones' reductions
            // run under the later micro-batches.
            const double more = (mb - 1) * everyBackward, under = calib::kDpOverlap * (mb - 1) * tmb;
            all += more;
            rest += std::max(0.0, more - under) + calib::kDpContention * std::min(more, under);
        }
        if (plan.zero == 0) {
            total = all;
            return last + rest;
        }
        // The updated shards are broadcast from their owners during the next forward (the
        // trainer's default, --param-gather overlap; ShardedOptimizer::overlapGather, every
        // ZeRO-1/2 plan: overlapsParameterGather): the embeddings' pieces, read first, are waited for;
        // the rest travels under the forward (a third of a micro-batch's time), slowing it as
        // a hidden reduction slows the backward.
        const double first0 = broadcastSeconds(first.embeddingParams * sb.weightComm, dp) + stall;
        const double after = std::max(0.0, P - first.embeddingParams) * sb.weightComm / (dp.GBps * 1e9);
        const double forward = tmb / 3;
        total = all + first0 + after;
        return last + rest + first0 + std::max(0.0, after - forward) + calib::kDpContention * std::min(after, forward);
    }
    // ZeRO-3 (Zero3.cpp), every micro-batch, units = embeddings, each layer, final norm + head:
    // forward: the embeddings' gather waits; each next unit's gather is prefetched during this
    // unit's forward (hidden when that is longer); a tied head gathers the embeddings again,
    // waiting. Backward: every unit is gathered again and its gradients reduce-scattered,
    // counted as waited for. The trainer now prefetches the next unit and keeps each
    // reduce-scatter in flight through the next unit's backward (Zero3.h), but the per-unit host
    // work costs GPT-2 about what that saves: on 2 x H200 this exposed model predicted 244,052
    // tokens/s per GPU against 240,786 measured for GPT-2, 33,892 against 36,070 for llama-1b
    // (docs/bench/gpu-h200x2-dp-study.txt), so it stays until measurements say how much hides.
    const double L = double(first.layers);
    const double layerFwd = unit.layer.total() / 3; // a layer's forward: a third of its forward + backward
    const double gEmb = allGatherSeconds(first.embeddingParams * sb.weightComm, dp) + stall;
    const double gLayer = allGatherSeconds(first.layerParams / std::max(L, 1.0) * sb.weightComm, dp);
    const double gHead = allGatherSeconds(first.headParams * sb.weightComm, dp);
    const double tied = m.tiedEmbeddings ? gEmb : 0;
    // The first layer's gather has only the embeddings' short forward to hide behind.
    const double forward = gEmb + gLayer + stall + (L - 1) * std::max(0.0, gLayer - layerFwd)
        + std::max(0.0, gHead - layerFwd) + tied;
    const double backward = gHead + tied + L * gLayer + gEmb + (L + 1) * stall
        + reduceScatterSeconds(first.embeddingParams * sb.gradComm, dp)
        + L * reduceScatterSeconds(first.layerParams / std::max(L, 1.0) * sb.gradComm, dp)
        + reduceScatterSeconds(first.headParams * sb.gradComm, dp) + (L + 2) * stall;
    total = mb * (gEmb + L * gLayer + stall + gHead + tied + backward); // every forward gather, none hidden
    return mb * (forward + backward);
}

} // namespace

MicroBatchTime microBatchTime(const ModelSpec& m, const ClusterSpec& cluster, const Plan& plan,
                              Target target, int stage, bool flash)
{
    const UnitCost u = unitCost(m, cluster, plan, target, flash, planLinks(cluster, plan));
    return stageTime(u, double(layersOnStage(m, plan, stage)), stage == 0, stage == std::max(plan.pp, 1) - 1);
}

namespace {

// The collectives our trainer issues for data parallelism in a step over a stage of `layers`:
// its buckets (kDefaultBucketMb) are reduced as they become final, those of one parameter and
// those final together as one collective (GradientSync.h), so a layer takes its bytes over the
// larger of a bucket and its largest matrix (GPT-2 124M: about one a layer, LLaMA-1B four; 16
// and 61 in all in `meshwork-train --profile` on 2 H200s), and the embedding and the head one
// each; once a step, or after every micro-batch under partitioned ZeRO-2. ZeRO-1/2 then
// broadcast the updated shards, about a collective a layer. ZeRO-3's gathers and
// reduce-scatters (three a unit and micro-batch) are left out: its runs wait for the device,
// not the host (GPT-2 124M on 2 H200s: 5 ms a step at the step's end, 286,361 tokens/s per
// GPU where 42 more collectives a micro-batch on the host would give 242,000).
double dpCollectivesPerStep(const ModelSpec& m, const Plan& plan, double layers, double mb)
{
    if (plan.zero >= 3) return 0;
    const double t = std::max(plan.tp, 1);
    const double largest = double(m.hidden) * double(std::max(m.ffn, m.hidden)) / t * 4;
    const double perLayer = std::max(1.0, std::round(layerParamsPerGpu(m, plan.tp) * 4
                                                     / std::max(kDefaultBucketMb * 1024 * 1024, largest)));
    const double reductions = (partitionsGradients(plan) ? mb : 1) * (layers * perLayer + 2);
    return reductions + (plan.zero >= 1 ? layers + 2 : 0);
}

} // namespace

StageCost stageCost(const ModelSpec& m, const ClusterSpec& cluster, const Plan& plan, Target target, bool flash)
{
    const UnitCost u = unitCost(m, cluster, plan, target, flash, planLinks(cluster, plan));
    StageCost c;
    c.perLayer = stageTime(u, 1, false, false).device();
    c.embedding = stageTime(u, 0, true, false).device();
    c.head = stageTime(u, 0, false, true).device();
    c.hostPerLayer = u.hostPerLayer;
    c.hostEmbedding = calib::kHostLayersForEmbedding * u.hostPerLayer;
    c.hostHead = calib::kHostLayersForHead * u.hostPerLayer;
    return c;
}

TimeEstimate timeEstimate(const ModelSpec& m, const ClusterSpec& cluster, const Plan& plan, Target target,
                          bool flash, std::vector<std::string>* warnings)
{
    TimeEstimate te;
    const int pp = std::max(plan.pp, 1), vpp = std::max(plan.vpp, 1);
    const double mb = double(std::max<int64_t>(plan.microBatches(), 1));
    const Links links = planLinks(cluster, plan);

    // The slowest stage sets the pace: with an even split the first (embedding) or the last
    // (head); with stage-layers any.
    const UnitCost unit = unitCost(m, cluster, plan, target, flash, links);
    MicroBatchTime slow = stageTime(unit, double(layersOnStage(m, plan, 0)), true, pp == 1);
    int slowest = 0;
    for (int i = 1; i < pp; ++i) {
        const MicroBatchTime t = stageTime(unit, double(layersOnStage(m, plan, i)), false, i == pp - 1);
        if (t.total() > slow.total()) slow = t, slowest = i;
    }
    const double tmb = slow.total();
    te.compute = mb * slow.compute;
    te.attention = mb * slow.attention;
    te.memoryBound = mb * slow.memoryBound;
    te.recompute = mb * slow.recompute;
    te.tpComm = mb * slow.tpComm;
    te.cpComm = mb * slow.cpComm;
    te.host = mb * slow.host;

    // Pipeline bubble (Narayanan et al. 2021 Section 2.2): (pp - 1) / (vpp m) of the ideal
    // time m t_mb, i.e. (pp - 1)/vpp micro-batch times.
    te.bubble = pp > 1 ? double(pp - 1) / vpp * tmb : 0;

    // Pipeline sends: each micro-batch crosses every chunk boundary forward and backward;
    // Megatron's scatter/gather sends 1/t of the activation per TP rank.
    if (pp > 1 && links.pp.GBps > 0) {
        const double e = plan.precision == Precision::Fp32 ? 4 : 2;
        const double bytes = double(plan.microBatch) * double(plan.seq) / std::max(plan.cp, 1)
            * double(m.hidden) * e / std::max(plan.tp, 1);
        const double one = calib::kP2pLatencyS + bytes / (links.pp.GBps * 1e9);
        // On the critical path: the sends of every micro-batch chunk plus the fill and drain.
        te.ppComm = 2 * (mb * vpp + pp - 1) * one;
    }

    // Data parallel / ZeRO collectives over the parameters of the fullest stage.
    const double lp = layerParamsPerGpu(m, plan.tp), lmp = layerMatmulParamsPerGpu(m, plan.tp);
    const StageShape first = stageShape(m, plan, 0, lp, lmp);
    double P = first.params();
    for (int i = 1; i < pp; ++i) P = std::max(P, stageShape(m, plan, i, lp, lmp).params());
    // sb.gradComm: the bytes per gradient element the dp reduction moves (fp32, or bf16 copies
    // with grad-reduce bf16); the parameter all-gathers move sb.weightComm either way.
    const StateBytes sb = stateBytes(target, plan);
    const double dp = std::max(plan.dp, 1);
    if (links.dp.size > 1) {
        double perStep = 0, perMicro = 0;
        switch (plan.zero) {
        case 0:
            perStep = allReduceSeconds(P * sb.gradComm, links.dp);
            break;
        case 1:
        case 2:
            // Both targets accumulate the micro-batches' gradients in a full buffer and
            // reduce-scatter once per step (Megatron's distributed optimizer; our trainer's
            // GradientSync reduces each bucket to its owner), then gather the updated parameters.
            // (Our trainer's partitioned ZeRO-2 reduces every micro-batch: meshworkDpExposed.)
            perStep = reduceScatterSeconds(P * sb.gradComm, links.dp) + allGatherSeconds(P * sb.weightComm, links.dp);
            break;
        default:
            // ZeRO-3: gather the parameters for the forward and again for the backward, and
            // reduce-scatter the gradients, every micro-batch.
            perMicro = 2 * allGatherSeconds(P * sb.weightComm, links.dp) + reduceScatterSeconds(P * sb.gradComm, links.dp);
            break;
        }
        te.dpCommTotal = perStep + mb * perMicro;
        // Per-step reductions hide under the last micro-batch's backward (2/3 of it, and the
        // pipeline's cool-down); per-micro-batch traffic under every micro-batch's compute.
        const double window = calib::kDpOverlap * ((2.0 / 3.0) * tmb * (perStep > 0 ? 1 : 0)
                                                   + (perMicro > 0 ? mb * tmb : 0));
        te.dpComm = std::max(0.0, te.dpCommTotal - window);
        if (target == Target::Meshwork)
            te.dpComm = meshworkDpExposed(m, plan, first, unit, links.dp, sb, mb, tmb, te.dpCommTotal);
    }

    // Optimizer step: a memory-bound sweep over the local shard (read param, grad and states,
    // write param and states; Megatron also writes the 16-bit copy), grad-norm clipping reads
    // the gradients once more.
    const double shard = P / (plan.zero >= 1 ? dp : 1);
    const double hbm = cluster.gpu.hbmGBps * 1e9 * calib::kHbmEfficiency;
    const double perParam = 2 * (4 + sb.optimizer) + sb.gradients + sb.gradients
        + (target == Target::Megatron && plan.precision != Precision::Fp32 ? 2 : 0);
    double offloaded = 0;
    if (plan.offload != Offload::None) offloaded = std::clamp(plan.offloadFraction, 0.0, 1.0);
    te.optimizer = hbm > 0 ? shard * (1 - offloaded) * perParam / hbm : 0;
    if (offloaded > 0) {
        // CPU Adam on the host share, the gradients down and the parameters back up over PCIe.
        te.optimizer += shard * offloaded / calib::kCpuAdamParamsPerS
            + shard * offloaded * (sb.gradients + sb.weightComm) / (calib::kPcieGBps * 1e9);
        if (plan.offload == Offload::OptimizerParams) {
            // Offloaded parameter shards are fetched for the forward and the backward of every
            // micro-batch (ZeRO-Infinity).
            const double pshard = P / (plan.zero >= 3 ? dp : 1);
            te.optimizer += mb * 2 * pshard * offloaded * sb.weights / (calib::kPcieGBps * 1e9);
        }
    }

    // Our trainer's reductions also stream the gradients through HBM (fp32, 4 bytes) on the
    // critical path, counted with the collectives they serve: dp and ZeRO-1/2 reduce in place
    // (the 1/dp of the mean rides on the loss, DistTrainer.cpp) and ZeRO-1/2 broadcast the
    // updated shards in place (the blocking all-gather's staging copy is not modelled: it is not
    // the default); ZeRO-3 zeroes each unit's full
    // gradient buffer before its backward and adds the scaled shard into the local gradients
    // (2 reads + 1 write), every micro-batch (Zero3.cpp).
    // With grad-reduce bf16 the reduction travels as a bf16 copy of the buffer: casting it down
    // reads 4 and writes 2 bytes per element; an all-reduce's sum is copied back (reads 2,
    // writes 4), a reduce's only on the shard's owner; ZeRO-3 reads its shard back as bf16.
    double dpMemory = 0;
    if (target == Target::Meshwork && links.dp.size > 1 && hbm > 0) {
        const double b = sb.gradients;
        if (plan.zero == 0) dpMemory = 0;
        else if (plan.zero <= 2) dpMemory = 0; // broadcast in place, no staging
        else dpMemory = mb * (P * b + P / dp * 3 * b) / hbm;
        if (sb.gradComm < b) {
            const double down = P * (b + sb.gradComm);
            double cast = 0;
            if (plan.zero == 0) cast = down + P * (sb.gradComm + b);
            else if (plan.zero <= 2) cast = down + P / dp * (sb.gradComm + b);
            else cast = mb * (down - P / dp * (b - sb.gradComm));
            dpMemory += cast / hbm;
        }
        te.dpComm += dpMemory;
        te.dpCommTotal += dpMemory;
    }

    // The host's work once a step (the optimizer's launches, the loss's sync and the restart
    // after it) and the data-parallel collectives, which the backward's host thread issues too
    // (c10d's host work, Calibration.h): where the host sets the pace, they lengthen the step.
    if (target == Target::Meshwork && unit.hostPerLayer > 0) {
        const double layers = double(layersOnStage(m, plan, slowest));
        const double collectives = links.dp.size > 1 ? dpCollectivesPerStep(m, plan, layers, mb) : 0;
        const double host = mb * stageHostSeconds(unit, layers, slowest == 0, slowest == pp - 1)
            + collectives * calib::kHostSecondsPerCollective + calib::kHostSecondsPerStep;
        te.host = std::max(te.host, host - mb * slow.device());
    }

    te.step = mb * slow.device() + te.host + te.bubble + te.ppComm + te.dpComm + te.optimizer;

    if (warnings) {
        for (const AxisLink* l : {&links.tp, &links.cp, &links.dp, &links.pp})
            if (l->size > 1 && l->GBps <= 0) {
                warnings->push_back(std::string("the cluster gives no ") + (l->crossesNodes ? "inter" : "intra")
                                    + "-node bandwidth: communication over that link is not counted; set it (--inter-gbps / --intra-gbps)");
                break;
            }
        if (links.tp.crossesNodes)
            warnings->push_back("tp = " + std::to_string(plan.tp) + " spans nodes (" + std::to_string(cluster.gpusPerNode)
                                + " GPUs per node): tensor-parallel collectives run on the inter-node network; keep tp <= "
                                + std::to_string(cluster.gpusPerNode));
        if (links.cp.crossesNodes)
            warnings->push_back("cp = " + std::to_string(plan.cp) + " spans nodes: the K/V ring runs on the inter-node network");
        if (plan.offload != Offload::None)
            warnings->push_back("offload moves optimizer work to the host: each step waits for PCIe transfers and CPU Adam");
        if (target == Target::Meshwork && te.step > 0 && te.host > 0.1 * te.step) {
            char perLayer[32];
            std::snprintf(perLayer, sizeof perLayer, "%.1f ms", calib::kHostSecondsPerLayer * 1e3);
            warnings->push_back("the GPUs wait for the host " + std::to_string(int(std::lround(100 * te.host / te.step)))
                                + "% of the step: meshwork-train issues its ops one by one (about " + perLayer
                                + " of host time a layer"
                                + (plan.tp > 1 ? ", and tensor parallelism's collectives, four a layer" : "")
                                + (links.dp.size > 1 ? ", and the gradient reductions" : "")
                                + "), so a larger micro-batch gives the GPUs more work per op");
        }
        if (pp > 1 && mb < pp)
            warnings->push_back("only " + std::to_string(int64_t(mb)) + " micro-batches for pp = " + std::to_string(pp)
                                + ": the pipeline bubble is " + std::to_string(int(100 * te.bubble / te.step))
                                + "% of the step; raise the global batch or lower the micro-batch");
    }
    return te;
}

} // namespace meshwork
