// The planner and Meshwork's trainer agree on what the trainer cannot run yet: for the
// meshwork target the estimate's errors carry unsupportedParallelism()'s messages word for
// word (the trainer refuses the same plan with them: tst_distoptions, test_train_setup); other
// targets are not limited by our trainer.
#include "PlannerFixtures.h"

#include "core/planner/TrainerSupport.h"

#include <algorithm>

using namespace meshwork;
using namespace meshwork::fixtures;

class TestTrainerSupport : public QObject {
    Q_OBJECT
private slots:
    void meshworkTargetRefusesWhatTheTrainerRefuses_data()
    {
        QTest::addColumn<int>("tp");
        QTest::addColumn<int>("pp");
        QTest::addColumn<int>("zero");
        QTest::addColumn<int>("optimizer");
        QTest::addColumn<QString>("message"); // empty: the trainer runs it
        const int adamw = int(Optimizer::AdamW), lamb = int(Optimizer::Lamb);
        QTest::newRow("zero3 dp") << 1 << 1 << 3 << adamw << "";
        QTest::newRow("zero2 tp2") << 2 << 1 << 2 << adamw << "";
        QTest::newRow("zero3 tp2") << 2 << 1 << 3 << adamw << "ZeRO-3 with tensor or pipeline parallelism (tp 2, pp 1)";
        QTest::newRow("zero3 pp2") << 1 << 2 << 3 << adamw << "ZeRO-3 with tensor or pipeline parallelism (tp 1, pp 2)";
        QTest::newRow("zero3 lamb") << 1 << 1 << 3 << lamb << ""; // per-tensor norms summed over the shards (Zero3.h)
    }
    void meshworkTargetRefusesWhatTheTrainerRefuses()
    {
        QFETCH(int, tp);
        QFETCH(int, pp);
        QFETCH(int, zero);
        QFETCH(int, optimizer);
        QFETCH(QString, message);
        const ModelSpec m = model("llama2-7b");
        const ClusterSpec c = cluster("h100-sxm", 4);
        Plan p = plan(32 / (tp * pp), tp, pp, 1, 256, 4096);
        p.zero = zero;
        p.optimizer = static_cast<Optimizer>(optimizer);
        const Estimate mine = estimate(m, c, p, Target::Meshwork);
        const std::vector<std::string> refused = unsupportedParallelism(p);
        QCOMPARE(refused.empty(), message.isEmpty());
        for (const std::string& r : refused) {
            QVERIFY2(QString::fromStdString(r).contains(message), r.c_str());
            QVERIFY2(std::find(mine.errors.begin(), mine.errors.end(), r) != mine.errors.end(), r.c_str());
        }
        if (!refused.empty()) QVERIFY(!mine.valid);
        // Megatron runs these plans: no trainer message there.
        for (const std::string& e : estimate(m, c, p, Target::Megatron).errors)
            QVERIFY2(std::find(refused.begin(), refused.end(), e) == refused.end(), e.c_str());
    }

    // --embedding-grad auto: the lookup's rows are gathered where the trainer's whole-model data
    // parallelism reduces the gradients and the rows are fewer bytes than the [V, C] matrix.
    void embeddingRowsWhereTheTrainerGathersThem()
    {
        const int64_t V = 50304; // GPT-2's padded vocabulary
        Plan p = plan(2, 1, 1, 8, 16, 1024); // 8 x 1024 tokens a rank and step
        QVERIFY(gathersEmbeddingRows(p, V));
        p.zero = 2;
        QVERIFY(gathersEmbeddingRows(p, V)); // ZeRO-2 reduces through GradientSync too
        p.zero = 3;
        QVERIFY(!gathersEmbeddingRows(p, V)); // Zero3 reduces each unit itself
        QVERIFY(!gathersEmbeddingRows(plan(1, 1, 1, 8, 8, 1024), V));     // one rank: nothing to reduce
        QVERIFY(!gathersEmbeddingRows(plan(1, 2, 1, 8, 8, 1024), V));     // tp: ParallelModel
        QVERIFY(!gathersEmbeddingRows(plan(1, 1, 2, 8, 32, 1024), V));    // pp: ParallelModel
        QVERIFY(!gathersEmbeddingRows(plan(4, 1, 1, 8, 128, 1024), V));   // 4 micro-batches a step
        QVERIFY(gathersEmbeddingRows(plan(12, 1, 1, 8, 96, 1024), V));
        QVERIFY(!gathersEmbeddingRows(plan(13, 1, 1, 8, 104, 1024), V));
    }
};

QTEST_GUILESS_MAIN(TestTrainerSupport)
#include "test_trainer_support.moc"
