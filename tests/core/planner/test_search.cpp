// The search: only valid plans (unless asked), sorted by throughput, the Pareto front of
// throughput against memory headroom consistent, progress reported, cancel honoured.
#include "PlannerFixtures.h"

#include "core/planner/Search.h"
#include "core/spec/StageLayers.h"

using namespace meshwork;
using namespace meshwork::fixtures;

namespace {

SearchOptions options(Target target, int64_t globalBatch, int64_t seq)
{
    SearchOptions o;
    o.target = target;
    o.base.globalBatch = globalBatch;
    o.base.seq = seq;
    return o;
}

} // namespace

class TestSearch : public QObject {
    Q_OBJECT
private slots:
    void resultsValidSortedPareto_data()
    {
        QTest::addColumn<QString>("modelName");
        QTest::addColumn<int>("nodes");
        QTest::addColumn<QString>("target");
        QTest::newRow("llama2-7b, 2 nodes, meshwork") << "llama2-7b" << 2 << "meshwork";
        QTest::newRow("llama2-13b, 4 nodes, megatron") << "llama2-13b" << 4 << "megatron";
    }
    void resultsValidSortedPareto()
    {
        QFETCH(QString, modelName);
        QFETCH(int, nodes);
        QFETCH(QString, target);
        const ModelSpec m = model(modelName.toUtf8().constData());
        const ClusterSpec c = cluster("h100-sxm", nodes);
        int calls = 0;
        double last = -1;
        bool monotone = true;
        SearchOptions o = options(targetFromName(target), 256, 4096);
        o.progress = [&](double f) {
            ++calls;
            monotone = monotone && f >= last && f >= 0 && f <= 1;
            last = f;
            return true;
        };
        const SearchOutcome r = searchPlans(m, c, o);
        QVERIFY(!r.cancelled);
        QVERIFY(calls > 1);
        QVERIFY(monotone);
        QCOMPARE(last, 1.0);
        QVERIFY(r.results.size() > 10);
        QVERIFY(r.considered >= r.results.size());

        bool sawTp = false, sawPp = false, sawZero3 = false, sawRecompute = false;
        double bestHeadroom = -1e300;
        for (size_t i = 0; i < r.results.size(); ++i) {
            const SearchResult& x = r.results[i];
            QVERIFY2(x.estimate.valid, x.estimate.errors.empty() ? "" : x.estimate.errors.front().c_str());
            QVERIFY(x.plan.validate(m, &c).empty());
            QCOMPARE(x.plan.worldSize(), c.worldSize());
            QCOMPARE(x.plan.effectiveGlobalBatch(), int64_t(256));
            QCOMPARE(x.headroomGiB, c.gpu.memoryGiB - x.estimate.memory.totalGiB);
            QVERIFY(x.headroomGiB >= 0);
            if (i > 0)
                QVERIFY(r.results[i - 1].estimate.throughput.tokensPerS >= x.estimate.throughput.tokensPerS);
            // On the front exactly when no faster (or equally fast, listed earlier) plan has as
            // much headroom.
            QCOMPARE(x.pareto, x.headroomGiB > bestHeadroom);
            bestHeadroom = std::max(bestHeadroom, x.headroomGiB);
            sawTp = sawTp || x.plan.tp > 1;
            sawPp = sawPp || x.plan.pp > 1;
            sawZero3 = sawZero3 || x.plan.zero == 3;
            sawRecompute = sawRecompute || x.plan.recompute != Recompute::None;
        }
        QVERIFY(r.results.front().pareto);
        QVERIFY(sawTp && sawPp && sawZero3 && sawRecompute);
    }

    // Pipelines in the results take the stage layers that even their stages' time
    // (StageBalance.h) where they fit: each such plan is at least as fast as its even twin, and
    // with balanceStages off every split is even.
    void pipelinesAreBalanced()
    {
        const ModelSpec m = model("llama-1b"); // a head of 128,256 words: about 2.5 layers' time
        const ClusterSpec c = cluster("h100-sxm", 1);
        SearchOptions o = options(Target::Meshwork, 64, 1024);
        const SearchOutcome r = searchPlans(m, c, o);
        int balanced = 0;
        for (const SearchResult& x : r.results) {
            if (x.plan.stageLayers.empty()) continue;
            ++balanced;
            QCOMPARE(int(x.plan.stageLayers.size()), x.plan.pp * x.plan.vpp);
            QVERIFY(x.plan.validate(m, &c).empty());
            Plan even = x.plan;
            even.stageLayers.clear();
            const Estimate e = estimate(m, c, even, Target::Meshwork);
            QVERIFY2(x.estimate.throughput.tokensPerS >= e.throughput.tokensPerS,
                     qPrintable(QString("pp %1 vpp %2 dp %3 tp %4 zero %5 mb %6 recompute %7 split %8: %9 against even %10")
                                    .arg(x.plan.pp).arg(x.plan.vpp).arg(x.plan.dp).arg(x.plan.tp).arg(x.plan.zero)
                                    .arg(x.plan.microBatch).arg(toString(x.plan.recompute))
                                    .arg(QString::fromStdString(formatStageLayers(x.plan.stageLayers)))
                                    .arg(x.estimate.throughput.tokensPerS).arg(e.throughput.tokensPerS)));
        }
        QVERIFY2(balanced > 0, "no pipeline in the results took an uneven split");
        o.balanceStages = false;
        for (const SearchResult& x : searchPlans(m, c, o).results) QVERIFY(x.plan.stageLayers.empty());
    }

    void includeInvalid()
    {
        const ModelSpec m = model("llama2-7b");
        const ClusterSpec c = cluster("h100-sxm", 1);
        SearchOptions o = options(Target::Meshwork, 64, 4096);
        const SearchOutcome valid = searchPlans(m, c, o);
        o.includeInvalid = true;
        const SearchOutcome all = searchPlans(m, c, o);
        QVERIFY(all.results.size() > valid.results.size());
        size_t invalid = 0;
        for (const SearchResult& x : all.results) {
            invalid += x.estimate.valid ? 0 : 1;
            if (!x.estimate.valid) QVERIFY(!x.pareto);
        }
        QCOMPARE(all.results.size() - invalid, valid.results.size());
    }

    void cancel()
    {
        const ModelSpec m = model("llama2-13b");
        const ClusterSpec c = cluster("h100-sxm", 4);
        SearchOptions o = options(Target::Megatron, 256, 4096);
        const size_t full = searchPlans(m, c, o).considered;
        int calls = 0;
        o.progress = [&](double) { return ++calls < 3; };
        const SearchOutcome r = searchPlans(m, c, o);
        QVERIFY(r.cancelled);
        QCOMPARE(calls, 3);
        QVERIFY(r.considered < full);
        for (size_t i = 1; i < r.results.size(); ++i)
            QVERIFY(r.results[i - 1].estimate.throughput.tokensPerS >= r.results[i].estimate.throughput.tokensPerS);
    }

    void noPlanFits()
    {
        // LLaMA-3 405B on a single GPU: nothing fits, nothing returned.
        const SearchOutcome r = searchPlans(model("llama3-405b"), cluster("h100-sxm", 1, 1), options(Target::Meshwork, 8, 4096));
        QVERIFY(r.results.empty());
        QVERIFY(r.considered > 0);
    }
};

QTEST_GUILESS_MAIN(TestSearch)
#include "test_search.moc"
