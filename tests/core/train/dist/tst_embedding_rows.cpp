// The token embedding's lookup gradient taken as rows (EmbeddingRowSync): in one process the
// rows added back give wte exactly autograd's gradient, tied head or not, over several
// micro-batches; two data-parallel ranks (threads of this process, Gloo on loopback) that gather
// each other's rows get the gradient of the whole batch. (Where the trainer takes rows:
// test_trainer_support.)
#include "core/spec/Catalog.h"
#include "core/train/Model.h"
#include "core/train/dist/DistOptions.h"
#include "core/train/dist/EmbeddingRowSync.h"
#include "core/train/dist/Mesh.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "RandomBatches.h"
#include "TwoRanks.h"

#include <QtTest>


using namespace meshwork;

namespace {

using test::Batch;

std::vector<Batch> batches(const ModelSpec& spec, int count) { return test::randomBatches(spec, count, 7); }

// The flat gradients after the backward passes of `mbs`, the loss of each divided by their count.
at::Tensor autogradGradients(const ModelSpec& spec, const std::vector<Batch>& mbs, Recompute recompute = Recompute::None)
{
    TransformerModel m(spec, recompute, c10::Device(c10::kCPU));
    m.initialize(3);
    for (const Batch& b : mbs) (m.loss(b.x, b.y) / double(mbs.size())).backward();
    return m.flatGrads().clone();
}

at::Tensor wteView(TransformerModel& m)
{
    const ParamInfo* wte = m.layout().find("wte");
    return m.flatGrads().narrow(0, wte->offset, wte->numel()).view(wte->shape);
}

} // namespace

class TestEmbeddingRows : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { at::set_num_threads(1); }

    void oneProcessEqualsAutograd_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("microBatches");
        QTest::addColumn<int>("recompute");
        const int none = int(Recompute::None), full = int(Recompute::Full);
        QTest::newRow("gpt-nano (tied head)") << "gpt-nano" << 1 << none;
        QTest::newRow("llama-nano") << "llama-nano" << 1 << none;
        QTest::newRow("gpt-nano, 3 micro-batches") << "gpt-nano" << 3 << none;
        QTest::newRow("llama-nano, 3 micro-batches") << "llama-nano" << 3 << none;
        // The rows are the input of the first block, which full recomputation reruns.
        QTest::newRow("gpt-nano, recompute full") << "gpt-nano" << 2 << full;
        QTest::newRow("llama-nano, recompute full") << "llama-nano" << 2 << full;
    }
    void oneProcessEqualsAutograd()
    {
        QFETCH(QString, model);
        QFETCH(int, microBatches);
        QFETCH(int, recompute);
        const ModelSpec spec = *findModel(model.toStdString());
        const std::vector<Batch> mbs = batches(spec, microBatches);
        const at::Tensor expected = autogradGradients(spec, mbs, static_cast<Recompute>(recompute));

        TransformerModel m(spec, static_cast<Recompute>(recompute), c10::Device(c10::kCPU));
        m.initialize(3);
        Plan plan;
        Mesh mesh(plan, DistConfig{}, CommDevice::Cpu);
        EmbeddingRowSync rows(mesh, mesh.zeroGroup(), wteView(m));
        m.setLookupSink(&rows);
        for (int i = 0; i < microBatches; ++i) {
            rows.arm(i == microBatches - 1);
            (m.loss(mbs[i].x, mbs[i].y) / double(microBatches)).backward();
        }
        // Before finish() wte holds the head's gradient only (tied) or none (untied).
        const at::Tensor before = wteView(m).clone();
        if (!spec.tiedEmbeddings) QCOMPARE(before.abs().max().item<double>(), 0.0);
        rows.finish();
        QCOMPARE(rows.rowsLastStep(), int64_t(microBatches) * 2 * 16);
        QVERIFY(!at::equal(before, wteView(m)));
        const double diff = (m.flatGrads() - expected).abs().max().item<double>();
        QVERIFY2(diff < 1e-6, qPrintable(QString("gradients differ from autograd's by %1").arg(diff)));
        // Without grad (evaluation) the sink is not used.
        {
            at::NoGradGuard noGrad;
            m.loss(mbs[0].x, mbs[0].y);
        }
        rows.finish();
        QCOMPARE(rows.rowsLastStep(), int64_t(0));
    }

    void twoRanksGatherEachOthersRows_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("gpt-nano (tied head)") << "gpt-nano";
        QTest::newRow("llama-nano") << "llama-nano";
    }
    void twoRanksGatherEachOthersRows()
    {
        // Rank r takes micro-batch r; the gathered rows plus the all-reduced rest give the
        // gradient of both micro-batches (loss scaled by 1/2, as data parallelism does).
        QFETCH(QString, model);
        const ModelSpec spec = *findModel(model.toStdString());
        const std::vector<Batch> mbs = batches(spec, 2);
        const at::Tensor expected = autogradGradients(spec, mbs);
        at::Tensor got[2];
        const auto errors = test::onTwoRanks(0, [&](int r, Mesh& mesh) {
            TransformerModel m(spec, Recompute::None, c10::Device(c10::kCPU));
            m.initialize(3);
            CommGroup& dp = mesh.zeroGroup();
            EmbeddingRowSync rows(mesh, dp, wteView(m));
            m.setLookupSink(&rows);
            rows.arm(true);
            (m.loss(mbs[r].x, mbs[r].y) / 2.0).backward();
            // Everything but the lookup rows: all-reduced as GradientSync would.
            at::Tensor rest = m.flatGrads().clone();
            std::vector<at::Tensor> t{rest};
            c10d::AllreduceOptions opts;
            mesh.wait(dp.backend->allreduce(t, opts), dp, "test all-reduce");
            m.flatGrads().copy_(rest);
            rows.finish();
            if (rows.rowsLastStep() != 2 * 2 * 16) throw std::runtime_error("expected both ranks' rows");
            got[r] = m.flatGrads().clone();
        });
        for (int r = 0; r < 2; ++r) {
            QVERIFY2(errors[r].empty(), errors[r].c_str());
            const double diff = (got[r] - expected).abs().max().item<double>();
            QVERIFY2(diff < 1e-6, qPrintable(QString("rank %1: gradients differ by %2").arg(r).arg(diff)));
        }
    }

    // ZeRO-2's partitioned gradients: a rank keeps an element range of wte's gradient that cuts
    // rows at its ends (or lies inside one row); the gathered rows land in that range alone.
    // llama-nano's untied wte gets its whole gradient from the lookup.
    void twoRanksFillTheirPartsOnly_data()
    {
        QTest::addColumn<qint64>("first");
        QTest::addColumn<qint64>("size");
        const qint64 C = findModel("llama-nano")->hidden;
        QTest::newRow("cut rows at both ends") << C / 2 << 5 * C + 7 - C / 2;
        QTest::newRow("inside one row (the first token's)") << qint64(-1) << qint64(6);
        QTest::newRow("starts on a row, ends inside one") << 2 * C << 3 * C + 1;
        QTest::newRow("whole rows") << C << 4 * C;
    }
    void twoRanksFillTheirPartsOnly()
    {
        QFETCH(qint64, first);
        QFETCH(qint64, size);
        const ModelSpec spec = *findModel("llama-nano");
        const std::vector<Batch> mbs = batches(spec, 2);
        if (first < 0) first = mbs[0].x[0][0].item<int64_t>() * spec.hidden + 3; // a row that is looked up
        TransformerModel ref(spec, Recompute::None, c10::Device(c10::kCPU));
        const at::Tensor expected =
            autogradGradients(spec, mbs).narrow(0, ref.layout().find("wte")->offset, spec.paddedVocab * spec.hidden).narrow(0, first, size);
        at::Tensor got[2];
        const auto errors = test::onTwoRanks(0, [&](int r, Mesh& mesh) {
            TransformerModel m(spec, Recompute::None, c10::Device(c10::kCPU));
            m.initialize(3);
            at::Tensor part = at::zeros({size});
            EmbeddingRowSync rows(mesh, mesh.zeroGroup(), part, first, spec.hidden);
            m.setLookupSink(&rows);
            rows.arm(true);
            (m.loss(mbs[r].x, mbs[r].y) / 2.0).backward();
            rows.finish();
            got[r] = part;
        });
        for (int r = 0; r < 2; ++r) {
            QVERIFY2(errors[r].empty(), errors[r].c_str());
            QVERIFY(expected.abs().max().item<double>() > 0);
            const double diff = (got[r] - expected).abs().max().item<double>();
            QVERIFY2(diff < 1e-6, qPrintable(QString("rank %1: the part differs by %2").arg(r).arg(diff)));
        }
    }
};

QTEST_GUILESS_MAIN(TestEmbeddingRows)
#include "tst_embedding_rows.moc"
