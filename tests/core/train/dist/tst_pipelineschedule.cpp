// The pipeline schedules as pure functions: counts, order, warm-up, the activations each rank
// holds (== the planner's assumption in Activations.h), and that executing them with blocking
// receives and asynchronous sends finishes (no deadlock) for every shape.
#include "core/planner/Activations.h"
#include "core/train/dist/PipelineSchedule.h"

#include <QtTest>

#include <map>
#include <set>

using namespace meshwork;

class TestPipelineSchedule : public QObject {
    Q_OBJECT
private slots:
    void shapes_data();
    void everyOpOnceForwardFirst();
    void everyOpOnceForwardFirst_data() { shapes_data(); }
    void warmupAndInFlightMatchPlanner();
    void warmupAndInFlightMatchPlanner_data() { shapes_data(); }
    void executesWithoutDeadlock();
    void executesWithoutDeadlock_data() { shapes_data(); }
    void oneF1BExample();
    void rejectsBadShapes();
};

void TestPipelineSchedule::shapes_data()
{
    QTest::addColumn<int>("pp");
    QTest::addColumn<int>("vpp");
    QTest::addColumn<int>("m");
    for (int pp : {1, 2, 3, 4, 8})
        for (int m : {1, 2, 4, 8, 16}) QTest::addRow("1f1b pp%d m%d", pp, m) << pp << 1 << m;
    for (int pp : {2, 4})
        for (int vpp : {2, 3})
            for (int mult : {1, 2, 4}) QTest::addRow("interleaved pp%d vpp%d m%d", pp, vpp, pp * mult) << pp << vpp << pp * mult;
}

void TestPipelineSchedule::everyOpOnceForwardFirst()
{
    QFETCH(int, pp);
    QFETCH(int, vpp);
    QFETCH(int, m);
    const auto s = pipelineSchedule(pp, vpp, m);
    QCOMPARE(int(s.ranks.size()), pp);
    for (int i = 0; i < pp; ++i) {
        std::set<std::pair<int, int>> forwarded, backwarded;
        for (const auto& op : s.ranks[i]) {
            const auto key = std::make_pair(op.microBatch, op.chunk);
            QVERIFY(op.microBatch >= 0 && op.microBatch < m);
            QVERIFY(op.chunk >= 0 && op.chunk < vpp);
            if (op.kind == PipeOp::Forward) {
                QVERIFY2(forwarded.insert(key).second, "a micro-batch forwarded twice on one chunk");
            } else {
                QVERIFY2(forwarded.count(key), qPrintable(QString::fromStdString(describe(s))));
                QVERIFY2(backwarded.insert(key).second, "a micro-batch backwarded twice on one chunk");
            }
        }
        QCOMPARE(int(forwarded.size()), m * vpp);
        QCOMPARE(int(backwarded.size()), m * vpp);
        QCOMPARE(int(s.ranks[i].size()), 2 * m * vpp);
    }
}

void TestPipelineSchedule::warmupAndInFlightMatchPlanner()
{
    QFETCH(int, pp);
    QFETCH(int, vpp);
    QFETCH(int, m);
    const auto s = pipelineSchedule(pp, vpp, m);
    for (int i = 0; i < pp; ++i) {
        const int expectedWarmup = vpp == 1 ? std::min(pp - i - 1, m) : std::min((pp - i - 1) * 2 + (vpp - 1) * pp, m * vpp);
        QCOMPARE(s.warmup(i), expectedWarmup);
        // The planner counts whole-stage equivalents: chunks in flight / vpp.
        const double planner = inFlightMicroBatches(pp, vpp, m, i);
        QCOMPARE(double(s.maxInFlight(i)) / vpp, planner);
    }
    if (vpp == 1 && m >= pp)
        for (int i = 0; i < pp; ++i) QCOMPARE(s.maxInFlight(i), pp - i); // stage i holds pp - i
}

// Virtual stage of chunk c on rank i is c * pp + i. F(mb, s) needs F(mb, s - 1); B(mb, s) needs
// F(mb, s) and B(mb, s + 1). Each rank runs its ops in order, waiting only on its inputs
// (sends never block): the schedule must drain.
void TestPipelineSchedule::executesWithoutDeadlock()
{
    QFETCH(int, pp);
    QFETCH(int, vpp);
    QFETCH(int, m);
    const auto s = pipelineSchedule(pp, vpp, m);
    const int stages = pp * vpp;
    std::set<std::tuple<int, int, int>> done; // (kind, mb, virtual stage)
    std::vector<size_t> next(pp, 0);
    bool progress = true;
    while (progress) {
        progress = false;
        for (int i = 0; i < pp; ++i) {
            while (next[i] < s.ranks[i].size()) {
                const auto& op = s.ranks[i][next[i]];
                const int v = op.chunk * pp + i;
                bool ready;
                if (op.kind == PipeOp::Forward)
                    ready = v == 0 || done.count({PipeOp::Forward, op.microBatch, v - 1});
                else
                    ready = done.count({PipeOp::Forward, op.microBatch, v})
                         && (v == stages - 1 || done.count({PipeOp::Backward, op.microBatch, v + 1}));
                if (!ready) break;
                done.insert({op.kind, op.microBatch, v});
                ++next[i];
                progress = true;
            }
        }
    }
    for (int i = 0; i < pp; ++i)
        QVERIFY2(next[i] == s.ranks[i].size(), qPrintable("deadlock on rank " + QString::number(i) + "\n"
                                                          + QString::fromStdString(describe(s))));
}

void TestPipelineSchedule::oneF1BExample()
{
    // Narayanan et al. 2021 Figure 4 (top), 4 stages, 8 micro-batches, last stage alternates.
    const auto s = pipelineSchedule(4, 1, 8);
    QCOMPARE(QString::fromStdString(describe(s)).split('\n').at(3),
             QString("rank 3: F0.0 B0.0 F1.0 B1.0 F2.0 B2.0 F3.0 B3.0 F4.0 B4.0 F5.0 B5.0 F6.0 B6.0 F7.0 B7.0"));
    QCOMPARE(QString::fromStdString(describe(s)).split('\n').at(0),
             QString("rank 0: F0.0 F1.0 F2.0 F3.0 B0.0 F4.0 B1.0 F5.0 B2.0 F6.0 B3.0 F7.0 B4.0 B5.0 B6.0 B7.0"));
    // Interleaved, 2 ranks x 2 chunks, 4 micro-batches: rank 1 warms up with (2-1-1)*2+(2-1)*2 = 2.
    const auto v = pipelineSchedule(2, 2, 4);
    QCOMPARE(QString::fromStdString(describe(v)).split('\n').at(1),
             QString("rank 1: F0.0 F1.0 F0.1 B0.1 F1.1 B1.1 F2.0 B0.0 F3.0 B1.0 F2.1 B2.1 F3.1 B3.1 B2.0 B3.0"));
}

void TestPipelineSchedule::rejectsBadShapes()
{
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, pipelineSchedule(0, 1, 4));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, pipelineSchedule(2, 1, 0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, pipelineSchedule(4, 2, 6));
}

QTEST_APPLESS_MAIN(TestPipelineSchedule)
#include "tst_pipelineschedule.moc"
