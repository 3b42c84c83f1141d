// LocalLauncher: ranks get torchrun's variables, rank 0's events stream out, one dying rank
// stops the others with its error, stop() cancels, and no process outlives the run.
#include "remote/LocalLauncher.h"

#include <QtTest>
#include <csignal>

using namespace meshwork;

namespace {
QString fakeRank() { return QStringLiteral(MESHWORK_BINARY_DIR "/tests/fake_rank"); }

bool processAlive(qint64 pid) { return pid > 0 && ::kill(pid_t(pid), 0) == 0; }
} // namespace

class TestLocalLauncher : public QObject {
    Q_OBJECT
private slots:
    void environmentIsTorchruns()
    {
        RunRequest r;
        r.nproc = 4;
        QStringList env = LocalLauncher::rankEnvironment(r, 2, 1234);
        QVERIFY(env.contains("RANK=2"));
        QVERIFY(env.contains("WORLD_SIZE=4"));
        QVERIFY(env.contains("LOCAL_RANK=2"));
        QVERIFY(env.contains("MASTER_ADDR=127.0.0.1"));
        QVERIFY(env.contains("MASTER_PORT=1234"));
    }

    void completedRunStreamsRankZero()
    {
        QTemporaryDir dir;
        LocalLauncher l;
        QSignalSpy events(&l, &Launcher::eventLine);
        QSignalSpy done(&l, &Launcher::finished);
        RunRequest r{fakeRank(), {"--sleep", "0.3"}, 3, dir.path(), "run-1"};
        l.start(r);
        QVERIFY(done.wait(15000));
        QCOMPARE(done.first().at(0).toString(), QString("completed"));
        QCOMPARE(events.size(), 2); // run_start and run_end of rank 0 only
        QVERIFY(events.first().at(0).toByteArray().contains("\"world_size\":3"));
        QVERIFY(QFile::exists(dir.filePath("events.rank2.jsonl")));
        QVERIFY(QFile::exists(dir.filePath("rank1.log")));
    }

    void oneDeadRankStopsTheOthers()
    {
        QTemporaryDir dir;
        LocalLauncher l;
        QSignalSpy exited(&l, &Launcher::rankExited);
        QSignalSpy done(&l, &Launcher::finished);
        QElapsedTimer timer;
        timer.start();
        l.start(RunRequest{fakeRank(), {"--fail-rank", "1", "--sleep", "60"}, 3, dir.path(), "run-2"});
        QVERIFY(done.wait(20000));
        QVERIFY2(timer.elapsed() < 15000, "the surviving ranks were not stopped");
        QCOMPARE(done.first().at(0).toString(), QString("failed"));
        const QString error = done.first().at(1).toString();
        QVERIFY2(error.contains("rank 1") && error.contains("simulated collective timeout"), qPrintable(error));
        QCOMPARE(exited.size(), 3);
    }

    void stopCancelsAndLeavesNoOrphans()
    {
        QTemporaryDir dir;
        LocalLauncher l;
        QSignalSpy events(&l, &Launcher::eventLine);
        QSignalSpy logs(&l, &Launcher::logLine);
        QSignalSpy done(&l, &Launcher::finished);
        l.start(RunRequest{fakeRank(), {"--sleep", "60"}, 2, dir.path(), "run-3"});
        QTRY_VERIFY_WITH_TIMEOUT(logs.size() >= 2, 10000);
        QList<qint64> pids;
        for (const auto& args : logs) {
            const QString line = QString::fromUtf8(args.at(1).toByteArray());
            pids << line.section("pid ", 1).toLongLong();
        }
        for (qint64 pid : pids) QVERIFY(processAlive(pid));
        l.stop();
        QVERIFY(done.wait(15000));
        QCOMPARE(done.first().at(0).toString(), QString("cancelled"));
        QVERIFY(events.last().at(0).toByteArray().contains("cancelled"));
        for (qint64 pid : pids) QTRY_VERIFY_WITH_TIMEOUT(!processAlive(pid), 5000);
    }

    void missingTrainerFailsClearly()
    {
        QTemporaryDir dir;
        LocalLauncher l;
        QSignalSpy done(&l, &Launcher::finished);
        l.start(RunRequest{"/nonexistent/meshwork-train", {}, 2, dir.path(), "run-4"});
        QVERIFY(done.wait(10000));
        QCOMPARE(done.first().at(0).toString(), QString("failed"));
        QVERIFY2(done.first().at(1).toString().contains("cannot start"), qPrintable(done.first().at(1).toString()));
    }
};

QTEST_GUILESS_MAIN(TestLocalLauncher)
#include "test_local_launcher.moc"
