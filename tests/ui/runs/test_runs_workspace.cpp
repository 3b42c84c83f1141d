// The runs workspace with real processes, offscreen: it launches meshwork-train (this build's
// bin/) on gpt-nano on the CPU and the loss chart receives points; Stop ends a run cancelled
// with a checkpoint; SIGKILL leaves the run failed and the GUI working. A stand-in shell
// trainer (fake_trainer.sh) dies mid-line, writes garbage lines, and reports an OOM.
#include "core/runs/RunStore.h"
#include "core/spec/Catalog.h"
#include "ui/runs/CompareView.h"
#include "ui/runs/LiveRunView.h"
#include "ui/runs/MetricChart.h"
#include "ui/runs/RunCharts.h"
#include "ui/runs/RunsBrowser.h"
#include "ui/runs/RunsTableModel.h"
#include "ui/runs/RunsWorkspace.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <unistd.h>

using namespace meshwork;
using namespace meshwork::ui;

namespace {

// This build's trainer; MESHWORK_TRAINER may point at another build's.
QString kRealTrainer = QStringLiteral(MESHWORK_BINARY_DIR "/bin/meshwork-train");
const QString kFakeTrainer = QStringLiteral(MESHWORK_SOURCE_DIR "/tests/ui/runs/fake_trainer.sh");

Plan nanoPlan(int64_t seq = 64)
{
    Plan p;
    p.microBatch = 4;
    p.seq = seq;
    p.precision = Precision::Fp32;
    return p;
}

RunOptions cpuOptions(qint64 steps)
{
    RunOptions o;
    o.steps = steps;
    o.lr = 1e-3;
    o.threads = 1; // two shared cores on CI: one thread per trainer
    return o;
}

// Children of this process running the trainer (the launcher starts them directly).
QList<pid_t> trainerPids(const QString& trainer)
{
    QList<pid_t> pids;
    QDirIterator it(QStringLiteral("/proc"));
    while (it.hasNext()) {
        const QString dir = it.next();
        bool ok = false;
        const pid_t pid = QFileInfo(dir).fileName().toInt(&ok);
        if (!ok) continue;
        QFile stat(dir + QStringLiteral("/stat"));
        if (!stat.open(QIODevice::ReadOnly)) continue;
        const QByteArray s = stat.readAll();
        const qsizetype close = s.lastIndexOf(')');
        const QList<QByteArray> rest = s.mid(close + 2).split(' ');
        const QString exe = QFileInfo(dir + QStringLiteral("/exe")).symLinkTarget();
        if (rest.size() > 1 && rest[1].toInt() == getpid() && exe == QFileInfo(trainer).canonicalFilePath()) pids << pid;
    }
    return pids;
}

} // namespace

class TestRunsWorkspace : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void liveRunChartsPoints();
    void stopEndsCancelledWithCheckpoint();
    void sigkillLeavesFailedAndGuiWorking();
    void killedMidLineMarksFailed();
    void malformedLinesSkippedAndCounted();
    void crashShowsErrorInPlainWords();
    void compareThreeRealRuns();

private:
    QString startAndWait(RunsWorkspace& w, const RunOptions& o, const Plan& plan, QString* status, int timeoutMs = 120000);
    QTemporaryDir m_dir;
    ModelSpec m_nano;
    QStringList m_completed;
};

void TestRunsWorkspace::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_nano = *findModel("gpt-nano");
    if (const QString env = qEnvironmentVariable("MESHWORK_TRAINER"); !env.isEmpty()) kRealTrainer = env;
    qInfo() << "trainer:" << kRealTrainer;
    if (!QFileInfo(kRealTrainer).isExecutable())
        QSKIP(qPrintable(QStringLiteral("%1 is not built (MESHWORK_TRAINER off?): build it with ninja meshwork-train").arg(kRealTrainer)));
    qputenv("MESHWORK_TRAINER", kRealTrainer.toLocal8Bit());
}

QString TestRunsWorkspace::startAndWait(RunsWorkspace& w, const RunOptions& o, const Plan& plan, QString* status, int timeoutMs)
{
    QSignalSpy done(&w, &RunsWorkspace::runFinished);
    const QString id = w.launch(m_nano, plan, o);
    if (id.isEmpty()) { qWarning() << "launch failed:" << w.error(); return {}; }
    if (!done.wait(timeoutMs)) { qWarning() << "run did not finish in time"; return {}; }
    *status = done.first().at(1).toString();
    return id;
}

void TestRunsWorkspace::liveRunChartsPoints()
{
    RunsWorkspace w(m_dir.filePath(QStringLiteral("runs.sqlite")));
    w.resize(1400, 850);
    w.show();
    QSignalSpy points(w.liveView()->charts(), &RunCharts::pointsAdded);
    QSignalSpy started(&w, &RunsWorkspace::runStarted);
    RunOptions o = cpuOptions(30);
    o.evalEvery = 10;
    o.name = QStringLiteral("nano baseline");
    QString status;
    const QString id = startAndWait(w, o, nanoPlan(), &status);
    QVERIFY(!id.isEmpty());
    QCOMPARE(started.count(), 1);
    QCOMPARE(status, QStringLiteral("completed"));
    // The loss chart received the points by signal, in batches, and draws all 30 steps.
    qsizetype lossPoints = 0, valPoints = 0;
    for (const auto& call : points) {
        if (call.at(1).toString() == QLatin1String("loss")) lossPoints += call.at(2).toInt();
        if (call.at(1).toString() == QLatin1String("val_loss")) valPoints += call.at(2).toInt();
    }
    QCOMPARE(lossPoints, 30);
    QVERIFY(valPoints >= 3);
    w.liveView()->charts()->setSmoothing(0);
    w.liveView()->charts()->replotNow();
    MetricChart* loss = w.liveView()->charts()->chart(QStringLiteral("loss"));
    QCOMPARE(loss->graph(0)->data()->size(), 30);
    QVERIFY(w.liveView()->charts()->chart(QStringLiteral("throughput"))->graph(0)->data()->size() == 30);
    // And the store holds the run, completed, with its name and every step.
    RunStore& store = *w.store();
    auto info = store.runById(id.toStdString());
    QVERIFY(info);
    QCOMPARE(info->status, RunStatus::Completed);
    QCOMPARE(QString::fromStdString(info->name), QStringLiteral("nano baseline"));
    QCOMPARE(store.series(id.toStdString(), "loss").size(), size_t(30));
    QVERIFY(w.liveView()->statusText().contains(QStringLiteral("completed")));
    QCOMPARE(w.liveView()->skippedLines(), 0);
    QVERIFY(w.browser()->model()->rowOf(id) >= 0);
    m_completed << id;
}

void TestRunsWorkspace::stopEndsCancelledWithCheckpoint()
{
    RunsWorkspace w(m_dir.filePath(QStringLiteral("runs.sqlite")));
    QSignalSpy points(w.liveView()->charts(), &RunCharts::pointsAdded);
    QSignalSpy done(&w, &RunsWorkspace::runFinished);
    const QString id = w.launch(m_nano, nanoPlan(), cpuOptions(1000000));
    QVERIFY2(!id.isEmpty(), qPrintable(w.error()));
    QVERIFY(points.wait(60000));
    QVERIFY(w.isRunning());
    w.liveView()->stopButton()->click(); // as the user does
    QVERIFY(done.wait(60000));
    QCOMPARE(done.first().at(1).toString(), QStringLiteral("cancelled"));
    bool checkpointNotice = false;
    for (const QString& n : w.liveView()->notices()) checkpointNotice = checkpointNotice || n.startsWith(QStringLiteral("checkpoint:"));
    QVERIFY2(checkpointNotice, qPrintable(w.liveView()->notices().join('\n')));
    auto info = w.store()->runById(id.toStdString());
    QCOMPARE(info->status, RunStatus::Cancelled);
    bool stored = false;
    for (const StoredEvent& e : w.store()->events(id.toStdString())) stored = stored || e.type == "checkpoint";
    QVERIFY(stored);
    QVERIFY(!QDir(w.runFolder(id) + QStringLiteral("/ckpt")).entryList(QDir::Files | QDir::NoDotAndDotDot).isEmpty());
}

void TestRunsWorkspace::sigkillLeavesFailedAndGuiWorking()
{
    RunsWorkspace w(m_dir.filePath(QStringLiteral("runs.sqlite")));
    QSignalSpy points(w.liveView()->charts(), &RunCharts::pointsAdded);
    QSignalSpy done(&w, &RunsWorkspace::runFinished);
    const QString id = w.launch(m_nano, nanoPlan(), cpuOptions(1000000));
    QVERIFY2(!id.isEmpty(), qPrintable(w.error()));
    QVERIFY(points.wait(60000));
    const QList<pid_t> pids = trainerPids(kRealTrainer);
    QCOMPARE(pids.size(), 1);
    QCOMPARE(::kill(pids.first(), SIGKILL), 0);
    QVERIFY(done.wait(30000));
    QCOMPARE(done.first().at(1).toString(), QStringLiteral("failed"));
    QCOMPARE(w.store()->runById(id.toStdString())->status, RunStatus::Failed);
    QVERIFY2(w.liveView()->errorText().contains(QStringLiteral("killed")), qPrintable(w.liveView()->errorText()));
    QVERIFY(w.liveView()->statusText().startsWith(QStringLiteral("failed")));
    // The GUI goes on: the next run starts, streams and completes.
    QString status;
    const QString next = startAndWait(w, cpuOptions(5), nanoPlan(), &status);
    QVERIFY(!next.isEmpty());
    QCOMPARE(status, QStringLiteral("completed"));
    QCOMPARE(w.liveView()->runId(), next);
}

void TestRunsWorkspace::killedMidLineMarksFailed()
{
    RunsWorkspace w(m_dir.filePath(QStringLiteral("fake.sqlite")));
    qputenv("MESHWORK_TRAINER", kFakeTrainer.toLocal8Bit());
    qputenv("FAKE_TRAINER_MODE", "midline");
    QString status;
    const QString id = startAndWait(w, cpuOptions(10), nanoPlan(), &status, 30000);
    qputenv("MESHWORK_TRAINER", kRealTrainer.toLocal8Bit());
    QVERIFY(!id.isEmpty());
    QCOMPARE(status, QStringLiteral("failed"));
    QCOMPARE(w.store()->runById(id.toStdString())->status, RunStatus::Failed);
    QCOMPARE(w.store()->series(id.toStdString(), "loss").size(), size_t(3)); // every whole line kept
    QCOMPARE(w.liveView()->skippedLines(), 1);                              // the half line, counted
    QVERIFY(w.liveView()->statusText().contains(QStringLiteral("1 malformed line skipped")));
    QVERIFY(!w.liveView()->errorText().isEmpty());
    // The view still works: the stored run can be shown again.
    QVERIFY(w.showRun(id));
}

void TestRunsWorkspace::malformedLinesSkippedAndCounted()
{
    RunsWorkspace w(m_dir.filePath(QStringLiteral("fake.sqlite")));
    qputenv("MESHWORK_TRAINER", kFakeTrainer.toLocal8Bit());
    qputenv("FAKE_TRAINER_MODE", "malformed");
    QString status;
    const QString id = startAndWait(w, cpuOptions(10), nanoPlan(), &status, 30000);
    qputenv("MESHWORK_TRAINER", kRealTrainer.toLocal8Bit());
    QVERIFY(!id.isEmpty());
    QCOMPARE(status, QStringLiteral("completed"));
    QCOMPARE(w.liveView()->skippedLines(), 3);
    QVERIFY2(w.liveView()->statusText().contains(QStringLiteral("3 malformed lines skipped")), qPrintable(w.liveView()->statusText()));
    QCOMPARE(w.store()->series(id.toStdString(), "loss").size(), size_t(3));
    w.liveView()->charts()->replotNow();
    QCOMPARE(w.liveView()->charts()->chart(QStringLiteral("grad_norm"))->graph(0)->data()->size(), 3);
}

void TestRunsWorkspace::crashShowsErrorInPlainWords()
{
    RunsWorkspace w(m_dir.filePath(QStringLiteral("fake.sqlite")));
    qputenv("MESHWORK_TRAINER", kFakeTrainer.toLocal8Bit());
    qputenv("FAKE_TRAINER_MODE", "crash");
    QString status;
    const QString id = startAndWait(w, cpuOptions(10), nanoPlan(), &status, 30000);
    qputenv("MESHWORK_TRAINER", kRealTrainer.toLocal8Bit());
    QVERIFY(!id.isEmpty());
    QCOMPARE(status, QStringLiteral("failed"));
    QCOMPARE(w.liveView()->errorText(), QStringLiteral("The run ran out of memory: tried to allocate 12.00 GiB on cpu"));
    QCOMPARE(w.store()->runById(id.toStdString())->status, RunStatus::Failed);
}

void TestRunsWorkspace::compareThreeRealRuns()
{
    RunsWorkspace w(m_dir.filePath(QStringLiteral("compare.sqlite")));
    w.resize(1400, 900);
    QStringList ids;
    // Three runs that differ in seq (plan) and lr (training options) only.
    struct R { int64_t seq; double lr; };
    for (const R& r : {R{64, 1e-3}, R{32, 1e-3}, R{64, 3e-3}}) {
        RunOptions o = cpuOptions(6);
        o.lr = r.lr;
        QString status;
        const QString id = startAndWait(w, o, nanoPlan(r.seq), &status);
        QVERIFY(!id.isEmpty());
        QCOMPARE(status, QStringLiteral("completed"));
        ids << id;
    }
    w.compare(ids);
    QCOMPARE(w.compareView()->runIds(), ids);
    w.compareView()->setOnlyDifferences(true);
    QStringList diff = w.compareView()->diffOptions();
    qInfo() << "options that differ:" << diff;
    // Exactly what differs: the sequence length, the learning rate and what follows from it
    // (min_lr defaults to lr / 10), and each run's own checkpoint folder.
    diff.sort();
    QCOMPARE(diff, (QStringList{QStringLiteral("seq"), QStringLiteral("training.checkpoint_dir"), QStringLiteral("training.lr"),
                                QStringLiteral("training.min_lr")}));
    // Nothing the three runs share is listed.
    for (const QString& same : {QStringLiteral("model"), QStringLiteral("dp"), QStringLiteral("tp"), QStringLiteral("micro_batch"),
                                QStringLiteral("precision"), QStringLiteral("trainer"), QStringLiteral("world_size")})
        QVERIFY2(!diff.contains(same), qPrintable(same));
    // Every option listed does differ between the runs.
    QTableWidget* t = w.compareView()->diffTable();
    for (int r = 0; r < t->rowCount(); ++r) {
        QSet<QString> values;
        for (int c = 1; c < t->columnCount(); ++c) values.insert(t->item(r, c)->text());
        QVERIFY2(values.size() > 1, qPrintable(t->item(r, 0)->text()));
    }
    QCOMPARE(w.compareView()->summaryTable()->rowCount(), 3);
}

QTEST_MAIN(TestRunsWorkspace)
#include "test_runs_workspace.moc"
