// ZeRO-1/2's overlapped parameter gather (ShardedOptimizer::overlapGather): the pieces cover
// the flat buffer once, each inside its owner's shard, in the order the forward reads them,
// small first and growing;
// and on two ranks over Gloo (threads of this process) the forward after a step waits for
// what each unit reads, so losses and parameters equal one process's AdamW steps.
#include "core/spec/Catalog.h"
#include "core/train/Model.h"
#include "core/train/Optimizer.h"
#include "core/train/ParameterLayout.h"
#include "core/train/dist/Mesh.h"
#include "core/train/dist/ShardedOptimizer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include "TwoRanks.h"

#include <QtTest>

#include <algorithm>
#include <array>
#include <limits>
#include <set>

using namespace meshwork;

class TestParamGather : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { at::set_num_threads(1); }

    void piecesCoverTheBufferInOrderOfNeed_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("ranks");
        QTest::addColumn<qlonglong>("pieceElements"); // the minimum
        QTest::newRow("gpt-nano, 2 ranks, small pieces") << "gpt-nano" << 2 << qlonglong(1000);
        QTest::newRow("gpt-nano, 3 ranks, small pieces") << "gpt-nano" << 3 << qlonglong(777);
        QTest::newRow("llama-nano, 4 ranks, small pieces") << "llama-nano" << 4 << qlonglong(1500);
        QTest::newRow("llama-nano, 2 ranks, 64-element pieces") << "llama-nano" << 2 << qlonglong(64);
        QTest::newRow("gpt-nano, 2 ranks, one piece a shard") << "gpt-nano" << 2 << std::numeric_limits<qlonglong>::max();
        QTest::newRow("gpt2-124m, 2 ranks, 25 MB") << "gpt2-124m" << 2 << qlonglong(25 << 20) / 4;
        QTest::newRow("llama-1b, 4 ranks, 25 MB") << "llama-1b" << 4 << qlonglong(25 << 20) / 4;
    }
    void piecesCoverTheBufferInOrderOfNeed()
    {
        QFETCH(QString, model);
        QFETCH(int, ranks);
        QFETCH(qlonglong, pieceElements);
        const ModelSpec spec = *findModel(model.toStdString());
        const ParameterLayout layout = parameterLayout(spec);
        const std::vector<GatherPiece> pieces = gatherPieces(layout, spec.layers, ranks, pieceElements);
        QVERIFY(pieces.size() >= size_t(ranks));
        // GPT-2 124M on 2 ranks: wte and wpe (150 MB), the first layer (27 MB), the tail (0.5 MB),
        // the rest of rank 0's shard (60 MB), rank 1's layers (237 MB).
        if (model == "gpt2-124m") QCOMPARE(int(pieces.size()), 5);

        // Where a unit's run of matrices starts (the buffer's prefix is in the forward's order),
        // the undecayed tail, and the shard boundaries: the only places a piece may start.
        std::set<int64_t> starts{layout.decayElements};
        int previousUnit = -1;
        for (const ParamInfo& info : layout.params) {
            const int u = parameterUnit(info.name, spec.layers);
            if (info.decays() && u != previousUnit) starts.insert(info.offset);
            if (info.decays()) previousUnit = u;
        }
        for (int r = 0; r < ranks; ++r) starts.insert(ShardRange::of(layout.totalElements, r, ranks).begin);
        int64_t issued = 0;
        for (size_t i = 0; i < pieces.size(); ++i) {
            const GatherPiece& p = pieces[i];
            QVERIFY2(starts.count(p.begin), "a piece starts inside a unit's run");
            // A piece stops taking the runs after it only once it holds the minimum and as many
            // elements as the pieces before it (or where the next is not its owner's next run).
            if (i + 1 < pieces.size() && pieces[i + 1].owner == p.owner && pieces[i + 1].begin == p.end)
                QVERIFY(p.end - p.begin >= std::max<int64_t>(pieceElements, issued));
            issued += p.end - p.begin;
        }

        std::vector<GatherPiece> byOffset = pieces;
        std::sort(byOffset.begin(), byOffset.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
        int64_t next = 0;
        for (const GatherPiece& p : byOffset) {
            QCOMPARE(p.begin, next); // no gap, no overlap
            QVERIFY(p.end > p.begin);
            const ShardRange shard = ShardRange::of(layout.totalElements, p.owner, ranks);
            QVERIFY2(p.begin >= shard.begin && p.end <= shard.end, "a piece leaves its owner's shard");
            int need = std::numeric_limits<int>::max();
            for (const ParamInfo& info : layout.params)
                if (info.offset < p.end && info.offset + info.numel() > p.begin)
                    need = std::min(need, parameterUnit(info.name, spec.layers));
            QCOMPARE(p.need, need);
            next = p.end;
        }
        QCOMPARE(next, layout.totalElements);

        for (size_t i = 1; i < pieces.size(); ++i) {
            QVERIFY(pieces[i - 1].need <= pieces[i].need);
            if (pieces[i - 1].need == pieces[i].need) QVERIFY(pieces[i - 1].begin < pieces[i].begin);
        }
        // The embeddings go first. The first layer's norm lies in the tail of undecayed tensors
        // at the end of the buffer, in the last rank's shard, yet its piece is waited for by the
        // first layer (with every piece of need 1), not after the whole buffer.
        QCOMPARE(pieces.front().begin, int64_t(0));
        QCOMPARE(pieces.front().need, 0);
        const int64_t ln1 = layout.find("h.0.ln_1.weight")->offset;
        const auto holdingLn1 = std::find_if(pieces.begin(), pieces.end(),
                                             [&](const auto& p) { return p.begin <= ln1 && ln1 < p.end; });
        QCOMPARE(holdingLn1->need, 1);
        QCOMPARE(holdingLn1->owner, ranks - 1);
    }

    void forwardWaitsForWhatItReads_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("zero");
        QTest::newRow("gpt-nano (tied head), ZeRO-1") << "gpt-nano" << 1;
        QTest::newRow("llama-nano, ZeRO-2") << "llama-nano" << 2;
    }
    void forwardWaitsForWhatItReads()
    {
        // Both ranks start from the same weights and the same (already averaged) gradients, so
        // each step is one process's step: rank r updates its shard and broadcasts it in small
        // pieces; the next forward, through the unit hooks, must see every updated piece.
        QFETCH(QString, model);
        QFETCH(int, zero);
        const ModelSpec spec = *findModel(model.toStdString());
        const c10::Device cpu(c10::kCPU);
        OptimizerConfig oc;
        oc.weightDecay = 0.1;
        auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
        const at::Tensor x = at::randint(spec.vocab, {2, 16}, gen, at::TensorOptions().dtype(at::kLong));
        const at::Tensor y = at::randint(spec.vocab, {2, 16}, gen, at::TensorOptions().dtype(at::kLong));

        constexpr int kSteps = 3;
        TransformerModel ref(spec, Recompute::None, cpu);
        ref.initialize(21);
        FlatOptimizer refOpt(oc, ref.layout(), ref.flatParams(), ref.flatGrads());
        std::array<double, kSteps> refLoss{};
        std::vector<at::Tensor> grads;
        for (int s = 0; s < kSteps; ++s) {
            ref.zeroGrad();
            ref.loss(x, y).backward();
            grads.push_back(ref.flatGrads().clone());
            refOpt.step(1e-2);
            at::NoGradGuard noGrad;
            refLoss[s] = ref.loss(x, y).item<double>();
        }

        std::array<std::array<double, kSteps>, 2> loss{};
        std::array<at::Tensor, 2> params;
        std::array<int, 2> pieceCount{};
        const auto errors = test::onTwoRanks(zero, [&](int r, Mesh& mesh) {
            TransformerModel m(spec, Recompute::None, cpu);
            m.initialize(21);
            ShardedOptimizer opt(oc, m.layout(), m.flatParams(), m.flatGrads(), mesh, mesh.zeroGroup(), 0.0);
            opt.overlapGather(m.layout(), spec.layers, 500);
            m.setUnitHooks(&opt);
            pieceCount[r] = opt.gatherPieceCount();
            for (int s = 0; s < kSteps; ++s) {
                m.flatGrads().copy_(grads[s]);
                opt.step(1e-2);
                at::NoGradGuard noGrad;
                loss[r][s] = m.loss(x, y).item<double>();
            }
            opt.finishGather();
            params[r] = m.flatParams().clone();
        });
        for (int r = 0; r < 2; ++r) {
            QVERIFY2(errors[r].empty(), errors[r].c_str());
            QVERIFY(pieceCount[r] >= 4); // the embeddings, the first layer, the tail, the rest
            for (int s = 0; s < kSteps; ++s)
                QVERIFY2(std::abs(loss[r][s] - refLoss[s]) < 1e-5 * std::abs(refLoss[s]),
                         qPrintable(QString("rank %1 step %2: loss %3 against %4").arg(r).arg(s + 1)
                                        .arg(loss[r][s], 0, 'g', 9).arg(refLoss[s], 0, 'g', 9)));
            const double diff = (params[r] - ref.flatParams()).abs().max().item<double>();
            QVERIFY2(diff < 1e-6, qPrintable(QString("rank %1: parameters differ by %2").arg(r).arg(diff)));
        }
    }
};

QTEST_GUILESS_MAIN(TestParamGather)
#include "tst_param_gather.moc"
