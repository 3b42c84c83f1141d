// An out-of-memory event carries the allocator's figures and the planner's breakdown for
// the same plan, so a user sees the predicted terms beside what the card had.
#include "core/spec/Catalog.h"
#include "core/train/OomReport.h"
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
};

QTEST_APPLESS_MAIN(TestOomReport)
#include "test_oom_report.moc"
