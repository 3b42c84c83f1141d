// The JSON of `meshwork-cli plan --json`: its keys and types, for valid and invalid plans.
#include "PlannerFixtures.h"

#include "core/json/Json.h"

using namespace meshwork;
using namespace meshwork::fixtures;

namespace {

void requireNumber(const Json& j, const char* key)
{
    const Json* v = j.find(key);
    QVERIFY2(v, qPrintable(QString("missing key %1").arg(key)));
    QVERIFY2(v->isNumber(), qPrintable(QString("%1 is not a number").arg(key)));
}

} // namespace

class TestEstimateJson : public QObject {
    Q_OBJECT
private slots:
    void shape_data()
    {
        QTest::addColumn<int>("pp");
        QTest::addColumn<bool>("valid");
        QTest::newRow("valid, pp 2") << 2 << true;
        QTest::newRow("invalid: world size") << 3 << false;
    }
    void shape()
    {
        QFETCH(int, pp);
        QFETCH(bool, valid);
        Plan p = plan(4, 1, pp, 1, 32, 1024);
        p.zero = 1;
        const Estimate e = estimate(model("gpt2-355m"), cluster("h100-sxm", 1), p, Target::Meshwork);
        QCOMPARE(e.valid, valid);
        // Through text and back, as the CLI prints it and a reader parses it.
        std::string error;
        const auto parsed = Json::parse(estimateToJson(e).dump(2), &error);
        QVERIFY2(parsed, error.c_str());
        const Json& j = *parsed;
        QVERIFY(j.find("valid") && j.find("valid")->isBool());
        QCOMPARE(j.find("valid")->asBool(), valid);
        QVERIFY(j.find("errors") && j.find("errors")->isArray());
        QVERIFY(j.find("warnings") && j.find("warnings")->isArray());
        QCOMPARE(j.find("errors")->size(), e.errors.size());
        if (!valid) {
            QVERIFY(j.find("errors")->size() > 0);
            QVERIFY(j.find("errors")->asArray().front().isString());
        }

        const Json* mem = j.find("memory");
        QVERIFY(mem && mem->isObject());
        requireNumber(*mem, "total_gib");
        requireNumber(*mem, "capacity_gib");
        requireNumber(*mem, "host_gib");
        const Json* stages = mem->find("stages");
        QVERIFY(stages && stages->isArray());
        QCOMPARE(int(stages->size()), pp);
        for (const Json& s : stages->asArray()) {
            for (const char* key : {"stage", "layers", "weights_gib", "gradients_gib", "optimizer_gib", "activations_gib",
                                    "logits_gib", "buffers_gib", "context_gib", "reserve_gib", "total_gib", "host_gib"})
                requireNumber(s, key);
        }
        QCOMPARE(stages->asArray().back().find("stage")->asNumber(), double(pp - 1));
        QCOMPARE(mem->find("total_gib")->asNumber(), e.memory.totalGiB);

        const Json* time = j.find("time");
        QVERIFY(time && time->isObject());
        for (const char* key : {"compute_s", "attention_s", "memory_bound_s", "recompute_s", "tp_comm_s", "cp_comm_s", "host_s",
                                "pp_comm_s", "bubble_s", "dp_comm_s", "dp_comm_total_s", "optimizer_s", "step_s"})
            requireNumber(*time, key);
        QVERIFY(time->find("step_s")->asNumber() > 0);

        const Json* tp = j.find("throughput");
        QVERIFY(tp && tp->isObject());
        for (const char* key : {"tokens_per_s", "tflops_per_gpu", "mfu"}) requireNumber(*tp, key);
        QCOMPARE(tp->find("tokens_per_s")->asNumber(), e.throughput.tokensPerS);
        QVERIFY(tp->find("mfu")->asNumber() > 0 && tp->find("mfu")->asNumber() < 1);
        // The meshwork target runs SDPA flash attention.
        QVERIFY(j.find("attention") && j.find("attention")->isString());
        QCOMPARE(QString::fromStdString(j.find("attention")->asString()), QStringLiteral("flash"));
    }
};

QTEST_GUILESS_MAIN(TestEstimateJson)
#include "test_estimate_json.moc"
