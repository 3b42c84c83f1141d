// .meshwork.json files: a saved plan reopens identical; bad files are refused in words and
// an interrupted save never damages the old file.
#include "core/spec/Catalog.h"
#include "ui/PlanFile.h"
#include "ui/PlanState.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace meshwork;
using namespace meshwork::ui;

class TestPlanFile : public QObject {
    Q_OBJECT
private slots:
    void roundTrip_data();
    void roundTrip();
    void badFiles_data();
    void badFiles();
    void failedSaveKeepsOldFile();
};

void TestPlanFile::roundTrip_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("gpu");
    QTest::addColumn<int>("nodes");
    QTest::addColumn<int>("tp");
    QTest::addColumn<int>("pp");
    QTest::addColumn<double>("fraction");
    QTest::newRow("gpt2 on 8 h100") << "gpt2-124m" << "h100-sxm" << 1 << 1 << 1 << 1.0;
    QTest::newRow("llama2-70b on 8x8") << "llama2-70b" << "h100-sxm" << 8 << 8 << 4 << 0.35;
    QTest::newRow("mistral on a100") << "mistral-7b" << "a100-80gb" << 2 << 2 << 2 << 0.1;
}

void TestPlanFile::roundTrip()
{
    QFETCH(QString, model);
    QFETCH(QString, gpu);
    QFETCH(int, nodes);
    QFETCH(int, tp);
    QFETCH(int, pp);
    QFETCH(double, fraction);
    PlanState s;
    s.model = *findModel(model.toStdString());
    s.cluster.gpu = *findGpu(gpu.toStdString());
    s.cluster.nodes = nodes;
    s.cluster.interNodeGBpsOverride = 37.5;
    s.cluster.pricePerGpuHour = 1.85;
    s.plan.tp = tp;
    s.plan.pp = pp;
    s.plan.dp = nodes * 8 / (tp * pp);
    s.plan.zero = 3;
    s.plan.offload = Offload::OptimizerParams;
    s.plan.offloadFraction = fraction;
    s.plan.recompute = Recompute::Selective;
    s.plan.gradReduce = Precision::Bf16;
    s.plan.order = "tp-dp-cp-pp";
    s.plan.globalBatch = 256;

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("plan.meshwork.json"));
    QString error;
    QVERIFY2(writePlanFile(path, s, nullptr, &error), qPrintable(error));
    auto back = readPlanFile(path, &error);
    QVERIFY2(back.has_value(), qPrintable(error));
    QVERIFY(back->plan == s.plan);
    QVERIFY(sameModel(back->model, s.model));
    QVERIFY(sameCluster(back->cluster, s.cluster));
    QVERIFY(*back == s);
}

void TestPlanFile::badFiles_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("expected"); // words the message must contain
    QTest::newRow("not json") << QByteArray("{\"model\": ") << "not valid JSON";
    QTest::newRow("no plan") << QByteArray(R"({"model": {"name": "x", "layers": 2, "hidden": 64, "heads": 2, "vocab": 100, "max_seq": 64}, "cluster": {"gpu": "h100-sxm"}})")
                             << "\"plan\" is missing";
    QTest::newRow("unknown gpu") << QByteArray(R"({"model": {"name": "x", "layers": 2, "hidden": 64, "heads": 2, "vocab": 100, "max_seq": 64}, "cluster": {"gpu": "tpu-v9"}, "plan": {}})")
                                 << "unknown GPU \"tpu-v9\"";
    QTest::newRow("wrong format") << QByteArray(R"({"format": "something-else"})") << "not a Meshwork plan file";
    QTest::newRow("bad enum") << QByteArray(R"({"model": {"name": "x", "layers": 2, "hidden": 64, "heads": 2, "vocab": 100, "max_seq": 64}, "cluster": {"gpu": "h100-sxm"}, "plan": {"precision": "fp4"}})")
                              << "precision";
    QTest::newRow("newer version") << QByteArray(R"({"format": "meshwork-plan", "version": 99})") << "newer";
}

void TestPlanFile::badFiles()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bad.meshwork.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
    f.close();
    QString error;
    QVERIFY(!readPlanFile(path, &error).has_value());
    QVERIFY2(error.contains(QStringLiteral("bad.meshwork.json")), qPrintable(error));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestPlanFile::failedSaveKeepsOldFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("keep.meshwork.json"));
    const PlanState s = examplePlanState();
    QString error;
    QVERIFY(writePlanFile(path, s, nullptr, &error));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray before = f.readAll();
    f.close();
    // A directory in the way of the temporary file makes the save fail; the file stays.
    QVERIFY(!writePlanFile(dir.filePath(QStringLiteral("missing/dir/x.meshwork.json")), s, nullptr, &error));
    QVERIFY(error.contains(QStringLiteral("x.meshwork.json")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), before);
}

QTEST_GUILESS_MAIN(TestPlanFile)
#include "test_plan_file.moc"
