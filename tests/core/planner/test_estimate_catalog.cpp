// Every catalog model on every catalog GPU, with plans across the option space, both targets:
// every term finite and non-negative, totals the sum of their terms, and the search's best plan
// at least as fast as a hand-written one that fits.
#include "PlannerFixtures.h"

#include "core/planner/Search.h"

#include <cmath>

using namespace meshwork;
using namespace meshwork::fixtures;

namespace {

bool sane(double v) { return std::isfinite(v) && v >= 0; }

void checkSane(const Estimate& e, const std::string& what)
{
    const std::string ctx = what.c_str();
    QVERIFY2(sane(e.memory.totalGiB) && sane(e.memory.hostGiB), ctx.c_str());
    for (const StageMemory& s : e.memory.stages) {
        for (double v : {s.weights, s.gradients, s.optimizer, s.activations, s.logits, s.buffers, s.context, s.reserve, s.host})
            QVERIFY2(sane(v), ctx.c_str());
        const double sum = s.weights + s.gradients + s.optimizer + s.activations + s.logits + s.buffers + s.context + s.reserve;
        QVERIFY2(std::abs(sum - s.total) <= 1e-9 * s.total, ctx.c_str());
        QVERIFY2(s.total <= e.memory.totalGiB + 1e-12, ctx.c_str());
    }
    const TimeEstimate& t = e.time;
    for (double v : {t.compute, t.attention, t.memoryBound, t.recompute, t.tpComm, t.cpComm, t.host, t.ppComm, t.bubble, t.dpComm,
                     t.dpCommTotal, t.optimizer, t.step})
        QVERIFY2(sane(v), ctx.c_str());
    QVERIFY2(t.step > 0, ctx.c_str());
    QVERIFY2(t.dpComm <= t.dpCommTotal + 1e-15, ctx.c_str());
    QVERIFY2(sane(e.throughput.tokensPerS) && e.throughput.tokensPerS > 0, ctx.c_str());
    QVERIFY2(e.throughput.mfu > 0 && e.throughput.mfu < 1, ctx.c_str());
    QVERIFY2(e.throughput.hardwareTflopsPerGpu >= e.throughput.tflopsPerGpu, ctx.c_str());
}

} // namespace

class TestEstimateCatalog : public QObject {
    Q_OBJECT
private slots:
    void everyModelEveryGpu()
    {
        int checked = 0;
        for (const ModelSpec& m : modelCatalog())
            for (const GpuSpec& g : gpuCatalog())
                for (Target target : {Target::Meshwork, Target::Megatron})
                    for (int variant = 0; variant < 6; ++variant) {
                        ClusterSpec c;
                        c.gpu = g;
                        c.nodes = 2;
                        c.gpusPerNode = 8;
                        Plan p = plan(16, 1, 1, 1, 64, std::min<int64_t>(m.maxSeq, 2048));
                        p.zero = variant % 4;
                        p.recompute = variant < 2 ? Recompute::None : variant < 4 ? Recompute::Selective : Recompute::Full;
                        if (variant == 3 && m.layers % 2 == 0) { p.pp = 2; p.dp = 8; }
                        if (variant == 5 && m.heads % 2 == 0 && m.kvHeads % 2 == 0 && m.ffn % 2 == 0) {
                            p.tp = 2; p.dp = 8; p.sp = true;
                        }
                        if (variant == 4) { p.offload = Offload::Optimizer; p.zero = 1; }
                        checkSane(estimate(m, c, p, target), m.name + " on " + g.id + " variant " + std::to_string(variant));
                        ++checked;
                    }
        QVERIFY(checked > 100);
    }

    void searchBeatsAHandwrittenPlan()
    {
        const ModelSpec m = model("llama2-13b");
        const ClusterSpec c = cluster("a100-80gb", 2);
        Plan p = plan(8, 2, 1, 1, 128, 4096);
        p.zero = 1;
        p.sp = true;
        p.recompute = Recompute::Selective;
        const Estimate hand = estimate(m, c, p, Target::Megatron);
        QVERIFY2(hand.valid, hand.errors.empty() ? "" : hand.errors.front().c_str());
        SearchOptions o;
        o.target = Target::Megatron;
        o.base = p;
        const SearchOutcome r = searchPlans(m, c, o);
        QVERIFY(!r.results.empty());
        QVERIFY(r.results.front().estimate.throughput.tokensPerS >= hand.throughput.tokensPerS);
        // The hand-written plan is among the results, with the same estimate.
        bool found = false;
        for (const SearchResult& x : r.results)
            if (x.plan == p) {
                found = true;
                QCOMPARE(x.estimate.throughput.tokensPerS, hand.throughput.tokensPerS);
                QCOMPARE(x.estimate.memory.totalGiB, hand.memory.totalGiB);
            }
        QVERIFY(found);
    }
};

QTEST_GUILESS_MAIN(TestEstimateCatalog)
#include "test_estimate_catalog.moc"
