// ZeRO-3 units in one process (a data-parallel group of one, so the gathers are copies): the
// parameters are resident only while their unit runs, and training through the units equals
// training the ordinary model (loss, and parameters after an AdamW step with weight decay).
// Two ranks over Gloo are tst_dist_equivalence's zero3 cases.
#include "core/spec/Catalog.h"
#include "core/train/Model.h"
#include "core/train/Optimizer.h"
#include "core/train/dist/DistOptions.h"
#include "core/train/dist/Mesh.h"
#include "core/train/dist/Zero3.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <QtTest>

using namespace meshwork;

namespace {

// Forwards to Zero3 and records what is resident right after each enter and leave.
struct Recorder : ParameterUnitHooks {
    Zero3* z = nullptr;
    std::vector<std::pair<int, int64_t>> entered; // unit, resident bytes after enter
    std::vector<std::pair<int, int64_t>> afterLeave;
    void enter(int unit) override
    {
        z->enter(unit);
        entered.emplace_back(unit, z->residentBytes());
    }
    at::Tensor leave(int unit, const at::Tensor& out) override
    {
        at::Tensor o = z->leave(unit, out);
        afterLeave.emplace_back(unit, z->residentBytes());
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

        // Backward: gathered again unit by unit, gradients reduced into the shard and freed.
        lossRef.backward();
        loss.backward();
        z.finishBackward();
        QCOMPARE(z.residentBytes(), int64_t(0));
        QVERIFY(allParametersFreed(sharded));
        int64_t largest = 0;
        for (int u = 0; u < z.unitCount(); ++u) largest = std::max(largest, z.unitBytes(u));
        const int64_t bound = 2 * largest + (spec.tiedEmbeddings ? z.unitBytes(0) : 0);
        qInfo("%s: peak resident %lld bytes (parameters and gradients in full: %lld)", qPrintable(model),
              static_cast<long long>(z.peakResidentBytes()), static_cast<long long>(8 * N));
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
};

QTEST_GUILESS_MAIN(TestZero3)
#include "tst_zero3.moc"
