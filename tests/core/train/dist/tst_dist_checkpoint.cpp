// Checkpoints of distributed runs (DistCheckpoint.h), with real meshwork-train ranks talking
// through Gloo on loopback:
//   - 10 steps straight equal 5 steps, a checkpoint and a resume for 5 more: the same losses
//     and the same final parameters, bit for bit (replicated states, ZeRO slices, tp and pp
//     shards); a step directory without its manifest (a checkpoint cut short) is skipped;
//   - SIGTERM to every rank (what the launcher's Stop sends) writes a checkpoint and ends the
//     run cancelled (exit 3), and the run resumes from it;
//   - a resume with another layout fails with exit 2 and a message naming what differs.
#include "core/json/Json.h"
#include "RankTestSupport.h"

#include <QtTest>
#include <QTcpServer>

#include <cmath>
#include <map>
#include <memory>

using namespace meshwork;

namespace {

const QString kTrainer = QStringLiteral(MESHWORK_BINARY_DIR "/bin/meshwork-train");

QStringList commonArgs(int steps)
{
    return {"--model", "gpt-nano", "--steps", QString::number(steps), "--data", "synthetic", "--seq", "32",
            "--micro-batch", "1", "--global-batch", "4", "--lr", "3e-3", "--warmup", "2", "--threads", "1",
            "--precision", "fp32", "--eval-batches", "1", "--collective-timeout", "60"};
}

using test::freePort;

std::vector<Json> events(const QString& path) { return test::readEvents(path); }

std::string kindOf(const Json& e)
{
    const Json* k = e.find("event");
    return k && k->isString() ? k->asString() : std::string();
}

// step -> loss of every `step` event.
std::map<int, double> stepLosses(const QString& path)
{
    std::map<int, double> out;
    for (const Json& e : events(path))
        if (kindOf(e) == "step") out[int(e.find("step")->asNumber())] = e.find("loss")->asNumber();
    return out;
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Ranks of one run, started as torchrun would (RANK, WORLD_SIZE, MASTER_*).
class Ranks {
public:
    Ranks(const QString& dir, int nproc, const QStringList& args) : m_dir(dir)
    {
        QDir().mkpath(dir);
        const int port = freePort();
        for (int r = 0; r < nproc; ++r) {
            auto p = std::make_unique<QProcess>();
            p->setProcessEnvironment(test::rankEnvironment(r, nproc, port));
            p->setProcessChannelMode(QProcess::MergedChannels);
            p->setStandardOutputFile(dir + QString("/rank%1.log").arg(r));
            p->start(kTrainer, args + QStringList{"--events", eventsPath(r)});
            m_ranks.push_back(std::move(p));
        }
    }
    ~Ranks()
    {
        for (auto& p : m_ranks)
            if (p->state() != QProcess::NotRunning) p->kill(), p->waitForFinished(5000);
    }
    QString eventsPath(int r) const { return m_dir + QString("/events.rank%1.jsonl").arg(r); }
    void terminate()
    {
        for (auto& p : m_ranks) p->terminate(); // SIGTERM, as LocalLauncher::stop() sends
    }
    // Exit codes, -1 for a rank that did not end in time or crashed.
    std::vector<int> wait(int ms = 240000)
    {
        std::vector<int> codes;
        for (auto& p : m_ranks) {
            const bool ended = p->waitForFinished(ms) && p->exitStatus() == QProcess::NormalExit;
            codes.push_back(ended ? p->exitCode() : -1);
        }
        return codes;
    }
    QString log(int r) const { return QString::fromUtf8(readAll(m_dir + QString("/rank%1.log").arg(r)).right(3000)); }

private:
    QString m_dir;
    std::vector<std::unique_ptr<QProcess>> m_ranks;
};

QString stepDir(const QString& ckpt, int step)
{
    return ckpt + QString("/step_%1").arg(step, 8, 10, QChar('0'));
}

} // namespace

class TestDistCheckpoint : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void resumeEqualsStraightRun_data();
    void resumeEqualsStraightRun();
    void stopCheckpointsAndCancels();
    void resumeRejectsAnotherLayout();

private:
    QTemporaryDir m_dir;
};

void TestDistCheckpoint::initTestCase()
{
    QVERIFY2(QFileInfo::exists(kTrainer), qPrintable(kTrainer + " is not built"));
    QVERIFY(m_dir.isValid());
}

void TestDistCheckpoint::resumeEqualsStraightRun_data()
{
    QTest::addColumn<QStringList>("layout");
    QTest::newRow("dp2 replicated states") << QStringList{"--dp", "2"};
    QTest::newRow("dp2 zero1 lamb, half offloaded")
        << QStringList{"--dp", "2", "--zero", "1", "--optimizer", "lamb", "--offload", "optimizer", "--offload-fraction", "0.5"};
    // ZeRO-2 keeps the gradients of its shard alone (GradientSync's partitioned mode).
    QTest::newRow("dp2 zero2") << QStringList{"--dp", "2", "--zero", "2"};
    QTest::newRow("tp2 sp") << QStringList{"--tp", "2", "--sp"};
    QTest::newRow("pp2") << QStringList{"--pp", "2"};
    QTest::newRow("dp2 zero3, parameters half offloaded")
        << QStringList{"--dp", "2", "--zero", "3", "--offload", "optimizer+params", "--offload-fraction", "0.5"};
}

void TestDistCheckpoint::resumeEqualsStraightRun()
{
    QFETCH(QStringList, layout);
    const QString dir = m_dir.filePath(QString("resume-%1").arg(QTest::currentDataTag()).replace(' ', '-').replace(',', ""));
    const QString ckpt = dir + "/ckpt";
    // The straight run: 10 steps, checkpoints after steps 5 and 10, final parameters dumped.
    QStringList straightArgs = commonArgs(10) + layout;
    straightArgs << "--checkpoint-every" << "5" << "--checkpoint-dir" << ckpt << "--dump-params" << dir + "/straight.bin";
    {
        Ranks straight(dir + "/straight", 2, straightArgs);
        const auto codes = straight.wait();
        QVERIFY2(codes == std::vector<int>({0, 0}), qPrintable("straight run failed: " + straight.log(0) + straight.log(1)));
        int checkpoints = 0;
        for (const Json& e : events(straight.eventsPath(0)))
            if (kindOf(e) == "checkpoint") ++checkpoints;
        QCOMPARE(checkpoints, 2);
    }
    const auto straightLosses = stepLosses(dir + "/straight/events.rank0.jsonl");
    QCOMPARE(int(straightLosses.size()), 10);
    for (int step : {5, 10}) {
        QVERIFY(QFileInfo::exists(stepDir(ckpt, step) + "/manifest.json"));
        QVERIFY(QFileInfo::exists(stepDir(ckpt, step) + "/rank_00000.ckpt"));
        QVERIFY(QFileInfo::exists(stepDir(ckpt, step) + "/rank_00001.ckpt"));
    }
    // Leave step 5 as the latest complete checkpoint: step 10 goes, and a step 7 without a
    // manifest (a checkpoint cut short) must be skipped.
    QVERIFY(QDir(stepDir(ckpt, 10)).removeRecursively());
    QVERIFY(QDir().mkpath(stepDir(ckpt, 7)));
    QFile::copy(stepDir(ckpt, 5) + "/rank_00000.ckpt", stepDir(ckpt, 7) + "/rank_00000.ckpt");

    QStringList resumeArgs = commonArgs(10) + layout;
    resumeArgs << "--resume" << "--checkpoint-dir" << ckpt << "--dump-params" << dir + "/resumed.bin";
    Ranks resumed(dir + "/resumed", 2, resumeArgs);
    const auto codes = resumed.wait();
    QVERIFY2(codes == std::vector<int>({0, 0}), qPrintable("resumed run failed: " + resumed.log(0) + resumed.log(1)));
    const auto all = events(resumed.eventsPath(0));
    QVERIFY(!all.empty() && kindOf(all.front()) == "run_start");
    const Json* from = all.front().find("resumed_from");
    QVERIFY2(from && from->isString() && QString::fromStdString(from->asString()).endsWith("step_00000005"),
             "the resumed run names step 5 in run_start");
    const auto resumedLosses = stepLosses(resumed.eventsPath(0));
    QCOMPARE(int(resumedLosses.size()), 5);
    QCOMPARE(resumedLosses.begin()->first, 6);
    for (const auto& [step, loss] : resumedLosses)
        QVERIFY2(loss == straightLosses.at(step), qPrintable(QString("step %1: resumed loss %2, straight %3")
                                                                .arg(step).arg(loss, 0, 'g', 17)
                                                                .arg(straightLosses.at(step), 0, 'g', 17)));
    const QByteArray a = readAll(dir + "/straight.bin"), b = readAll(dir + "/resumed.bin");
    QVERIFY(!a.isEmpty());
    QCOMPARE(a.size(), b.size());
    QVERIFY2(a == b, "the final parameters of the resumed run differ from the straight run's");
}

void TestDistCheckpoint::stopCheckpointsAndCancels()
{
    const QString dir = m_dir.filePath("stop");
    const QString ckpt = dir + "/ckpt";
    const QStringList layout{"--dp", "2", "--zero", "2"};
    Ranks run(dir + "/run", 2, commonArgs(100000) + layout + QStringList{"--checkpoint-dir", ckpt});
    // Stop once the run is past its second step.
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 180000 && (stepLosses(run.eventsPath(0)).size() < 2)) QTest::qWait(100);
    QVERIFY2(stepLosses(run.eventsPath(0)).size() >= 2, qPrintable("the run did not start: " + run.log(0)));
    run.terminate();
    const auto codes = run.wait();
    QVERIFY2(codes == std::vector<int>({3, 3}), qPrintable("expected exit 3 (cancelled) from both ranks: " + run.log(0)));

    const auto all = events(run.eventsPath(0));
    QVERIFY(!all.empty());
    const Json& end = all.back();
    QCOMPARE(QString::fromStdString(kindOf(end)), QString("run_end"));
    QCOMPARE(QString::fromStdString(end.find("status")->asString()), QString("cancelled"));
    const int stopped = int(end.find("steps")->asNumber());
    QVERIFY(stopped >= 2);
    bool checkpointed = false;
    for (const Json& e : all)
        if (kindOf(e) == "checkpoint") {
            QCOMPARE(int(e.find("step")->asNumber()), stopped);
            QCOMPARE(QString::fromStdString(e.find("path")->asString()), stepDir(ckpt, stopped));
            checkpointed = true;
        }
    QVERIFY2(checkpointed, "a stop writes a checkpoint");
    QVERIFY(QFileInfo::exists(stepDir(ckpt, stopped) + "/manifest.json"));

    // And the run goes on from there.
    Ranks resumed(dir + "/resumed", 2, commonArgs(stopped + 2) + layout + QStringList{"--checkpoint-dir", ckpt, "--resume"});
    QVERIFY2(resumed.wait() == std::vector<int>({0, 0}), qPrintable("resume after stop failed: " + resumed.log(0)));
    const auto losses = stepLosses(resumed.eventsPath(0));
    QCOMPARE(int(losses.size()), 2);
    QCOMPARE(losses.begin()->first, stopped + 1);
}

void TestDistCheckpoint::resumeRejectsAnotherLayout()
{
    const QString dir = m_dir.filePath("mismatch");
    const QString ckpt = dir + "/ckpt";
    {
        Ranks first(dir + "/first", 2, commonArgs(2) + QStringList{"--dp", "2", "--zero", "1", "--checkpoint-every", "2",
                                                                    "--checkpoint-dir", ckpt});
        QVERIFY2(first.wait() == std::vector<int>({0, 0}), qPrintable(first.log(0)));
    }
    Ranks second(dir + "/second", 2, commonArgs(4) + QStringList{"--tp", "2", "--checkpoint-dir", ckpt, "--resume"});
    QCOMPARE(second.wait(), std::vector<int>({2, 2}));
    QString message;
    for (const Json& e : events(second.eventsPath(0)))
        if (kindOf(e) == "error") message = QString::fromStdString(e.find("message")->asString());
    QVERIFY2(message.contains("was written by a run with world_size 2, dp 2, tp 1, pp 1, vpp 1, cp 1, zero 1"), qPrintable(message));
    QVERIFY2(message.contains("this run has world_size 2, dp 1, tp 2, pp 1, vpp 1, cp 1, zero 0"), qPrintable(message));
    QVERIFY2(message.contains("(dp, tp, zero differ)"), qPrintable(message));
    QVERIFY2(message.contains("resume with --dp 2 --tp 1 --zero 1 on 2 ranks (meshwork-cli run --nproc 2)"),
             qPrintable(message));

    // A pipeline's stages hold the layers of --stage-layers: another split is another layout.
    const QString piped = dir + "/ckpt-pp";
    {
        Ranks first(dir + "/pp-first", 2, commonArgs(2) + QStringList{"--pp", "2", "--stage-layers", "3,1",
                                                                      "--checkpoint-every", "2", "--checkpoint-dir", piped});
        QVERIFY2(first.wait() == std::vector<int>({0, 0}), qPrintable(first.log(0)));
    }
    Ranks even(dir + "/pp-second", 2, commonArgs(4) + QStringList{"--pp", "2", "--checkpoint-dir", piped, "--resume"});
    QCOMPARE(even.wait(), std::vector<int>({2, 2}));
    message.clear();
    for (const Json& e : events(even.eventsPath(0)))
        if (kindOf(e) == "error") message = QString::fromStdString(e.find("message")->asString());
    QVERIFY2(message.contains("stage_layers 3,1; this run has"), qPrintable(message));
    QVERIFY2(message.contains("(stage_layers differs): resume with --stage-layers 3,1 on 2 ranks"), qPrintable(message));
}

QTEST_GUILESS_MAIN(TestDistCheckpoint)
#include "tst_dist_checkpoint.moc"
