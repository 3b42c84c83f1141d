// An out-of-memory event carries the allocator's figures and the planner's breakdown for
// the same plan, so a user sees the predicted terms beside what the card had.
#include "core/spec/Catalog.h"
#include "core/planner/Estimate.h"
#include "core/train/OomReport.h"
#include "core/train/PlannerPrediction.h"
#include "core/train/TrainOptions.h"

#include <QtTest>

using namespace meshwork;

class TestOomReport : public QObject {
    Q_OBJECT
private slots:
    void carriesAllocatorAndPlannerBreakdown()
    {
        TrainConfig config;
        config.model = *findModel("gpt2-124m");
        config.plan.microBatch = 16;
        config.plan.seq = 1024;
        const Json details = outOfMemoryDetails(config, 1, c10::Device(c10::kCPU));
        QVERIFY(details.find("allocator"));
        const Json* predicted = details.find("planner_estimate");
        QVERIFY(predicted && predicted->isObject());
        const Json* total = predicted->find("total_gib");
        QVERIFY(total && total->isNumber());
        QVERIFY(total->asNumber() > 1.0);
        const Json* stages = predicted->find("stages");
        QVERIFY(stages && stages->isArray() && stages->size() == 1);

        // A bigger micro-batch predicts more memory: the breakdown follows the plan.
        config.plan.microBatch = 64;
        const Json bigger = outOfMemoryDetails(config, 1, c10::Device(c10::kCPU));
        QVERIFY(bigger.find("planner_estimate")->find("total_gib")->asNumber() > total->asNumber());
    }

    // run_start's "predicted": the planner's figures for this run's stage, memory as the
    // allocator counts it (no context, no reserve) so it compares with mem_peak_gib.
    void predictionIsThePlannersStageEstimate()
    {
        TrainConfig config;
        config.model = *findModel("gpt2-124m");
        config.plan.microBatch = 8;
        config.plan.seq = 1024;
        config.plan.pp = 2;
        config.plan.globalBatch = 64;
        LocalCluster local;
        local.cluster.gpu = *findGpu("h100-sxm");
        local.cluster.nodes = 1;
        local.cluster.gpusPerNode = 2;
        local.knownCard = true;
        const Estimate e = estimate(config.model, local.cluster, config.plan, Target::Meshwork);
        QCOMPARE(e.memory.stages.size(), size_t(2));
        for (int stage : {0, 1}) {
            const Json p = plannerPrediction(config, local, stage);
            QVERIFY(p.isObject());
            const StageMemory& m = e.memory.stages[size_t(stage)];
            QCOMPARE(p.find("mem_gib")->asNumber(), m.total - m.context - m.reserve);
            QCOMPARE(p.find("mem_total_gib")->asNumber(), m.total);
            QCOMPARE(p.find("tokens_per_s")->asNumber(), e.throughput.tokensPerS);
            QCOMPARE(p.find("tflops")->asNumber(), e.throughput.tflopsPerGpu);
            const Json* stages = p.find("mem_stages_gib");
            QVERIFY(stages && stages->size() == 2);
            QCOMPARE(stages->asArray()[1].asNumber(), e.memory.stages[1].total - e.memory.stages[1].context - e.memory.stages[1].reserve);
        }
        // The stages differ (embeddings on the first, head and logits on the last).
        QVERIFY(plannerPrediction(config, local, 0).find("mem_gib")->asNumber()
                != plannerPrediction(config, local, 1).find("mem_gib")->asNumber());

        // A card the catalog does not know: memory still predicted, speed not claimed.
        local.knownCard = false;
        const Json unknown = plannerPrediction(config, local, 0);
        QVERIFY(unknown.find("mem_gib") && !unknown.find("tokens_per_s"));
        // On the CPU the planner has nothing to say.
        QVERIFY(plannerPrediction(config, 1, 0, c10::Device(c10::kCPU)).isNull());
    }
};

QTEST_APPLESS_MAIN(TestOomReport)
#include "test_oom_report.moc"
