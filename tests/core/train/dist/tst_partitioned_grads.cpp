// ZeRO-2's partitioned gradients (GradientSync::Mode::Partitioned) on two data-parallel ranks,
// threads of this process talking through Gloo: after every backward pass each parameter's own
// gradient is gone (reduced to the shard owners, then dropped), and after finish() a rank's
// shard buffer holds the mean gradient of both ranks' micro-batches over its slice of the
// layout, as one process's flat gradient buffer has it. Also with buckets cut by parameter and
// shard boundaries, and with gradients reduced as bf16 copies.
#include "core/spec/Catalog.h"
#include "core/train/Model.h"
#include "core/train/dist/GradientSync.h"
#include "core/train/dist/Mesh.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "RandomBatches.h"
#include "TwoRanks.h"

#include <QtTest>

#include <array>
#include <stdexcept>

using namespace meshwork;

namespace {

using test::Batch;

std::vector<Batch> batches(const ModelSpec& spec, int count) { return test::randomBatches(spec, count, 11); }

} // namespace

class TestPartitionedGrads : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { at::set_num_threads(1); }

    void shardsHoldTheMeanGradient_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("microBatches");
        QTest::addColumn<double>("bucketMb");
        QTest::addColumn<bool>("bf16");
        QTest::newRow("gpt-nano (tied head), one bucket") << "gpt-nano" << 1 << 25.0 << false;
        QTest::newRow("gpt-nano, 3 micro-batches, small buckets") << "gpt-nano" << 3 << 0.01 << false;
        QTest::newRow("llama-nano, 2 micro-batches, small buckets") << "llama-nano" << 2 << 0.01 << false;
        QTest::newRow("llama-nano, bf16 reduction") << "llama-nano" << 2 << 0.01 << true;
    }
    void shardsHoldTheMeanGradient()
    {
        QFETCH(QString, model);
        QFETCH(int, microBatches);
        QFETCH(double, bucketMb);
        QFETCH(bool, bf16);
        const ModelSpec spec = *findModel(model.toStdString());
        const std::vector<Batch> mbs = batches(spec, 2 * microBatches);

        // One process, every micro-batch of both ranks, each loss divided by their count.
        TransformerModel ref(spec, Recompute::None, c10::Device(c10::kCPU));
        ref.initialize(5);
        for (const Batch& b : mbs) (ref.loss(b.x, b.y) / double(mbs.size())).backward();
        const at::Tensor expected = ref.flatGrads();

        std::array<at::Tensor, 2> shard;
        std::array<int64_t, 2> begin{};
        const auto errors = test::onTwoRanks(2, [&](int r, Mesh& mesh) {
            TransformerModel m(spec, Recompute::None, c10::Device(c10::kCPU));
            m.initialize(5);
            m.releaseGradients();
            CommGroup& dp = mesh.zeroGroup();
            const ShardRange range = ShardRange::of(m.layout().totalElements, dp.index, dp.size());
            at::Tensor grads = at::zeros({range.numel()});
            GradientSync sync(mesh, dp, grads, m.parameters(), m.layout(), bucketMb, GradientSync::Mode::Partitioned,
                              bf16 ? at::kBFloat16 : at::kFloat);
            if (bucketMb < 1 && sync.bucketCount() < 10) throw std::runtime_error("expected many small buckets");
            for (int k = 0; k < microBatches; ++k) {
                // Only the last backward is armed to reduce: partitioned gradients reduce each one.
                sync.arm(k == microBatches - 1);
                const Batch& b = mbs[size_t(r * microBatches + k)];
                (m.loss(b.x, b.y) * (sync.gradientScale() / microBatches)).backward();
                for (const at::Tensor& p : m.parameters())
                    if (p.grad().defined()) throw std::runtime_error("a parameter kept its gradient after its buckets went");
            }
            sync.finish();
            shard[r] = grads;
            begin[r] = range.begin;
        });
        for (int r = 0; r < 2; ++r) {
            QVERIFY2(errors[r].empty(), errors[r].c_str());
            const at::Tensor want = expected.narrow(0, begin[r], shard[r].numel());
            const double scale = want.abs().max().item<double>();
            const double diff = (shard[r] - want).abs().max().item<double>();
            // bf16 keeps 8 bits of mantissa: each summed copy is off by up to 2^-9 relative.
            const double tolerance = bf16 ? 1e-2 * scale : 1e-6;
            QVERIFY(scale > 0);
            QVERIFY2(diff <= tolerance, qPrintable(QString("rank %1: shard differs by %2 (largest %3)").arg(r).arg(diff).arg(scale)));
        }
    }
};

QTEST_GUILESS_MAIN(TestPartitionedGrads)
#include "tst_partitioned_grads.moc"
