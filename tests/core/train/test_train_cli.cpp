// meshwork-train as a process, as the launcher runs it: exit codes (0 completed, 1 failed,
// 2 bad flags or configuration, 3 cancelled), the error events on stdout and in the events
// file for every data-file problem, and SIGTERM ending in a checkpoint and `cancelled`.
#include "core/json/Json.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace meshwork;

namespace {

const QString kTrainer = QStringLiteral(MESHWORK_BINARY_DIR "/bin/meshwork-train");

struct Outcome {
    int exitCode = -1;
    std::vector<Json> events; // from stdout
    QString stderrText;
    const Json* last(const std::string& name) const
    {
        const Json* found = nullptr;
        for (const auto& e : events)
            if (e.find("event") && e.find("event")->asString() == name) found = &e;
        return found;
    }
};

std::vector<Json> parseLines(const QByteArray& text)
{
    std::vector<Json> out;
    for (const QByteArray& line : text.split('\n'))
        if (auto j = Json::parse(line.toStdString())) out.push_back(*j);
    return out;
}

Outcome runTrainer(const QStringList& args)
{
    QProcess p;
    p.start(kTrainer, args);
    if (!p.waitForFinished(60000)) qFatal("meshwork-train did not finish");
    Outcome o;
    o.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    o.events = parseLines(p.readAllStandardOutput());
    o.stderrText = QString::fromUtf8(p.readAllStandardError());
    return o;
}

void writeBytes(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(bytes);
}

QByteArray llmc(int32_t magic, int32_t count, uint16_t token)
{
    QByteArray b(1024, '\0');
    auto* h = reinterpret_cast<int32_t*>(b.data());
    h[0] = magic;
    h[1] = 1;
    h[2] = count;
    for (int i = 0; i < count; ++i) b.append(reinterpret_cast<const char*>(&token), 2);
    return b;
}

} // namespace

class TestTrainCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY2(QFile::exists(kTrainer), qPrintable(kTrainer + " is not built")); }

    void helpExitsZero()
    {
        const Outcome o = runTrainer({"--help"});
        QCOMPARE(o.exitCode, 0);
    }

    void badFlagsExitTwoAndSayWhatToFix_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown option") << QStringList{"--model", "gpt-nano", "--stepz", "3"} << "did you mean --steps";
        QTest::newRow("no model") << QStringList{"--steps", "3"} << "--model is required";
        QTest::newRow("bad value") << QStringList{"--model", "gpt-nano", "--micro-batch", "two"} << "--micro-batch: expected a whole number";
        QTest::newRow("unknown model") << QStringList{"--model", "gpt-9"} << "unknown model";
        QTest::newRow("bf16 on cpu") << QStringList{"--model", "gpt-nano", "--precision", "bf16"} << "needs --device cuda";
    }
    void badFlagsExitTwoAndSayWhatToFix()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString events = dir.filePath("events.jsonl");
        const Outcome o = runTrainer(args + QStringList{"--events", events});
        QCOMPARE(o.exitCode, 2);
        QVERIFY2(o.stderrText.contains(expected), qPrintable(o.stderrText));
        QVERIFY(o.last("error"));
        QCOMPARE(QString::fromStdString(o.last("error")->find("kind")->asString()), QString("config"));
        QCOMPARE(QString::fromStdString(o.last("run_end")->find("status")->asString()), QString("failed"));
        // The same lines went to the events file.
        QFile f(events);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(parseLines(f.readAll()).size(), size_t(2));
    }

    void dataFileErrorsEndTheRunWithAnErrorEvent_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing") << "missing.bin" << 1 << "io" << "cannot open it";
        QTest::newRow("truncated") << "short.bin" << 1 << "io" << "truncated";
        QTest::newRow("wrong magic") << "magic.bin" << 1 << "io" << "wrong magic number";
        QTest::newRow("beyond vocab") << "big.bin" << 2 << "config" << "beyond the model's vocabulary (256)";
        QTest::newRow("too small") << "small.bin" << 2 << "config" << "split has";
    }
    void dataFileErrorsEndTheRunWithAnErrorEvent()
    {
        QFETCH(QString, file);
        QFETCH(int, exitCode);
        QFETCH(QString, kind);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        writeBytes(dir.filePath("short.bin"), QByteArray(10, 'x'));
        writeBytes(dir.filePath("magic.bin"), llmc(777, 5000, 1));
        writeBytes(dir.filePath("big.bin"), llmc(20240520, 5000, 300));
        writeBytes(dir.filePath("small.bin"), llmc(20240520, 40, 1));
        const QString path = dir.filePath(file);
        const Outcome o = runTrainer({"--model", "gpt-nano", "--layers", "1", "--seq", "16", "--steps", "2",
                                      "--data", path, "--events", dir.filePath("e.jsonl")});
        QCOMPARE(o.exitCode, exitCode);
        const Json* err = o.last("error");
        QVERIFY(err);
        QCOMPARE(QString::fromStdString(err->find("kind")->asString()), kind);
        const QString msg = QString::fromStdString(err->find("message")->asString());
        QVERIFY2(msg.contains(path), qPrintable(msg));
        QVERIFY2(msg.contains(expected), qPrintable(msg));
        QCOMPARE(QString::fromStdString(o.last("run_end")->find("status")->asString()), QString("failed"));
    }

    void textFileTrains()
    {
        QTemporaryDir dir;
        QByteArray text;
        for (int i = 0; i < 200; ++i) text += "the quick brown fox jumps over the lazy dog. ";
        writeBytes(dir.filePath("a.txt"), text);
        const Outcome o = runTrainer({"--model", "gpt-nano", "--layers", "1", "--seq", "32", "--micro-batch", "4",
                                      "--steps", "3", "--data", dir.filePath("a.txt"), "--threads", "1"});
        QCOMPARE(o.exitCode, 0);
        QVERIFY(o.last("run_start"));
        QVERIFY(QString::fromStdString(o.last("run_start")->find("data")->asString()).contains("text"));
        QCOMPARE(o.last("step")->find("step")->asNumber(), 3.0);
    }

    void profileWritesOneStepsTrace()
    {
        QTemporaryDir dir;
        const QString trace = dir.filePath("step.json");
        const Outcome o = runTrainer({"--model", "gpt-nano", "--layers", "1", "--seq", "16", "--micro-batch", "2",
                                      "--steps", "4", "--threads", "1", "--profile", trace});
        QCOMPARE(o.exitCode, 0);
        QFile f(trace);
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(trace + " was not written"));
        const auto doc = Json::parse(f.readAll().toStdString());
        QVERIFY2(doc && doc->find("traceEvents"), "the trace is not Chrome trace JSON");
        // One step's operators: the forward's and the backward's (the autograd engine's), once.
        int linears = 0, backward = 0;
        for (const Json& e : doc->find("traceEvents")->asArray()) {
            const Json* name = e.find("name");
            if (!name || !name->isString()) continue;
            if (name->asString() == "aten::linear") ++linears;
            if (name->asString().rfind("autograd::engine::evaluate_function", 0) == 0) ++backward;
        }
        QVERIFY2(linears > 0 && linears < 20, qPrintable(QString("aten::linear ops: %1").arg(linears)));
        QVERIFY(backward > 0);
        QCOMPARE(QDir(dir.path()).entryList({"*.tmp"}, QDir::Files).size(), 0);
    }

    void profileToAMissingFolderIsAnIoError()
    {
        QTemporaryDir dir;
        const Outcome o = runTrainer({"--model", "gpt-nano", "--layers", "1", "--seq", "16", "--steps", "3",
                                      "--threads", "1", "--profile", dir.filePath("no/such/folder/step.json")});
        QCOMPARE(o.exitCode, 1);
        const Json* error = o.last("error");
        QVERIFY(error);
        QVERIFY2(QString::fromStdString(error->find("message")->asString()).contains("--profile"),
                 error->find("message")->asString().c_str());
    }

    void resumeWithoutCheckpointIsAConfigError()
    {
        QTemporaryDir dir;
        const Outcome o = runTrainer({"--model", "gpt-nano", "--layers", "1", "--seq", "16", "--steps", "2", "--resume",
                                      "--checkpoint-dir", dir.filePath("none")});
        QCOMPARE(o.exitCode, 2);
        QVERIFY(QString::fromStdString(o.last("error")->find("message")->asString()).contains("no checkpoint"));
    }

    void sigtermCheckpointsAndEndsCancelled()
    {
        QTemporaryDir dir;
        const QString ckpt = dir.filePath("ckpt");
        QProcess p;
        p.start(kTrainer, {"--model", "gpt-nano", "--layers", "1", "--seq", "16", "--micro-batch", "2", "--steps",
                           "1000000", "--threads", "1", "--checkpoint-dir", ckpt, "--run-id", "sig"});
        QByteArray out;
        // Wait for the first step, then ask the trainer to stop as the launcher does.
        QElapsedTimer timer;
        timer.start();
        while (!out.contains("\"event\":\"step\"") && timer.elapsed() < 60000) {
            p.waitForReadyRead(1000);
            out += p.readAllStandardOutput();
        }
        QVERIFY(out.contains("\"event\":\"step\""));
        p.terminate(); // SIGTERM
        QVERIFY(p.waitForFinished(60000));
        out += p.readAllStandardOutput();
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 3);
        const auto events = parseLines(out);
        const Json* cp = nullptr;
        const Json* end = nullptr;
        for (const auto& e : events) {
            if (e.find("event")->asString() == "checkpoint") cp = &e;
            if (e.find("event")->asString() == "run_end") end = &e;
        }
        QVERIFY(cp && end);
        QCOMPARE(QString::fromStdString(end->find("status")->asString()), QString("cancelled"));
        QCOMPARE(end->find("steps")->asNumber(), cp->find("step")->asNumber());
        const QString path = QString::fromStdString(cp->find("path")->asString());
        QVERIFY(QFile::exists(path));
        // Only finished checkpoints remain: no temporary file is left behind.
        QCOMPARE(QDir(ckpt).entryList({"*.tmp"}, QDir::Files).size(), 0);

        // And the run continues from there.
        const Outcome resumed = runTrainer({"--model", "gpt-nano", "--layers", "1", "--seq", "16", "--micro-batch", "2",
                                            "--steps", QString::number(int(cp->find("step")->asNumber()) + 2),
                                            "--threads", "1", "--checkpoint-dir", ckpt, "--resume"});
        QCOMPARE(resumed.exitCode, 0);
        QCOMPARE(resumed.last("run_start")->find("run_id")->asString(), std::string("sig"));
        QCOMPARE(resumed.last("step")->find("step")->asNumber(), cp->find("step")->asNumber() + 2);
    }
};

QTEST_GUILESS_MAIN(TestTrainCli)
#include "test_train_cli.moc"
