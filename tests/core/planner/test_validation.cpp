// The planner (megatron target) against published measured training runs. Each run's
// prediction must be within 25% of the measurement and the median error within 10%. With
// MESHWORK_WRITE_VALIDATION=path the test writes the markdown table of docs/validation.md.
#include "ValidationRuns.h"

#include "core/planner/Calibration.h"
#include "core/planner/Estimate.h"
#include "core/planner/StageBalance.h"
#include "core/spec/Catalog.h"
#include "core/spec/StageLayers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

using namespace meshwork;
using namespace meshwork::validation;

namespace {

struct Row {
    Run run;
    Plan chosen;
    Estimate estimate;
    double predicted = 0;
    double error = 0; // (predicted - measured) / measured
};

double predictedValue(const Estimate& e, Measure m)
{
    switch (m) {
    case Measure::HardwareTflops: return e.throughput.hardwareTflopsPerGpu;
    case Measure::ModelTflops: return e.throughput.tflopsPerGpu;
    case Measure::Mfu: return e.throughput.mfu;
    case Measure::StepSeconds: return e.time.step;
    }
    return 0;
}

// Options a source leaves open are chosen as its authors tuned them: the fastest that fits.
Row evaluate(const Run& run)
{
    ClusterSpec c;
    c.gpu = *findGpu(run.gpu);
    c.nodes = run.nodes;
    c.gpusPerNode = 8;
    c.interNodeGBpsOverride = run.interNodeGBps;
    const int64_t perDp = run.plan.effectiveGlobalBatch() / run.plan.dp;
    std::vector<int64_t> mbs;
    if (run.microBatchStated) mbs.push_back(run.plan.microBatch);
    else
        for (int64_t b = 1; b <= std::min<int64_t>(perDp, 16); ++b)
            if (perDp % b == 0) mbs.push_back(b);
    std::vector<int> vpps{run.plan.vpp};
    if (!run.vppStated && run.plan.pp > 1) {
        if (run.rankLayers.empty()) {
            for (int v = 2; v <= run.model.layers / run.plan.pp; ++v)
                if ((run.model.layers / run.plan.pp) % v == 0) vpps.push_back(v);
        } else {
            // Uneven ranks: any vpp that leaves every chunk a layer.
            const int64_t fewest = *std::min_element(run.rankLayers.begin(), run.rankLayers.end());
            for (int v = 2; v <= fewest; ++v) vpps.push_back(v);
        }
    }
    std::vector<Recompute> rcs{run.plan.recompute};
    if (!run.recomputeStated) rcs = {Recompute::None, Recompute::Selective, Recompute::Full};

    Row best;
    best.run = run;
    bool bestFits = false;
    for (Recompute rc : rcs)
        for (int v : vpps)
            for (int64_t b : mbs) {
                Plan p = run.plan;
                p.microBatch = b;
                p.vpp = v;
                p.recompute = rc;
                if (!run.rankLayers.empty()) p.stageLayers = stageLayersOfRanks(run.rankLayers, v);
                if (v > 1 && p.microBatches() % p.pp != 0) continue;
                EstimateOptions o;
                o.attention = run.attention;
                const Estimate e = estimate(run.model, c, p, Target::Megatron, o);
                const bool fits = e.memory.fits();
                const double tps = e.throughput.tokensPerS;
                if ((fits && !bestFits) || (fits == bestFits && tps > best.estimate.throughput.tokensPerS)) {
                    best.chosen = p;
                    best.estimate = e;
                    bestFits = fits;
                }
            }
    best.predicted = predictedValue(best.estimate, run.measure);
    best.error = (best.predicted - run.measured) / run.measured;
    return best;
}

std::vector<Row> evaluateAll()
{
    std::vector<Row> rows;
    for (const Run& r : publishedRuns()) rows.push_back(evaluate(r));
    return rows;
}

std::string fmt(const char* f, double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string value(double v, Measure m)
{
    if (m == Measure::StepSeconds) return fmt("%.2f s/iteration", v);
    return m == Measure::Mfu ? fmt("%.1f%% MFU", 100 * v) : fmt("%.0f TFLOP/s", v) + (m == Measure::HardwareTflops ? " (hw)" : "");
}

void tableHeader(std::ostringstream& o)
{
    o << "| run | GPUs | model (L / h / heads) | tp / pp / dp | batch x seq | micro-batch, vpp, recompute (planner's choice where unstated) | measured | predicted | error | source |\n";
    o << "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
}

void tableRow(std::ostringstream& o, const Row& r)
{
    {
        const Plan& p = r.chosen;
        o << "| " << r.run.name << " | " << r.run.nodes * 8 << " x " << findGpu(r.run.gpu)->name << " | "
          << r.run.model.layers << " / " << r.run.model.hidden << " / " << r.run.model.heads << " | " << p.tp << " / "
          << p.pp << " / " << p.dp << (p.sp ? " +sp" : "") << (p.zero ? " zero " + std::to_string(p.zero) : "") << " | "
          << p.effectiveGlobalBatch() << " x " << p.seq << " | " << p.microBatch << (r.run.microBatchStated ? "" : "*") << ", "
          << p.vpp << (r.run.vppStated || p.pp == 1 ? "" : "*") << ", " << toString(p.recompute)
          << (r.run.recomputeStated ? "" : "*") << " | " << value(r.run.measured, r.run.measure) << " | "
          << value(r.predicted, r.run.measure) << " | " << fmt("%+.1f%%", 100 * r.error) << " | " << r.run.source
          << (r.run.note.empty() ? "" : " (" + r.run.note + ")") << " |\n";
    }
}

// The meshwork target against our trainer: meshwork-train itself on one NVIDIA H200
// (scripts/gpu_dist_bench.sh SET=replica with the gradient-accumulation fusion, docs/bench/gpu-h200x4-dp-ab.txt
// call 3: median tokens/s after 3 of 12 steps, the allocator's peak). Memory is compared as the allocator counts it: the planner's total less the
// CUDA context and the fragmentation reserve (StageMemory::allocated()).
struct ReplicaRun {
    const char* source;
    const char* model;
    int64_t batch;
    int64_t seq;
    Recompute recompute;
    double tokensPerS;
    double peakAllocatedGiB;
};

const ReplicaRun kReplicaRuns[] = {
    {"meshwork-train", "gpt2-124m", 8, 1024, Recompute::None, 376647, 6.26},
    {"meshwork-train", "llama-1b", 2, 2048, Recompute::None, 45173, 29.29},
    {"meshwork-train", "gpt2-124m", 16, 1024, Recompute::None, 427517, 10.37},
    {"meshwork-train", "gpt2-124m", 16, 1024, Recompute::Full, 342127, 5.69},
    {"meshwork-train", "gpt2-124m", 16, 1024, Recompute::Selective, 417048, 10.36},
    {"meshwork-train", "llama-1b", 4, 2048, Recompute::None, 51737, 37.80},
};

Estimate replicaEstimate(const ReplicaRun& r)
{
    ClusterSpec c;
    c.gpu = *findGpu("h200");
    c.nodes = 1;
    c.gpusPerNode = 1;
    Plan p;
    p.microBatch = r.batch;
    p.globalBatch = r.batch;
    p.seq = r.seq;
    p.recompute = r.recompute;
    return estimate(*findModel(r.model), c, p, Target::Meshwork);
}

double replicaMemory(const Estimate& e) { return e.memory.stages.at(size_t(e.memory.fullestStage)).allocated(); }

std::string replicaTable()
{
    std::ostringstream o;
    o << "| measured with | model | batch x seq | recompute | measured tokens/s | predicted | error | measured peak GiB | predicted | error |\n";
    o << "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (const ReplicaRun& r : kReplicaRuns) {
        const Estimate e = replicaEstimate(r);
        const double mem = replicaMemory(e);
        o << "| " << r.source << " | " << r.model << " | " << r.batch << " x " << r.seq << " | " << toString(r.recompute) << " | "
          << fmt("%.0f", r.tokensPerS) << " | " << fmt("%.0f", e.throughput.tokensPerS) << " | "
          << fmt("%+.1f%%", 100 * (e.throughput.tokensPerS / r.tokensPerS - 1)) << " | " << fmt("%.2f", r.peakAllocatedGiB)
          << " | " << fmt("%.2f", mem) << " | " << fmt("%+.1f%%", 100 * (mem / r.peakAllocatedGiB - 1)) << " |\n";
    }
    return o.str();
}

std::string constants()
{
    using namespace calib;
    std::ostringstream o;
    o << "| constant | value | why |\n| --- | --- | --- |\n";
    o << "| matmul peak fraction | " << kMatmulPeakFraction
      << " | large bf16 GEMMs reach ~80% of the dense peak in cuBLAS on A100; a GEMM of M x N x K runs at this x g(M) g(N) g(K) |\n";
    o << "| matmul half size x0 | " << kMatmulHalfSize << " (at " << kMatmulReferenceTflops
      << " TFLOP/s, x sqrt(peak / " << kMatmulReferenceTflops
      << ")) | g(x) = x / (x + x0): small dimensions leave tensor cores idle; faster GPUs need larger tiles in flight |\n";
    o << "| flash attention efficiency | " << kAttentionEfficiency << " (causal share " << kCausalFraction
      << ", backward " << kAttentionBackwardRatio << "x forward) | FlashAttention-2 reaches 50-73% forward, less backward (Dao 2023) |\n";
    o << "| materialised attention | scores " << kScoreElementsForward << " + " << kScoreElementsBackward
      << " 16-bit elements through HBM (forward + backward) | baddbmm, fused softmax, dropout and its mask, bmm of 2021-22 Megatron-LM |\n";
    o << "| HBM efficiency | " << kHbmEfficiency << " | streaming kernels reach 70-90% of the datasheet bandwidth |\n";
    o << "| elementwise traffic per layer | " << kHiddenElementsPerLayer << " hidden + " << kFfnElementsPerLayer
      << " FFN elements forward, backward " << kBackwardMemoryRatio << "x | two norms, two residual adds, bias-dropout; the activation function |\n";
    o << "| NCCL efficiency | intra-node " << kIntraNodeCommEfficiency << ", inter-node " << kInterNodeCommEfficiency
      << "; latency " << kCollectiveLatencyS * 1e6 << " us per collective | nccl-tests bus bandwidth on DGX A100/H100 |\n";
    o << "| DP overlap | " << kDpOverlap
      << " of the backward window | bucketed gradient reduction overlapped with the backward pass (PyTorch DDP, Megatron --overlap-grad-reduce) |\n";
    o << "| TP overlap | " << kTpOverlap << " | Megatron's tensor-parallel all-reduces sit on the critical path |\n";
    o << "| eager efficiency (meshwork target only) | " << kEagerEfficiency
      << " | eager LibTorch kernels (unfused bias adds, autocast casts, launch gaps) against the fused kernels above; "
         "fitted to the six runs of meshwork-train below together |\n";
    o << "| parameter traffic (meshwork target only) | " << kCastBytesPerParam << " bytes per matmul parameter and micro-batch ("
      << kFp32AddBytesPerParam << " in fp32), the embedding's dense gradient " << kEmbeddingGradBytesPerParam
      << " | fp32 parameters autocast to 16 bits every forward, the 16-bit gradients cast up and added into the fp32 "
         "buffer every backward, whatever the tokens |\n";
    o << "| host time (meshwork target only) | " << kHostSecondsPerLayer * 1e3 << " ms per layer and micro-batch, "
      << kHostLayersForEmbedding << " layer for the embedding and " << kHostLayersForHead << " for the head, "
      << kHostSecondsPerStep * 1e3 << " ms a step, " << kHostSecondsPerCollective * 1e6
      << " us per collective | eager LibTorch issues about 100 ops a layer; a stage whose device work is shorter waits "
         "(GPT-2 124M at 8 x 1024 tokens, its pipelines' first stage, its tensor and data parallelism) |\n";
    o << "| memory | CUDA context " << kCudaContextGiB << " GiB, NCCL " << kNcclGiBPerGroup
      << " GiB per communicator, allocator reserve " << kAllocatorReserveFraction * 100
      << "% | context and workspaces as nvidia-smi shows them; caching-allocator fragmentation |\n";
    return o.str();
}

std::string markdown(const std::vector<Row>& rows, double median, double maxErr)
{
    std::ostringstream o;
    o << "# Validation of the planner against published training runs\n\n"
      << "Generated by `tests/core/planner/test_validation.cpp` (do not edit by hand):\n\n"
      << "```\nMESHWORK_WRITE_VALIDATION=docs/validation.md build/tests/test_validation\n```\n\n"
      << "Each row is a measured run from the literature, estimated by the planner's `megatron` target "
      << "(`estimate(model, cluster, plan, Target::Megatron)`) from the configuration the source states. "
      << "What a source leaves open (marked *) the planner chooses the way the authors tuned it: the fastest "
      << "option that fits in memory. The measure is the one the source reports: hardware TFLOP/s per GPU "
      << "(counting the recomputed forward pass, Narayanan et al. 2021 eq. 3, as `hardware_tflops_per_gpu`), "
      << "model FLOPs utilisation (`mfu`, model FLOPs from `core/spec/Flops.h`) or seconds per iteration "
      << "(`step_s`). The 2021-22 Megatron-LM runs materialised the attention scores "
      << "(`AttentionKernel::Materialized`, the default of the megatron target, with Korthikanti et al.'s "
      << "activation memory); the Llama 3 runs used flash attention (`AttentionKernel::Flash`). "
      << "The test asserts every bounded row within 25% and the median within 10%.\n\n";
    size_t bounded = 0;
    tableHeader(o);
    for (const Row& r : rows)
        if (r.run.outsideBounds.empty()) {
            tableRow(o, r);
            ++bounded;
        }
    o << "\n" << bounded << " runs; median |error| " << fmt("%.1f%%", 100 * median) << ", max |error| "
      << fmt("%.1f%%", 100 * maxErr) << " (test bounds: 10% and 25%). * = chosen by the planner (fastest plan that fits), "
      << "the source does not state it.\n";
    o << "\n## Shown for reference, outside the bounds\n\n";
    tableHeader(o);
    for (const Row& r : rows)
        if (!r.run.outsideBounds.empty()) {
            Row shown = r;
            shown.run.note = r.run.outsideBounds;
            tableRow(o, shown);
        }
    o << "\nMegatron-Turing NLG 530B ran its pipeline on DeepSpeed's PipelineEngine (no interleaving) rather than "
      << "Megatron-LM's schedule. The same model on the same machine under Megatron-LM (Narayanan et al., 529.6B row) "
      << "measured 163 against 126 TFLOP/s; the megatron target models the latter framework, so these rows show the "
      << "size of a framework difference rather than test the model.\n";
    o << "\n## The meshwork target against our trainer\n\n"
      << "`meshwork-train` itself on one NVIDIA H200 (`SET=replica scripts/gpu_dist_bench.sh`, 2026-11-28, with "
         "the fused cross-entropy kernel and the gradient-accumulation fusion); the planner's meshwork target estimates the same runs. Memory as the "
         "allocator counts it (the planner's total less the 0.5 GiB CUDA context and the fragmentation reserve, "
         "against the allocator's peak). The six rows set the eager-efficiency constant together with the "
         "parameter traffic and the host time (both below); the pipeline splits of GPT-2 124M and LLaMA-1B on two "
         "H200s (`pipelineSplits`, each within 6%) fixed how the host time divides into layers and steps. Until that "
         "kernel, `tests/bench/eager_reference.py`, a PyTorch replica of `core/train/Model.cpp`, checked the same "
         "target; its cross-entropy on an fp32 copy of the logits is no longer our trainer's (PyTorch eager, "
         "GPT-2 at 8 x 1024 on the same card in the same call: 313,418 tokens/s against meshwork-train's "
         "346,084). Distributed layouts: `docs/bench/`.\n\n"
      << replicaTable();
    o << "\n## Global constants (core/planner/Calibration.h)\n\n"
      << "The same constants serve every row, model and GPU; there are no per-row factors. They were set from the "
      << "cited hardware figures and checked against this table as a whole; the one change the table prompted was "
      << "structural (modelling the materialised attention scores of the 2021-22 runs), not a constant.\n\n"
      << constants();
    o << "\n## What the rows show and what they do not\n\n"
      << "- The small Narayanan et al. models (1.7B-3.6B) run slower than the large ones because the materialised "
         "s x s attention scores cost HBM traffic that grows with a s / h^2; without that term the planner would "
         "over-predict them by 40-50%.\n"
      << "- Korthikanti et al. state their micro-batch and interleaving; their rows test the time model with nothing "
         "chosen by the planner, including the full-recomputation iteration times of Table 5.\n"
      << "- Llama 3's 126 layers do not divide over 16 stages: the paper takes one layer off the first and the last "
         "stage, and the plans carry that split (stage-layers, spread over each rank's chunks). Their "
         "recomputation and interleaving are not stated: the planner picks the fastest that fits (see the table), and "
         "the 16,384-GPU prediction is the least certain of the table.\n"
      << "- The published rows use the megatron target. The meshwork target mirrors our own trainer; above it is checked "
         "against `meshwork-train`, and every run of `meshwork-train` carries the "
         "estimate for its plan (run_start's `predicted`), which lands beside the measurement in the run store.\n";
    return o.str();
}

} // namespace

class TestValidation : public QObject {
    Q_OBJECT
private slots:
    void eachRun_data()
    {
        QTest::addColumn<int>("index");
        const auto runs = publishedRuns();
        for (size_t i = 0; i < runs.size(); ++i) QTest::newRow(runs[i].name.c_str()) << int(i);
    }

    void eachRun()
    {
        QFETCH(int, index);
        const Row r = evaluate(publishedRuns()[size_t(index)]);
        qInfo("%s: measured %s, predicted %s, error %+.1f%%", r.run.name.c_str(), value(r.run.measured, r.run.measure).c_str(),
              value(r.predicted, r.run.measure).c_str(), 100 * r.error);
        if (qEnvironmentVariableIsSet("MESHWORK_VALIDATION_VERBOSE")) {
            const TimeEstimate& t = r.estimate.time;
            qInfo("  plan mb %lld vpp %d %s; step %.3f: compute %.3f attention %.3f memory %.3f recompute %.3f tp %.3f "
                  "pp %.3f bubble %.3f dp %.3f/%.3f optimizer %.3f; memory %.1f GiB",
                  (long long)r.chosen.microBatch, r.chosen.vpp, toString(r.chosen.recompute), t.step, t.compute,
                  t.attention, t.memoryBound, t.recompute, t.tpComm, t.ppComm, t.bubble, t.dpComm, t.dpCommTotal,
                  t.optimizer, r.estimate.memory.totalGiB);
        }
        QVERIFY2(r.estimate.memory.fits(), ("the published configuration does not fit in the planner's memory model: "
                                            + std::to_string(r.estimate.memory.totalGiB) + " GiB").c_str());
        // A valid plan, Llama 3's uneven stages included (stage-layers).
        QVERIFY2(r.estimate.errors.empty(), r.estimate.errors.empty() ? "" : r.estimate.errors.front().c_str());
        if (!r.run.outsideBounds.empty()) {
            qInfo("  outside the bounds: %s", r.run.outsideBounds.c_str());
            return;
        }
        QVERIFY2(std::abs(r.error) <= 0.25, ("error " + fmt("%+.1f%%", 100 * r.error) + " exceeds 25%").c_str());
    }

    void meshworkReplica_data()
    {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < std::size(kReplicaRuns); ++i) {
            const ReplicaRun& r = kReplicaRuns[i];
            QTest::newRow((std::string(r.source) + " " + r.model + " " + std::to_string(r.batch) + " "
                           + toString(r.recompute)).c_str())
                << int(i);
        }
    }

    void meshworkReplica()
    {
        QFETCH(int, index);
        const ReplicaRun& r = kReplicaRuns[index];
        const Estimate e = replicaEstimate(r);
        QVERIFY(e.valid);
        const double speedErr = e.throughput.tokensPerS / r.tokensPerS - 1;
        const double memErr = replicaMemory(e) / r.peakAllocatedGiB - 1;
        qInfo("%s %s %s: tokens/s %+.1f%%, memory %+.1f%%", r.source, r.model, toString(r.recompute), 100 * speedErr,
              100 * memErr);
        QVERIFY(std::abs(speedErr) <= 0.10);
        QVERIFY(std::abs(memErr) <= 0.10);
    }

    // Pipeline splits as meshwork-train ran them on 2 H200s, 8 micro-batches a step, median tokens/s
    // per GPU: GPT-2 from docs/bench/gpu-h200x2-loss-kernels.txt call 2, LLaMA-1B measured again with
    // the gradient-accumulation fusion (docs/bench/gpu-h200x4-dp-ab.txt call 3): every split within 10%, and the
    // split the planner balances to is the fastest measured.
    void pipelineSplits_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("microBatch");
        QTest::addColumn<int>("seq");
        QTest::addColumn<QStringList>("splits");
        QTest::addColumn<QList<double>>("measured");
        QTest::newRow("gpt2-124m pp2") << "gpt2-124m" << 8 << 1024 << QStringList{"6,6", "7,5", "8,4", "9,3", "10,2"}
                                       << QList<double>{290436, 318121, 273802, 271627, 220387};
        QTest::newRow("llama-1b pp2") << "llama-1b" << 2 << 2048 << QStringList{"8,8", "9,7", "10,6", "11,5", "12,4"}
                                      << QList<double>{40130, 43198, 42111, 40010, 37132};
    }
    void pipelineSplits()
    {
        QFETCH(QString, model);
        QFETCH(int, microBatch);
        QFETCH(int, seq);
        QFETCH(QStringList, splits);
        QFETCH(QList<double>, measured);
        ClusterSpec c;
        c.gpu = *findGpu("h200");
        c.nodes = 1;
        c.gpusPerNode = 2;
        const ModelSpec& m = *findModel(model.toStdString());
        Plan p;
        p.pp = 2;
        p.microBatch = microBatch;
        p.globalBatch = int64_t(microBatch) * 8;
        p.seq = seq;
        int fastest = 0;
        for (int i = 0; i < splits.size(); ++i) {
            std::string error;
            p.stageLayers = *parseStageLayers(splits[i].toStdString(), &error);
            const Estimate e = estimate(m, c, p, Target::Meshwork);
            QVERIFY(e.valid);
            const double perGpu = e.throughput.tokensPerS / 2, err = perGpu / measured[i] - 1;
            qInfo("%s %s: measured %.0f, predicted %.0f (%+.1f%%)", qPrintable(model), qPrintable(splits[i]), measured[i],
                  perGpu, 100 * err);
            QVERIFY(std::abs(err) <= 0.10);
            if (measured[i] > measured[fastest]) fastest = i;
        }
        p.stageLayers.clear();
        const std::vector<int> balanced = balancedStageLayers(m, c, p, Target::Meshwork,
                                                              usesFlashAttention(Target::Meshwork, EstimateOptions{}));
        QCOMPARE(QString::fromStdString(formatStageLayers(balanced)), splits[fastest]);
    }

    void summary()
    {
        const std::vector<Row> rows = evaluateAll();
        QVERIFY(rows.size() >= 8);
        std::vector<double> errs;
        for (const Row& r : rows)
            if (r.run.outsideBounds.empty()) errs.push_back(std::abs(r.error));
        QVERIFY(errs.size() >= 8);
        std::sort(errs.begin(), errs.end());
        const size_t n = errs.size();
        const double median = n % 2 ? errs[n / 2] : (errs[n / 2 - 1] + errs[n / 2]) / 2;
        const double maxErr = errs.back();
        qInfo("median |error| %.1f%%, max %.1f%%", 100 * median, 100 * maxErr);
        const QByteArray path = qgetenv("MESHWORK_WRITE_VALIDATION");
        if (!path.isEmpty()) {
            std::ofstream f(path.toStdString());
            QVERIFY2(f.good(), ("cannot write " + path.toStdString()).c_str());
            f << markdown(rows, median, maxErr);
        }
        QVERIFY(median <= 0.10);
        QVERIFY(maxErr <= 0.25);
    }
};

QTEST_GUILESS_MAIN(TestValidation)
#include "test_validation.moc"
