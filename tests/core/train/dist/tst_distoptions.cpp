// Rank, world size and rendezvous address from flags, torchrun's variables or Slurm's, and the
// plan's world size against the launch.
#include "core/spec/SpecError.h"
#include "core/train/dist/DistOptions.h"

#include <QtTest>

#include <map>

using namespace meshwork;

namespace {

DistConfig parse(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
{
    return parseDistConfig(parseArgs(args, distOptions()), [&env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

} // namespace

class TestDistOptions : public QObject {
    Q_OBJECT
private slots:
    void defaultsToOneRank()
    {
        const auto c = parse({}, {});
        QCOMPARE(c.rank, 0);
        QCOMPARE(c.worldSize, 1);
        QVERIFY(!c.distributed());
        QCOMPARE(QString::fromStdString(c.source), QString("defaults"));
    }
    void torchrunVariables()
    {
        const auto c = parse({}, {{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                                  {"MASTER_ADDR", "10.0.0.5"}, {"MASTER_PORT", "29611"}});
        QCOMPARE(c.rank, 3);
        QCOMPARE(c.worldSize, 4);
        QCOMPARE(c.localRank, 1);
        QCOMPARE(c.localWorldSize, 2);
        QCOMPARE(QString::fromStdString(c.masterAddr), QString("10.0.0.5"));
        QCOMPARE(c.masterPort, 29611);
        QCOMPARE(QString::fromStdString(c.source), QString("torchrun"));
    }
    void slurmVariables()
    {
        const auto c = parse({}, {{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                                  {"SLURM_NTASKS_PER_NODE", "4(x2)"}, {"MASTER_ADDR", "node01"}});
        QCOMPARE(c.rank, 5);
        QCOMPARE(c.worldSize, 8);
        QCOMPARE(c.localRank, 1);
        QCOMPARE(c.localWorldSize, 4);
        QCOMPARE(c.masterPort, 29500);
        QCOMPARE(QString::fromStdString(c.source), QString("slurm"));
    }
    void torchrunWinsOverSlurmAndFlagsWinOverBoth()
    {
        const std::map<std::string, std::string> env = {{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "7"},
                                                        {"SLURM_NTASKS", "9"}};
        QCOMPARE(parse({}, env).rank, 1);
        QCOMPARE(parse({}, env).worldSize, 2);
        const auto c = parse({"--rank", "0", "--world-size", "3", "--master-port", "40000", "--collective-timeout", "2.5"}, env);
        QCOMPARE(c.rank, 0);
        QCOMPARE(c.worldSize, 3);
        QCOMPARE(c.masterPort, 40000);
        QCOMPARE(c.collectiveTimeoutS, 2.5);
        QCOMPARE(QString::fromStdString(c.source), QString("flags"));
    }
    void badValuesNameTheirSource_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("envRank");
        QTest::addColumn<QString>("message");
        QTest::newRow("rank beyond world") << QStringList{"--rank", "2", "--world-size", "2"} << "" << "not below the world size 2";
        QTest::newRow("env rank text") << QStringList{} << "x" << "$RANK: expected a whole number";
        QTest::newRow("port") << QStringList{"--master-port", "70000"} << "" << "--master-port must be between 1 and 65535";
        QTest::newRow("timeout") << QStringList{"--collective-timeout", "0"} << "" << "--collective-timeout must be above";
        QTest::newRow("embedding grad") << QStringList{"--embedding-grad", "sparse"} << ""
                                        << "--embedding-grad must be auto, rows or dense (got \"sparse\")";
        QTest::newRow("param gather") << QStringList{"--param-gather", "later"} << ""
                                      << "--param-gather must be overlap or blocking (got \"later\")";
    }
    void embeddingGradientMode()
    {
        QCOMPARE(QString::fromStdString(parse({}, {}).embeddingGrad), QString("auto"));
        QCOMPARE(QString::fromStdString(parse({"--embedding-grad", "dense"}, {}).embeddingGrad), QString("dense"));
        QCOMPARE(QString::fromStdString(parse({"--embedding-grad", "rows"}, {}).embeddingGrad), QString("rows"));
    }
    void parameterGatherMode()
    {
        QCOMPARE(QString::fromStdString(parse({}, {}).paramGather), QString("overlap"));
        QCOMPARE(QString::fromStdString(parse({"--param-gather", "blocking"}, {}).paramGather), QString("blocking"));
    }
    void badValuesNameTheirSource()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, envRank);
        QFETCH(QString, message);
        std::vector<std::string> a;
        for (const auto& s : args) a.push_back(s.toStdString());
        std::map<std::string, std::string> env;
        if (!envRank.isEmpty()) env = {{"RANK", envRank.toStdString()}, {"WORLD_SIZE", "2"}};
        try {
            parse(a, env);
            QFAIL("expected SpecError");
        } catch (const SpecError& e) {
            QVERIFY2(QString(e.what()).contains(message), e.what());
        }
    }
    void onlyOneOfRankAndWorldSize()
    {
        QVERIFY_THROWS_EXCEPTION(SpecError, parse({}, {{"RANK", "0"}}));
    }
    void worldSizeAgainstPlan()
    {
        Plan plan;
        plan.dp = 2, plan.tp = 2;
        DistConfig d;
        d.worldSize = 4;
        QVERIFY(checkWorldSize(plan, d).empty());
        d.worldSize = 2;
        d.source = "torchrun";
        const auto p = checkWorldSize(plan, d);
        QCOMPARE(int(p.size()), 1);
        QVERIFY2(QString::fromStdString(p[0]).contains("2 x 2 x 1 x 1 = 4 ranks but the launch has 2"), p[0].c_str());
    }
    void zero3WithDataParallelismOnly()
    {
        // ZeRO-3 and optimizer+params offload run under data parallelism (Zero3.h)...
        Plan plan;
        plan.dp = 4, plan.zero = 3, plan.offload = Offload::OptimizerParams;
        QVERIFY(unsupportedParallelism(plan).empty());
        plan.offload = Offload::Optimizer;
        QVERIFY(unsupportedParallelism(plan).empty());
        // ...and with per-tensor-norm optimizers (norms summed over the shards)...
        plan.optimizer = Optimizer::Lamb;
        QVERIFY(unsupportedParallelism(plan).empty());
        plan.optimizer = Optimizer::Lars;
        QVERIFY(unsupportedParallelism(plan).empty());
        // ...not with tensor or pipeline parallelism.
        plan.tp = 2;
        auto e = unsupportedParallelism(plan);
        QCOMPARE(int(e.size()), 1);
        QVERIFY2(QString::fromStdString(e[0]).contains("ZeRO-3 with tensor or pipeline parallelism (tp 2, pp 1)"), e[0].c_str());
    }
};

QTEST_APPLESS_MAIN(TestDistOptions)
#include "tst_distoptions.moc"
