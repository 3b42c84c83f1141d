// Memory terms react as they must: ZeRO shards by dp, recomputation and SP shrink
// activations, the first pipeline stage holds more micro-batches than the last, offload
// moves bytes to the host, the last stage holds the logits.
#include "PlannerFixtures.h"

#include "core/planner/Activations.h"
#include "core/planner/Calibration.h"
#include "core/planner/MemoryModel.h"
#include "core/planner/StageLayout.h"
#include "core/spec/Flops.h"

#include <algorithm>
#include <cmath>
#include <string>

using namespace meshwork;
using namespace meshwork::fixtures;

namespace {

void addTargets()
{
    QTest::addColumn<QString>("target");
    QTest::newRow("meshwork") << "meshwork";
    QTest::newRow("megatron") << "megatron";
}

bool near(double a, double b, double rel = 1e-9) { return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)); }

// LLaMA-2 7B on 4 nodes x 8 H100, dp 32: small enough to vary one knob at a time.
Estimate llama7b(Target target, const std::function<void(Plan&)>& change)
{
    Plan p = plan(32, 1, 1, 1, 256, 4096);
    change(p);
    return estimate(model("llama2-7b"), cluster("h100-sxm", 4), p, target);
}

// A measured peak against the planner's, logged: within the issue's 10%.
bool withinIssueTolerance(const char* what, double predicted, double measured)
{
    qInfo("%s: predicted %.2f GiB, measured %.2f (%+.1f%%)", what, predicted, measured, 100 * (predicted / measured - 1));
    return std::abs(predicted / measured - 1) < 0.10;
}

} // namespace

class TestMemoryModel : public QObject {
    Q_OBJECT
private slots:
    void zeroShardsByDp_data() { addTargets(); }
    void zeroShardsByDp()
    {
        QFETCH(QString, target);
        const Target t = targetFromName(target);
        const int dp = 32;
        const StageMemory z0 = llama7b(t, [](Plan&) {}).memory.stages[0];
        const StageMemory z1 = llama7b(t, [](Plan& p) { p.zero = 1; }).memory.stages[0];
        const StageMemory z2 = llama7b(t, [](Plan& p) { p.zero = 2; }).memory.stages[0];
        const StageMemory z3 = llama7b(t, [](Plan& p) { p.zero = 3; }).memory.stages[0];
        // ZeRO-1: optimizer states (and masters) / dp; gradients and weights unchanged.
        QVERIFY(z0.optimizer > 0);
        QVERIFY(near(z1.optimizer, z0.optimizer / dp));
        QVERIFY(near(z1.gradients, z0.gradients));
        QVERIFY(near(z1.weights, z0.weights));
        // ZeRO-2: gradients / dp as well. Our trainer's ZeRO-2 of a whole model keeps its shard's
        // sums and the gradients in flight, at most the largest tensor (LLaMA-2's 131M-element
        // head) with 16 25 MB buckets beside it (GradientSync.h), which count only beyond the
        // logits' peak (none at 4 x 4096 tokens a micro-batch); under pipeline parallelism it keeps
        // the whole fp32 buffer, as its ZeRO-1 does, and the estimate says so.
        auto warnsOfWholeBuffer = [](const Estimate& e) {
            return std::any_of(e.warnings.begin(), e.warnings.end(), [](const std::string& w) {
                return w.find("keeps the whole fp32 gradient buffer") != std::string::npos;
            });
        };
        const double gib = 1024.0 * 1024 * 1024;
        QVERIFY(!warnsOfWholeBuffer(llama7b(t, [](Plan& p) { p.zero = 2; })));
        if (t == Target::Meshwork) {
            const ModelSpec m7 = model("llama2-7b");
            const double inFlight = 4.0 * (double(m7.paddedVocab) * double(m7.hidden) + 16 * 25.0 * 1024 * 1024 / 4) / gib;
            auto longer = [&](int zero) {
                return llama7b(t, [&](Plan& p) { p.zero = zero; p.microBatch = 4; }).memory.stages[0];
            };
            const StageMemory long0 = longer(0), long2 = longer(2);
            QVERIFY(long2.logits > inFlight);
            QVERIFY(near(long2.gradients, long0.gradients / dp));
            // 128 tokens a micro-batch: small logits, the gradients in flight stand above them.
            auto shortSeq = [&](int zero) {
                return llama7b(t, [&](Plan& p) { p.zero = zero; p.seq = 128; p.microBatch = 1; }).memory.stages[0];
            };
            const StageMemory short0 = shortSeq(0), short2 = shortSeq(2);
            QVERIFY(short2.logits < inFlight);
            QVERIFY(near(short2.gradients, short0.gradients / dp + inFlight - short2.logits));
            const Estimate pipedZ1 = llama7b(t, [](Plan& p) { p.zero = 1; p.dp = 16; p.pp = 2; });
            const Estimate pipedZ2 = llama7b(t, [](Plan& p) { p.zero = 2; p.dp = 16; p.pp = 2; });
            QVERIFY(pipedZ2.valid);
            QVERIFY(near(pipedZ2.memory.stages[0].gradients, pipedZ1.memory.stages[0].gradients));
            QVERIFY2(warnsOfWholeBuffer(pipedZ2), "the estimate says that ZeRO-2 under a pipeline saves no gradient memory");
            // Over tp 2 the shard is of the tp rank's half: half the gradients of dp 16 x tp 1.
            const Estimate tpZ2 = llama7b(t, [](Plan& p) { p.zero = 2; p.dp = 16; p.tp = 2; });
            const Estimate tpZ0 = llama7b(t, [](Plan& p) { p.zero = 0; p.dp = 16; p.tp = 2; });
            QVERIFY(!warnsOfWholeBuffer(tpZ2));
            QVERIFY(near(tpZ2.memory.stages[0].gradients, tpZ0.memory.stages[0].gradients / 16));
        } else {
            QVERIFY(near(z2.gradients, z0.gradients / dp));
            QVERIFY(!warnsOfWholeBuffer(llama7b(t, [](Plan& p) { p.zero = 2; p.dp = 16; p.pp = 2; })));
        }
        QVERIFY(near(z2.optimizer, z0.optimizer / dp));
        // ZeRO-3: the parameters too; the gathered-layer buffer appears.
        if (t == Target::Meshwork) {
            // Our trainer's units free the fp32 parameters, but autograd keeps the autocast copy
            // of every matmul weight for the backward pass (core/train/dist/Zero3.h), as without
            // ZeRO-3: exactly the fp32 part is sharded.
            const double params = double(model("llama2-7b").allocatedParameterCount());
            QVERIFY(near(z0.weights - z3.weights, params * 4 * (1 - 1.0 / dp) / (1024.0 * 1024 * 1024)));
        } else {
            QVERIFY(z3.weights < z0.weights / dp * 1.0001 + 1e-9);
        }
        if (t == Target::Meshwork) {
            // Gathered units never meet the logits' peak (the cross-entropy's backward runs
            // before the head unit is gathered again): with long sequences the logits dominate
            // and the buffers are the communicators' alone; with short ones a gathered layer and
            // its gradients stand above the logits and show in the buffers.
            auto withShape = [&](int zero, int64_t seq, int64_t mb) {
                return llama7b(t, [&](Plan& p) { p.zero = zero; p.seq = seq; p.microBatch = mb; }).memory.stages[0];
            };
            QVERIFY(near(withShape(3, 4096, 8).buffers, withShape(0, 4096, 8).buffers));
            QVERIFY(withShape(3, 128, 1).buffers > withShape(0, 128, 1).buffers + 1.0);
            // There a layer's backward is the peak (Zero3.h): its fp32 parameters and gradients,
            // the prefetched parameters of the layer whose backward comes next, the gradients of
            // the one whose backward came before, still being reduced (LLaMA-2's head is smaller
            // than a layer), and one reduce-scatter output slice.
            const StageMemory shortZ3 = withShape(3, 128, 1), shortZ0 = withShape(0, 128, 1);
            const double layer = layerParamsPerGpu(model("llama2-7b"), 1), gib = 1024.0 * 1024 * 1024;
            QVERIFY(near((shortZ3.buffers - shortZ0.buffers + shortZ3.logits) * gib, 4 * 4 * layer + 4 * layer / dp, 1e-9));
        } else {
            QVERIFY(z3.buffers > z2.buffers);
        }
        QVERIFY(z0.total > z1.total && z1.total > z2.total && z2.total > z3.total);
    }

    void meshworkMirrorsTrainerAllocation()
    {
        // fp32 parameters (4 B) + a 2 B autocast copy of the matmul weights, fp32 gradients
        // (4 B), AdamW 8 B; LARS keeps one state (4 B).
        const ModelSpec m = model("gpt2-124m");
        const ClusterSpec c = cluster("h100-sxm", 1, 1);
        Plan p = plan(1, 1, 1, 4, 4, 1024);
        const StageMemory s = estimate(m, c, p, Target::Meshwork).memory.stages[0];
        const double params = double(m.allocatedParameterCount());
        // Matmul weights: the block linears and the (tied) head, cast once per forward.
        const double matmul = double(matmulParameters(m));
        const double gib = 1024.0 * 1024 * 1024;
        QVERIFY(near(s.gradients, params * 4 / gib));
        QVERIFY(near(s.optimizer, params * 8 / gib));
        QVERIFY(near(s.weights, (params * 4 + matmul * 2) / gib));
        QCOMPARE(s.context, calib::kCudaContextGiB);
        QVERIFY(near(s.reserve, (s.total - s.context - s.reserve) * calib::kAllocatorReserveFraction, 1e-9));
        p.optimizer = Optimizer::Lars;
        QVERIFY(near(estimate(m, c, p, Target::Meshwork).memory.stages[0].optimizer, params * 4 / gib));
        p.precision = Precision::Fp32;
        QVERIFY(near(estimate(m, c, p, Target::Meshwork).memory.stages[0].weights, params * 4 / gib));
    }

    void megatronStateBytes()
    {
        // 2 B weights + 4 B fp32 gradients + 12 B master and Adam: 18 B/param; the distributed
        // optimizer (ZeRO-1) leaves 6 + 12/dp.
        const ModelSpec m = model("llama2-7b");
        const StageMemory z0 = llama7b(Target::Megatron, [](Plan&) {}).memory.stages[0];
        const StageMemory z1 = llama7b(Target::Megatron, [](Plan& p) { p.zero = 1; }).memory.stages[0];
        const double gib = 1024.0 * 1024 * 1024, params = double(m.allocatedParameterCount());
        QVERIFY(near((z0.weights + z0.gradients + z0.optimizer) * gib, 18 * params, 1e-6));
        QVERIFY(near((z1.weights + z1.gradients + z1.optimizer) * gib, (6 + 12.0 / 32) * params, 1e-6));
    }

    void recomputeLowersActivations_data() { addTargets(); }
    void recomputeLowersActivations()
    {
        QFETCH(QString, target);
        const Target t = targetFromName(target);
        const double none = llama7b(t, [](Plan&) {}).memory.stages[0].activations;
        const double sel = llama7b(t, [](Plan& p) { p.recompute = Recompute::Selective; }).memory.stages[0].activations;
        const double full = llama7b(t, [](Plan& p) { p.recompute = Recompute::Full; }).memory.stages[0].activations;
        QVERIFY2(none > sel && sel > full, qPrintable(QString("none %1 selective %2 full %3").arg(none).arg(sel).arg(full)));
        QVERIFY(full < none / 4);
    }

    void sequenceParallelDivides_data() { addTargets(); }
    void sequenceParallelDivides()
    {
        QFETCH(QString, target);
        const Target t = targetFromName(target);
        auto tp4 = [](Plan& p) { p.tp = 4; p.dp = 8; };
        const double noSp = llama7b(t, tp4).memory.stages[0].activations;
        const double sp = llama7b(t, [&](Plan& p) { tp4(p); p.sp = true; }).memory.stages[0].activations;
        QVERIFY(sp < noSp);
        // Per layer with SP every term is split by t: exactly 1/t of the unsplit layer.
        ActivationShape x = activationShape(model("llama2-7b"), plan(8, 1, 1, 1, 8, 4096));
        const double whole = layerActivationBytes(t, x, Precision::Bf16, Recompute::None, true);
        x.t = 4;
        x.sp = true;
        QVERIFY(near(layerActivationBytes(t, x, Precision::Bf16, Recompute::None, true), whole / 4));
    }

    void contextParallelDivides()
    {
        const double cp1 = llama7b(Target::Megatron, [](Plan&) {}).memory.stages[0].activations;
        const double cp2 = llama7b(Target::Megatron, [](Plan& p) { p.cp = 2; p.dp = 16; }).memory.stages[0].activations;
        QVERIFY(cp2 < cp1 * 0.51);
    }

    void pipelineInFlight_data() { addTargets(); }
    void pipelineInFlight()
    {
        QFETCH(QString, target);
        const Target t = targetFromName(target);
        // LLaMA-2 7B, pp 4 (8 layers each), 16 micro-batches: 1F1B keeps pp - i in flight.
        Plan p = plan(8, 1, 4, 1, 128, 4096);
        const Estimate e = estimate(model("llama2-7b"), cluster("h100-sxm", 4), p, t);
        QCOMPARE(int(e.memory.stages.size()), 4);
        const auto& s = e.memory.stages;
        QVERIFY(s[0].activations > s[1].activations && s[1].activations > s[2].activations
                && s[2].activations > s[3].activations);
        // Our pipeline also keeps each forward's fp32 output [b, s, h] until its backward: one
        // per micro-batch in flight, none on the last stage, whose output is the loss.
        const double held = t == Target::Meshwork ? 4.0 * 1 * 4096 * 4096 / (1024.0 * 1024 * 1024) : 0;
        QVERIFY(near((s[0].activations - 4 * held) / s[3].activations, 4.0));
        QVERIFY(near((s[1].activations - 3 * held) / s[3].activations, 3.0));
        // Embedding on the first stage, head and logits on the last.
        QVERIFY(s[0].weights > s[1].weights);
        QVERIFY(s[3].weights > s[1].weights);
        QCOMPARE(s[0].logits, 0.0);
        QVERIFY(s[3].logits > 0);
        QCOMPARE(e.memory.fullestStage, 0);
    }

    // The allocator's peak per pipeline stage as meshwork-train measured it on 4 and 2 H200s
    // (bf16, the last stage with the loss kernels): every stage's prediction stays within the
    // issue's 10%. pp4: docs/bench gpu-h200x4-layouts-token-batch.txt call 1 (its last stages,
    // 3.39 and 12.27 GiB, are what the last stages of pp2 with stage-layers 9,3 and 12,4 measured
    // before, which hold the same layers, the head and one micro-batch in flight). pp2:
    // gpu-h200x2-loss-kernels.txt call 1.
    void pipelineStagesMatchMeasuredPeaks_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("pp");
        QTest::addColumn<int>("microBatch");
        QTest::addColumn<int>("seq");
        QTest::addColumn<QList<double>>("measured");
        QTest::newRow("gpt2 pp4") << "gpt2-124m" << 4 << 8 << 1024 << QList<double>{3.79, 2.71, 2.08, 3.39};
        QTest::newRow("llama-1b pp4") << "llama-1b" << 4 << 2 << 2048 << QList<double>{14.88, 9.43, 7.80, 12.27};
        QTest::newRow("gpt2 pp2") << "gpt2-124m" << 2 << 8 << 1024 << QList<double>{4.10, 4.34};
        QTest::newRow("llama-1b pp2") << "llama-1b" << 2 << 2 << 2048 << QList<double>{18.89, 17.95};
    }
    void pipelineStagesMatchMeasuredPeaks()
    {
        QFETCH(QString, name);
        QFETCH(int, pp);
        QFETCH(int, microBatch);
        QFETCH(int, seq);
        QFETCH(QList<double>, measured);
        // gpu_dist_bench.sh: 4 micro-batches per stage and step.
        Plan p = plan(1, 1, pp, microBatch, int64_t(microBatch) * 4 * pp, seq);
        p.precision = Precision::Bf16;
        const Estimate e = estimate(model(name.toUtf8().constData()), cluster("h200", 1, pp), p, Target::Meshwork);
        QCOMPARE(int(e.memory.stages.size()), pp);
        for (int i = 0; i < pp; ++i) {
            const double predicted = e.memory.stages[size_t(i)].allocated();
            QVERIFY(withinIssueTolerance(("stage " + std::to_string(i)).c_str(), predicted, measured[i]));
        }
    }

    // The allocator's peak per rank under data and tensor parallelism as meshwork-train measured
    // it with NCCL (bf16, gpu_dist_bench.sh's layouts: GPT-2 124M at 8 x 1024 a GPU, LLaMA-1B at
    // 2 x 2048; tp's ranks share one micro-batch): within the issue's 10% on every row. 4 H200s:
    // docs/bench gpu-h200x4-layouts-token-batch.txt call 1; 2 H200s: gpu-h200x2-loss-kernels.txt
    // call 5. Every rank of these measured the same peak. And at the micro-batch that fills a card
    // (GPT-2 32 x 1024, LLaMA-1B 8 x 2048, one micro-batch a step).
    void dataAndTensorParallelRanksMatchMeasuredPeaks_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("dp");
        QTest::addColumn<int>("tp");
        QTest::addColumn<int>("zero");
        QTest::addColumn<double>("measured");
        QTest::addColumn<int>("microBatch"); // 0: the layouts' (GPT-2 8 x 1024, llama-1b 2 x 2048)
        const char* gpt2 = "gpt2-124m";
        const char* llama = "llama-1b";
        QTest::newRow("gpt2 1 GPU") << gpt2 << 1 << 1 << 0 << 6.26 << 0;
        QTest::newRow("gpt2 dp4") << gpt2 << 4 << 1 << 0 << 6.29 << 0;
        QTest::newRow("gpt2 dp4 zero2") << gpt2 << 4 << 1 << 2 << 5.24 << 0;
        QTest::newRow("gpt2 dp4 zero3") << gpt2 << 4 << 1 << 3 << 4.88 << 0;
        QTest::newRow("gpt2 tp4") << gpt2 << 1 << 4 << 0 << 2.89 << 0;
        QTest::newRow("gpt2 dp2") << gpt2 << 2 << 1 << 0 << 6.29 << 0;
        QTest::newRow("gpt2 dp2 zero2") << gpt2 << 2 << 1 << 2 << 5.59 << 0;
        QTest::newRow("gpt2 dp2 zero3") << gpt2 << 2 << 1 << 3 << 5.35 << 0;
        QTest::newRow("gpt2 tp2") << gpt2 << 1 << 2 << 0 << 4.79 << 0;
        QTest::newRow("llama-1b 1 GPU") << llama << 1 << 1 << 0 << 29.29 << 0;
        QTest::newRow("llama-1b dp4") << llama << 4 << 1 << 0 << 29.29 << 0;
        QTest::newRow("llama-1b dp4 zero2") << llama << 4 << 1 << 2 << 18.93 << 0;
        QTest::newRow("llama-1b dp4 zero3") << llama << 4 << 1 << 3 << 16.21 << 0;
        QTest::newRow("llama-1b tp4") << llama << 1 << 4 << 0 << 9.31 << 0;
        QTest::newRow("llama-1b dp2") << llama << 2 << 1 << 0 << 29.29 << 0;
        QTest::newRow("llama-1b dp2 zero2") << llama << 2 << 1 << 2 << 22.39 << 0;
        QTest::newRow("llama-1b dp2 zero3") << llama << 2 << 1 << 3 << 20.82 << 0;
        QTest::newRow("llama-1b tp2") << llama << 1 << 2 << 0 << 16.95 << 0;
        // The micro-batch that fills a card (docs/bench/gpu-h200x4-dp-ab.txt calls 1-4).
        QTest::newRow("gpt2 32 x 1024, 1 GPU") << gpt2 << 1 << 1 << 0 << 18.58 << 32;
        QTest::newRow("gpt2 32 x 1024, dp4") << gpt2 << 4 << 1 << 0 << 18.58 << 32;
        QTest::newRow("gpt2 32 x 1024, dp4 zero2") << gpt2 << 4 << 1 << 2 << 17.54 << 32;
        QTest::newRow("llama-1b 8 x 2048, 1 GPU") << llama << 1 << 1 << 0 << 54.83 << 8;
        QTest::newRow("llama-1b 8 x 2048, dp4") << llama << 4 << 1 << 0 << 54.83 << 8;
        QTest::newRow("llama-1b 8 x 2048, dp4 zero2") << llama << 4 << 1 << 2 << 44.47 << 8;
    }
    void dataAndTensorParallelRanksMatchMeasuredPeaks()
    {
        QFETCH(QString, name);
        QFETCH(int, dp);
        QFETCH(int, tp);
        QFETCH(int, zero);
        QFETCH(double, measured);
        QFETCH(int, microBatch);
        const bool gpt2 = name.startsWith("gpt2");
        if (microBatch == 0) microBatch = gpt2 ? 8 : 2;
        const int64_t seq = gpt2 ? 1024 : 2048;
        Plan p = plan(dp, tp, 1, microBatch, int64_t(microBatch) * dp, seq);
        p.zero = zero;
        p.precision = Precision::Bf16;
        const Estimate e = estimate(model(name.toUtf8().constData()), cluster("h200", 1, dp * tp), p, Target::Meshwork);
        QVERIFY2(e.valid, name.toUtf8().constData());
        const double predicted = e.memory.stages[0].allocated();
        QVERIFY(withinIssueTolerance("rank", predicted, measured));
    }

    void everyStageAsComputedAlone()
    {
        // memoryEstimate reuses a middle stage's states for the next; each stage must equal the
        // stage computed on its own. 80 layers over pp 16 (5 each) and over pp 20 vpp 2.
        for (int pp : {16, 20}) {
            Plan p = plan(512 / (8 * pp), 8, pp, 1, 1024, 4096);
            p.vpp = pp == 20 ? 2 : 1;
            p.sp = true;
            p.zero = 1;
            const ModelSpec m = model("llama2-70b");
            const MemoryEstimate e = memoryEstimate(m, cluster("h100-sxm", 64), p, Target::Megatron, false);
            QCOMPARE(int(e.stages.size()), pp);
            for (int i = 0; i < pp; ++i) {
                const StageMemory alone = stageMemory(m, p, Target::Megatron, i, false);
                const StageMemory& s = e.stages[size_t(i)];
                QCOMPARE(s.stage, i);
                QCOMPARE(s.layers, alone.layers);
                for (auto [a, b] : {std::pair{s.weights, alone.weights}, {s.gradients, alone.gradients},
                                    {s.optimizer, alone.optimizer}, {s.activations, alone.activations},
                                    {s.logits, alone.logits}, {s.buffers, alone.buffers}, {s.total, alone.total},
                                    {s.host, alone.host}})
                    QVERIFY(near(a, b, 1e-12));
            }
        }
    }

    void inFlightSchedules_data()
    {
        QTest::addColumn<int>("pp");
        QTest::addColumn<int>("vpp");
        QTest::addColumn<int>("micro");
        QTest::addColumn<int>("stage");
        QTest::addColumn<double>("expected");
        QTest::newRow("no pipeline") << 1 << 1 << 8 << 0 << 1.0;
        QTest::newRow("1F1B first") << 4 << 1 << 16 << 0 << 4.0;
        QTest::newRow("1F1B last") << 4 << 1 << 16 << 3 << 1.0;
        QTest::newRow("1F1B few micro-batches") << 8 << 1 << 3 << 0 << 3.0;
        // Interleaved: pp (1 + (pp - 1)/(pp v)) stage-equivalents on the first rank.
        QTest::newRow("interleaved first, v 2") << 4 << 2 << 16 << 0 << 4 * (1 + 3.0 / 8);
        QTest::newRow("interleaved first, v 4") << 8 << 4 << 32 << 0 << 8 * (1 + 7.0 / 32);
        QTest::newRow("interleaved last, v 2") << 4 << 2 << 16 << 3 << (4 + 1.0) / 2;
    }
    void inFlightSchedules()
    {
        QFETCH(int, pp);
        QFETCH(int, vpp);
        QFETCH(int, micro);
        QFETCH(int, stage);
        QFETCH(double, expected);
        QVERIFY(near(inFlightMicroBatches(pp, vpp, micro, stage), expected));
    }

    void offloadMovesToHost_data() { addTargets(); }
    void offloadMovesToHost()
    {
        QFETCH(QString, target);
        const Target t = targetFromName(target);
        const StageMemory base = llama7b(t, [](Plan& p) { p.zero = 1; }).memory.stages[0];
        const StageMemory off = llama7b(t, [](Plan& p) { p.zero = 1; p.offload = Offload::Optimizer; }).memory.stages[0];
        const StageMemory half = llama7b(t, [](Plan& p) {
            p.zero = 1; p.offload = Offload::Optimizer; p.offloadFraction = 0.5;
        }).memory.stages[0];
        QCOMPARE(base.host, 0.0);
        QCOMPARE(off.optimizer, 0.0);
        QVERIFY(off.host >= base.optimizer);
        QVERIFY(near(half.optimizer, base.optimizer / 2));
        QVERIFY(near(half.host, off.host / 2));
        const StageMemory z3 = llama7b(t, [](Plan& p) { p.zero = 3; }).memory.stages[0];
        const StageMemory params = llama7b(t, [](Plan& p) { p.zero = 3; p.offload = Offload::OptimizerParams; }).memory.stages[0];
        QVERIFY(params.weights < z3.weights);
        QVERIFY(params.host > off.host / 32);
    }

    void overCapacityIsAnError()
    {
        // LLaMA-2 70B on one node without sharding: every stage far over 80 GB.
        const Estimate e = estimate(model("llama2-70b"), cluster("h100-sxm", 1), plan(8, 1, 1, 1, 8, 4096), Target::Meshwork);
        QVERIFY(!e.valid);
        QVERIFY(!e.memory.fits());
        bool found = false;
        for (const std::string& s : e.errors)
            found = found || (s.find("memory: stage 0 needs") == 0 && s.find("over the GPU's 79.6 GiB") != std::string::npos);
        QVERIFY2(found, e.errors.empty() ? "no errors" : e.errors.back().c_str());
        // The rest of the estimate is still there.
        QVERIFY(e.time.step > 0);
        QVERIFY(e.throughput.tokensPerS > 0);
    }

    void invalidPlanStillEstimated()
    {
        // World size mismatch and heads not divisible by tp: reported, yet estimated.
        Plan p = plan(3, 5, 1, 1, 3, 1024);
        const Estimate e = estimate(model("gpt2-124m"), cluster("h100-sxm", 1), p, Target::Meshwork);
        QVERIFY(!e.valid);
        QVERIFY(e.errors.size() >= 2);
        QVERIFY(e.memory.totalGiB > 0);
        QVERIFY(e.time.step > 0);
    }
};

QTEST_GUILESS_MAIN(TestMemoryModel)
#include "test_memory_model.moc"
