// EventWriter: every line is one JSON object with "v":1, "event" and "t", followed by the
// event's fields, and each line is on disk as soon as it is written (flushed per line).
#include "core/events/EventWriter.h"
#include "core/json/Json.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <string>
#include <vector>

using namespace meshwork;

namespace {

std::vector<Json> readLines(const std::string& path)
{
    std::ifstream in(path);
    std::vector<Json> out;
    std::string line;
    while (std::getline(in, line)) {
        std::string error;
        auto j = Json::parse(line, &error);
        if (!j) qFatal("line is not JSON (%s): %s", error.c_str(), line.c_str());
        out.push_back(*j);
    }
    return out;
}

double num(const Json& j, const char* key)
{
    const Json* v = j.find(key);
    return v && v->isNumber() ? v->asNumber() : -1e300;
}

std::string str(const Json& j, const char* key)
{
    const Json* v = j.find(key);
    return v && v->isString() ? v->asString() : std::string("<missing>");
}

} // namespace

class TestEventWriter : public QObject {
    Q_OBJECT
private slots:
    void everyEventHasTheEnvelopeAndIsFlushed_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("step") << "step";
        QTest::newRow("eval") << "eval";
        QTest::newRow("checkpoint") << "checkpoint";
        QTest::newRow("log") << "log";
        QTest::newRow("error") << "error";
        QTest::newRow("run_end") << "run_end";
    }
    void everyEventHasTheEnvelopeAndIsFlushed()
    {
        QFETCH(QString, kind);
        QTemporaryDir dir;
        const std::string path = dir.filePath("events.jsonl").toStdString();
        EventWriter w(path, false);
        const std::string k = kind.toStdString();
        if (k == "step") {
            StepEvent s;
            s.step = 7; s.loss = 2.5; s.lr = 3e-4; s.gradNorm = 0.75; s.tokens = 7168; s.tokensPerS = 1234.5;
            s.tflops = 1.5; s.mfu = 0.25; s.stepMs = 830.125; s.memPeakGiB = 3.5;
            w.step(s);
        } else if (k == "eval") {
            w.eval(10, 1.75);
        } else if (k == "checkpoint") {
            w.checkpoint(20, "/tmp/ckpt/step_00000020.ckpt");
        } else if (k == "log") {
            w.log("info", "hello \"quoted\"\nnext line");
        } else if (k == "error") {
            w.error("oom", "CUDA out of memory", Json::object().set("planner_estimate", Json()));
        } else {
            w.runEnd("completed", 42);
        }
        // Read while the writer is still open: the line must already be on disk.
        const auto lines = readLines(path);
        QCOMPARE(lines.size(), size_t(1));
        const Json& j = lines[0];
        QCOMPARE(num(j, "v"), 1.0);
        QCOMPARE(QString::fromStdString(str(j, "event")), kind);
        QVERIFY(num(j, "t") >= 0.0 && num(j, "t") < 60.0);
        // The envelope comes first, in this order.
        QCOMPARE(QString::fromStdString(j.asObject()[0].first), QString("v"));
        QCOMPARE(QString::fromStdString(j.asObject()[1].first), QString("event"));
        QCOMPARE(QString::fromStdString(j.asObject()[2].first), QString("t"));
        if (k == "step") {
            QCOMPARE(num(j, "step"), 7.0);
            QCOMPARE(num(j, "loss"), 2.5);
            QCOMPARE(num(j, "lr"), 3e-4);
            QCOMPARE(num(j, "grad_norm"), 0.75);
            QCOMPARE(num(j, "tokens"), 7168.0);
            QCOMPARE(num(j, "tokens_per_s"), 1234.5);
            QCOMPARE(num(j, "tflops"), 1.5);
            QCOMPARE(num(j, "mfu"), 0.25);
            QCOMPARE(num(j, "step_ms"), 830.125);
            QCOMPARE(num(j, "mem_peak_gib"), 3.5);
        } else if (k == "eval") {
            QCOMPARE(num(j, "step"), 10.0);
            QCOMPARE(num(j, "val_loss"), 1.75);
        } else if (k == "checkpoint") {
            QCOMPARE(num(j, "step"), 20.0);
            QCOMPARE(str(j, "path"), std::string("/tmp/ckpt/step_00000020.ckpt"));
        } else if (k == "log") {
            QCOMPARE(str(j, "level"), std::string("info"));
            QCOMPARE(str(j, "message"), std::string("hello \"quoted\"\nnext line"));
        } else if (k == "error") {
            QCOMPARE(str(j, "kind"), std::string("oom"));
            QCOMPARE(str(j, "message"), std::string("CUDA out of memory"));
            QVERIFY(j.find("planner_estimate") && j.find("planner_estimate")->isNull());
        } else {
            QCOMPARE(str(j, "status"), std::string("completed"));
            QCOMPARE(num(j, "steps"), 42.0);
            QVERIFY(num(j, "wall_s") >= 0.0);
        }
    }

    void appendsOneLinePerEventInOrder()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("events.jsonl").toStdString();
        {
            EventWriter w(path, false);
            w.write("run_start", Json::object().set("run_id", "r1"));
            for (int i = 1; i <= 3; ++i) w.eval(i, 1.0 / i);
            w.runEnd("cancelled", 3);
        }
        {
            EventWriter again(path, false); // a resumed run appends to the same file
            again.runEnd("completed", 5);
        }
        const auto lines = readLines(path);
        QCOMPARE(lines.size(), size_t(6));
        QCOMPARE(str(lines[0], "event"), std::string("run_start"));
        QCOMPARE(str(lines[0], "run_id"), std::string("r1"));
        for (int i = 1; i <= 3; ++i) QCOMPARE(num(lines[size_t(i)], "step"), double(i));
        QCOMPARE(str(lines[4], "status"), std::string("cancelled"));
        QCOMPARE(str(lines[5], "status"), std::string("completed"));
        double previous = 0;
        for (const auto& j : lines.size() ? std::vector<Json>(lines.begin(), lines.begin() + 5) : lines) {
            QVERIFY(num(j, "t") >= previous);
            previous = num(j, "t");
        }
    }

    void unwritablePathIsAnErrorNamingIt()
    {
        bool threw = false;
        try {
            EventWriter w("/nonexistent-dir/for/events.jsonl", false);
        } catch (const std::runtime_error& e) {
            threw = true;
            QVERIFY(std::string(e.what()).find("/nonexistent-dir/for/events.jsonl") != std::string::npos);
        }
        QVERIFY(threw);
    }
};

QTEST_GUILESS_MAIN(TestEventWriter)
#include "test_event_writer.moc"
