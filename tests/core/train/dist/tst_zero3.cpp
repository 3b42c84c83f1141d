// ZeRO-3 units in one process (a data-parallel group of one, so the gathers are copies): the
// parameters are resident only while their unit runs, the backward pass prefetches the next
// unit and leaves each unit's gradient reduction in flight during the next unit's backward,
// and training through the units equals training the ordinary model (loss, gradients over
// micro-batches, parameters after an AdamW step with weight decay).
// Two ranks over Gloo on two threads of this process show the same schedule with real
// collectives; tst_dist_equivalence's zero3 cases train with ranks in separate processes.
#include "core/spec/Catalog.h"
#include "core/train/Model.h"
#include "core/train/Optimizer.h"
#include "core/train/dist/DistOptions.h"
#include "core/train/dist/Mesh.h"
#include "core/train/dist/Zero3.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include "TwoRanks.h"

#include <QtTest>


using namespace meshwork;

namespace {

// Forwards to Zero3 and records what is resident right after each enter and leave, and at
// the start of each unit's backward.
struct Recorder : ParameterUnitHooks {
    struct BackwardStart {
        int unit;
        int64_t resident;
        int reductionsInFlight;
    };
    Zero3* z = nullptr;
    std::vector<std::pair<int, int64_t>> entered; // unit, resident bytes after enter
    std::vector<std::pair<int, int64_t>> afterLeave;
    std::vector<BackwardStart> backwardStarts;
    void enter(int unit) override
    {
        z->enter(unit);
        entered.emplace_back(unit, z->residentBytes());
    }
    at::Tensor leave(int unit, const at::Tensor& out) override
    {
        at::Tensor o = z->leave(unit, out);
        afterLeave.emplace_back(unit, z->residentBytes());
        // Runs after Zero3's hook on the same tensor (hooks run in the order registered): the
        // unit's backward is prepared and none of it has run.
        if (o.requires_grad())
            o.register_hook([this, unit](const at::TensorBase&) {
                backwardStarts.push_back({unit, z->residentBytes(), z->reductionsInFlight()});
            });
        return o;
    }
};

bool allParametersFreed(const TransformerModel& m)
{
    for (const at::Tensor& p : m.parameters())
        if (p.storage().nbytes() != 0 || p.grad().storage().nbytes() != 0) return false;
    return true;
}

} // namespace

class TestZero3 : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { at::set_num_threads(1); }
    void unitsResidentOnlyInUse_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("recompute");
        QTest::addColumn<double>("offload");
        QTest::newRow("gpt-nano (tied head)") << "gpt-nano" << int(Recompute::None) << 0.0;
        QTest::newRow("llama-nano") << "llama-nano" << int(Recompute::None) << 0.0;
        QTest::newRow("gpt-nano recompute full") << "gpt-nano" << int(Recompute::Full) << 0.0;
        QTest::newRow("llama-nano offload 0.5") << "llama-nano" << int(Recompute::None) << 0.5;
    }
    void unitsResidentOnlyInUse()
    {
        QFETCH(QString, model);
        QFETCH(int, recompute);
        QFETCH(double, offload);
        const ModelSpec spec = *findModel(model.toStdString());
        const c10::Device cpu(c10::kCPU);
        TransformerModel ref(spec, static_cast<Recompute>(recompute), cpu), sharded(spec, static_cast<Recompute>(recompute), cpu);
        ref.initialize(7);
        sharded.initialize(7);
        const int64_t N = ref.parameterCount();

        Plan plan;
        plan.zero = 3;
        Mesh mesh(plan, DistConfig{}, CommDevice::Cpu);
        OptimizerConfig oc;
        oc.weightDecay = 0.1;
        Zero3 z(sharded, mesh, mesh.zeroGroup(), oc, offload, offload > 0);
        Recorder rec;
        rec.z = &z;
        sharded.setUnitHooks(&rec);

        // Nothing resident between uses: the model's full buffers are gone, every unit empty.
        QVERIFY(!sharded.flatParams().defined());
        QCOMPARE(z.residentBytes(), int64_t(0));
        QVERIFY(allParametersFreed(sharded));
        QCOMPARE(z.localElements(), N);

        auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
        const at::Tensor x = at::randint(spec.vocab, {2, 16}, gen, at::TensorOptions().dtype(at::kLong));
        const at::Tensor y = at::randint(spec.vocab, {2, 16}, gen, at::TensorOptions().dtype(at::kLong));
        const at::Tensor lossRef = ref.loss(x, y);
        const at::Tensor loss = sharded.loss(x, y);
        QCOMPARE(loss.item<double>(), lossRef.item<double>());

        // Forward: a unit is resident while it runs, with the next one being prefetched (the
        // tied head also reads wte); after it only the prefetched one.
        const int head = int(spec.layers) + 1;
        auto next = [&](int unit) { return unit < head ? z.unitBytes(unit + 1) : int64_t(0); };
        QCOMPARE(int(rec.entered.size()), int(spec.layers) + 2);
        for (const auto& [unit, bytes] : rec.entered) {
            const int64_t want = z.unitBytes(unit) + (unit == head && spec.tiedEmbeddings ? z.unitBytes(0) : 0) + next(unit);
            QVERIFY2(bytes == want, qPrintable(QString("unit %1: %2 bytes resident, expected %3").arg(unit).arg(bytes).arg(want)));
        }
        for (const auto& [unit, bytes] : rec.afterLeave) QCOMPARE(bytes, next(unit));
        QCOMPARE(rec.afterLeave.back().second, int64_t(0));
        QVERIFY(allParametersFreed(sharded));

        // Backward: gathered again unit by unit, head first. At the start of unit u's backward
        // (Zero3.h): its parameters and gradient buffer, the tied head's wte, unit u - 1 being
        // prefetched, and the reductions of the units after it still in flight (they complete
        // when a later unit's reduction starts, so they overlap u's backward).
        lossRef.backward();
        loss.backward();
        const int k = Zero3::kReductionsInFlight;
        QCOMPARE(int(rec.backwardStarts.size()), head + 1);
        int64_t expectedPeak = 0;
        for (const auto& [unit, bytes] : rec.entered) expectedPeak = std::max(expectedPeak, bytes);
        for (size_t i = 0; i < rec.backwardStarts.size(); ++i) {
            const Recorder::BackwardStart& b = rec.backwardStarts[i];
            const int u = head - int(i);
            QCOMPARE(b.unit, u);
            int64_t want = 2 * z.unitBytes(u) + (u == head && spec.tiedEmbeddings ? z.unitBytes(0) : 0);
            if (u > 0) want += z.unitBytes(u - 1);
            const int inFlight = std::min(k, head - u);
            for (int later = u + 1; later <= u + inFlight; ++later) want += z.unitBytes(later);
            QVERIFY2(b.resident == want,
                     qPrintable(QString("backward of unit %1: %2 bytes resident, expected %3").arg(u).arg(b.resident).arg(want)));
            QCOMPARE(b.reductionsInFlight, inFlight);
            expectedPeak = std::max(expectedPeak, want);
        }
        // The backward pass's end completed the last reduction and freed everything.
        QCOMPARE(z.reductionsInFlight(), 0);
        QCOMPARE(z.residentBytes(), int64_t(0));
        z.finishBackward();
        QCOMPARE(z.residentBytes(), int64_t(0));
        QVERIFY(allParametersFreed(sharded));
        // The peak is one of the moments recorded, within Zero3.h's bound: 4 units, plus the
        // tied embeddings.
        int64_t largest = 0;
        for (int u = 0; u < z.unitCount(); ++u) largest = std::max(largest, z.unitBytes(u));
        const int64_t bound = 4 * largest + (spec.tiedEmbeddings ? z.unitBytes(0) : 0);
        qInfo("%s: peak resident %lld bytes (parameters and gradients in full: %lld)", qPrintable(model),
              static_cast<long long>(z.peakResidentBytes()), static_cast<long long>(8 * N));
        QCOMPARE(z.peakResidentBytes(), expectedPeak);
        QVERIFY2(z.peakResidentBytes() <= bound, qPrintable(QString("peak %1 > %2").arg(z.peakResidentBytes()).arg(bound)));
        QVERIFY(z.peakResidentBytes() < 8 * N);

        // One AdamW step with weight decay on the shard equals the step on the whole model.
        QVERIFY(at::allclose(ref.flatGrads().square().sum(), z.localGrads().square().sum(), 1e-5, 0));
        FlatOptimizer opt(oc, ref.layout(), ref.flatParams(), ref.flatGrads());
        opt.step(1e-2);
        z.step(1e-2);
        const at::Tensor got = z.gatherFullParameters();
        QCOMPARE(z.residentBytes(), int64_t(0));
        const double diff = (got - ref.flatParams()).abs().max().item<double>();
        QVERIFY2(diff < 1e-6, qPrintable(QString("parameters differ by %1").arg(diff)));
    }

    void microBatchesAccumulate_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("gpt-nano (tied head)") << "gpt-nano";
        QTest::newRow("llama-nano") << "llama-nano";
    }
    void microBatchesAccumulate()
    {
        // Gradient accumulation: each micro-batch's backward ends with its reductions completed
        // into the local gradients, and the step on their sum equals the ordinary model's.
        QFETCH(QString, model);
        const ModelSpec spec = *findModel(model.toStdString());
        const c10::Device cpu(c10::kCPU);
        TransformerModel ref(spec, Recompute::None, cpu), sharded(spec, Recompute::None, cpu);
        ref.initialize(11);
        sharded.initialize(11);
        Plan plan;
        plan.zero = 3;
        Mesh mesh(plan, DistConfig{}, CommDevice::Cpu);
        OptimizerConfig oc;
        oc.weightDecay = 0.1;
        Zero3 z(sharded, mesh, mesh.zeroGroup(), oc, 0.0, false);
        sharded.setUnitHooks(&z);
        auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
        for (int mb = 0; mb < 3; ++mb) {
            const at::Tensor x = at::randint(spec.vocab, {2, 16}, gen, at::TensorOptions().dtype(at::kLong));
            const at::Tensor y = at::randint(spec.vocab, {2, 16}, gen, at::TensorOptions().dtype(at::kLong));
            (ref.loss(x, y) / 3.0).backward();
            (sharded.loss(x, y) / 3.0).backward();
            QCOMPARE(z.reductionsInFlight(), 0);
            QCOMPARE(z.residentBytes(), int64_t(0));
        }
        z.finishBackward();
        QVERIFY(at::allclose(ref.flatGrads().square().sum(), z.localGrads().square().sum(), 1e-5, 0));
        FlatOptimizer opt(oc, ref.layout(), ref.flatParams(), ref.flatGrads());
        opt.step(1e-2);
        z.step(1e-2);
        const double diff = (z.gatherFullParameters() - ref.flatParams()).abs().max().item<double>();
        QVERIFY2(diff < 1e-6, qPrintable(QString("parameters differ by %1").arg(diff)));
    }

    void twoRanksOverGloo_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("gpt-nano (tied head)") << "gpt-nano";
        QTest::newRow("llama-nano") << "llama-nano";
    }
    void twoRanksOverGloo()
    {
        // Two data-parallel ranks, one per thread, over Gloo on loopback: each unit's
        // reduce-scatter is started and not waited for when the next unit's backward starts,
        // and one step on the two halves of a batch equals one step on the whole batch (SGD, so
        // that the step is linear in the gradients and rounding stays rounding).
        QFETCH(QString, model);
        const ModelSpec spec = *findModel(model.toStdString());
        const c10::Device cpu(c10::kCPU);
        OptimizerConfig oc;
        oc.kind = Optimizer::Sgd;
        oc.weightDecay = 0.1;
        auto gen = at::make_generator<at::CPUGeneratorImpl>(13);
        const at::Tensor x = at::randint(spec.vocab, {4, 16}, gen, at::TensorOptions().dtype(at::kLong));
        const at::Tensor y = at::randint(spec.vocab, {4, 16}, gen, at::TensorOptions().dtype(at::kLong));
        TransformerModel ref(spec, Recompute::None, cpu);
        ref.initialize(13);
        ref.loss(x, y).backward();
        FlatOptimizer opt(oc, ref.layout(), ref.flatParams(), ref.flatGrads());
        opt.step(1e-2);

        at::Tensor got[2];
        std::vector<Recorder::BackwardStart> starts[2];
        const auto errors = test::onTwoRanks(3, [&](int r, Mesh& mesh) {
            TransformerModel m(spec, Recompute::None, cpu);
            m.initialize(13);
            Zero3 z(m, mesh, mesh.zeroGroup(), oc, 0.0, false);
            Recorder rec;
            rec.z = &z;
            m.setUnitHooks(&rec);
            m.loss(x.narrow(0, 2 * r, 2), y.narrow(0, 2 * r, 2)).backward();
            if (z.reductionsInFlight() != 0) throw std::runtime_error("reductions in flight after backward");
            z.finishBackward();
            z.step(1e-2);
            got[r] = z.gatherFullParameters();
            starts[r] = rec.backwardStarts;
        });
        const int head = int(spec.layers) + 1;
        for (int r = 0; r < 2; ++r) {
            QVERIFY2(errors[r].empty(), errors[r].c_str());
            QCOMPARE(int(starts[r].size()), head + 1);
            for (const Recorder::BackwardStart& b : starts[r])
                QCOMPARE(b.reductionsInFlight, std::min(Zero3::kReductionsInFlight, head - b.unit));
            const double diff = (got[r] - ref.flatParams()).abs().max().item<double>();
            QVERIFY2(diff < 1e-6, qPrintable(QString("rank %1: parameters differ by %2").arg(r).arg(diff)));
        }
    }
};

QTEST_GUILESS_MAIN(TestZero3)
#include "tst_zero3.moc"
