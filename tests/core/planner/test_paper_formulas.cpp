// The planner reproduces the literature exactly where the literature is exact:
// ZeRO model states (Rajbhandari et al. 2020), activation memory per layer (Korthikanti et
// al. 2022, Table 2) and FLOPs per iteration (Narayanan et al. 2021, eq. 3).
#include "core/planner/Activations.h"
#include "core/planner/ModelStates.h"
#include "core/planner/PaperFormulas.h"
#include "core/planner/TimeModel.h"
#include "core/spec/Flops.h"
#include "core/spec/ModelSpec.h"

#include <QtTest>

#include <cmath>

using namespace meshwork;
using paper::PaperRecompute;

Q_DECLARE_METATYPE(PaperRecompute)

namespace {

ModelSpec gptModel(int64_t layers, int64_t hidden, int64_t heads, int64_t vocab)
{
    ModelSpec m;
    m.name = "gpt";
    m.layers = layers;
    m.hidden = hidden;
    m.heads = heads;
    m.vocab = vocab;
    m.paddedVocab = vocab;
    m.maxSeq = 4096;
    m.ffnKind = FfnKind::Gelu;
    m.fillDerived(); // kv heads = heads, ffn = 4h
    return m;
}

Recompute toPlan(PaperRecompute r)
{
    return r == PaperRecompute::None ? Recompute::None : r == PaperRecompute::Selective ? Recompute::Selective : Recompute::Full;
}

} // namespace

class TestPaperFormulas : public QObject {
    Q_OBJECT
private slots:
    // (a) Rajbhandari et al. 2020, Figure 1: 7.5B parameters, 64 GPUs, K = 12:
    // 120 / 31.4 / 16.6 / 1.9 GB for ZeRO stages 0 / 1 / 2 / 3.
    void zeroModelStates_data()
    {
        QTest::addColumn<int>("stage");
        QTest::addColumn<double>("exactBytes");
        QTest::addColumn<double>("paperGB");
        QTest::newRow("baseline") << 0 << 120e9 << 120.0;
        QTest::newRow("P_os") << 1 << 31.40625e9 << 31.4;
        QTest::newRow("P_os+g") << 2 << 16.640625e9 << 16.6;
        QTest::newRow("P_os+g+p") << 3 << 1.875e9 << 1.9;
    }
    void zeroModelStates()
    {
        QFETCH(int, stage);
        QFETCH(double, exactBytes);
        QFETCH(double, paperGB);
        const double psi = 7.5e9;
        const double bytes = paper::zeroModelStateBytes(psi, 12, 64, stage);
        QCOMPARE(bytes, exactBytes);
        QCOMPARE(std::round(bytes / 1e9 * 10) / 10, paperGB);

        // The planner's own sharding (ModelStates.cpp) with the paper's byte counts (fp16
        // weights and gradients, K = 12 = fp32 master 4 + Adam 8) gives the same bytes.
        StateBytes sb;
        sb.weights = 2;
        sb.gradients = 2;
        sb.optimizer = 8;
        sb.master = 4;
        Plan p;
        p.dp = 64;
        p.zero = stage;
        const ModelStateMemory m = modelStateMemory(sb, psi, psi, 0, 0, p);
        QCOMPARE(m.weights + m.gradients + m.optimizer, exactBytes);
    }

    // (b) Korthikanti et al. 2022, Table 2, for two shapes.
    void korthikanti_data()
    {
        QTest::addColumn<double>("s");
        QTest::addColumn<double>("b");
        QTest::addColumn<double>("h");
        QTest::addColumn<double>("a");
        QTest::addColumn<double>("t");
        QTest::addColumn<bool>("sp");
        QTest::addColumn<PaperRecompute>("recompute");
        QTest::addColumn<double>("bytes");
        // GPT-3 175B layer: s 2048, b 1, h 12288, a 96, t 8.
        QTest::newRow("175B no parallelism: sbh(34+5as/h)") << 2048.0 << 1.0 << 12288.0 << 96.0 << 1.0 << false << PaperRecompute::None << 2868903936.0;
        QTest::newRow("175B tp 8: sbh(10+24/t+5as/ht)") << 2048.0 << 1.0 << 12288.0 << 96.0 << 8.0 << false << PaperRecompute::None << 578813952.0;
        QTest::newRow("175B tp 8 + sp: sbh/t(34+5as/h)") << 2048.0 << 1.0 << 12288.0 << 96.0 << 8.0 << true << PaperRecompute::None << 358612992.0;
        QTest::newRow("175B tp 8 selective: sbh(10+24/t)") << 2048.0 << 1.0 << 12288.0 << 96.0 << 8.0 << false << PaperRecompute::Selective << 327155712.0;
        QTest::newRow("175B tp 8 + sp selective: sbh 34/t") << 2048.0 << 1.0 << 12288.0 << 96.0 << 8.0 << true << PaperRecompute::Selective << 106954752.0;
        QTest::newRow("175B full: 2sbh") << 2048.0 << 1.0 << 12288.0 << 96.0 << 8.0 << false << PaperRecompute::Full << 50331648.0;
        // s 4096, b 2, h 4096, a 32, t 4.
        QTest::newRow("7B-like no parallelism") << 4096.0 << 2.0 << 4096.0 << 32.0 << 1.0 << false << PaperRecompute::None << 6509559808.0;
        QTest::newRow("7B-like tp 4") << 4096.0 << 2.0 << 4096.0 << 32.0 << 4.0 << false << PaperRecompute::None << 1879048192.0;
        QTest::newRow("7B-like tp 4 + sp") << 4096.0 << 2.0 << 4096.0 << 32.0 << 4.0 << true << PaperRecompute::None << 1627389952.0;
        QTest::newRow("7B-like tp 4 selective") << 4096.0 << 2.0 << 4096.0 << 32.0 << 4.0 << false << PaperRecompute::Selective << 536870912.0;
        QTest::newRow("7B-like tp 4 + sp selective") << 4096.0 << 2.0 << 4096.0 << 32.0 << 4.0 << true << PaperRecompute::Selective << 285212672.0;
        QTest::newRow("7B-like full") << 4096.0 << 2.0 << 4096.0 << 32.0 << 4.0 << false << PaperRecompute::Full << 67108864.0;
    }
    void korthikanti()
    {
        QFETCH(double, s);
        QFETCH(double, b);
        QFETCH(double, h);
        QFETCH(double, a);
        QFETCH(double, t);
        QFETCH(bool, sp);
        QFETCH(PaperRecompute, recompute);
        QFETCH(double, bytes);
        QCOMPARE(paper::korthikantiLayerActivationBytes(s, b, h, a, t, sp, recompute), bytes);

        // The megatron target's generalised per-layer count (GQA, SwiGLU) reduces to Table 2
        // for a GPT layer (kv = h, f = 4h) with the attention scores materialised.
        ActivationShape x;
        x.s = s; x.b = b; x.h = h; x.f = 4 * h; x.kv = h; x.a = a; x.t = t; x.sp = sp;
        QCOMPARE(layerActivationBytes(Target::Megatron, x, Precision::Bf16, toPlan(recompute), false), bytes);
    }

    // (c) Narayanan et al. 2021 eq. 3 for a GPT model with a 4h MLP and vocabulary V.
    void narayananFlops_data()
    {
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("hidden");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("vocab");
        QTest::addColumn<int>("seq");
        QTest::addColumn<int>("batch");
        QTest::newRow("GPT-3 175B") << 96 << 12288 << 96 << 51200 << 2048 << 1536;
        QTest::newRow("GPT 1.7B") << 24 << 2304 << 24 << 51200 << 2048 << 512;
        QTest::newRow("GPT-2 124M (padded vocab)") << 12 << 768 << 12 << 50304 << 1024 << 16;
    }
    void narayananFlops()
    {
        QFETCH(int, layers);
        QFETCH(int, hidden);
        QFETCH(int, heads);
        QFETCH(int, vocab);
        QFETCH(int, seq);
        QFETCH(int, batch);
        const ModelSpec m = gptModel(layers, hidden, heads, vocab);
        const double tokens = double(batch) * seq;
        const double model = paper::narayananIterationFlops(batch, seq, layers, hidden, vocab, false);
        const double hardware = paper::narayananIterationFlops(batch, seq, layers, hidden, vocab, true);
        // Same function the trainer uses (core/spec/Flops.h).
        QVERIFY(std::abs(trainingFlopsPerToken(m, seq) * tokens / model - 1) < 1e-12);
        QVERIFY(std::abs(hardwareFlopsPerToken(m, seq, Recompute::Full) * tokens / hardware - 1) < 1e-12);
        QVERIFY(hardwareFlopsPerToken(m, seq, Recompute::None) == trainingFlopsPerToken(m, seq));
    }
};

QTEST_GUILESS_MAIN(TestPaperFormulas)
#include "test_paper_formulas.moc"
