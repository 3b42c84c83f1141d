// Crash test: a process ingesting a run is killed with SIGKILL in the middle of its writes.
// The database must then open, pass PRAGMA integrity_check, hold every step the process
// reported committed, and show the run as interrupted.
#include "core/runs/RunStore.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace meshwork;

class TestRunStoreCrash : public QObject {
    Q_OBJECT

private slots:
    void killedWriterLosesNothingCommitted_data()
    {
        QTest::addColumn<int>("killAfterStep");
        QTest::newRow("early") << 200;
        QTest::newRow("later") << 3000;
        QTest::newRow("much later") << 12000;
    }

    void killedWriterLosesNothingCommitted()
    {
        QFETCH(int, killAfterStep);
        QTemporaryDir dir;
        const QString db = dir.filePath("runs.sqlite");
        QProcess child;
        child.setProcessChannelMode(QProcess::SeparateChannels);
        child.start(QStringLiteral(INGEST_CHILD), {db, QStringLiteral("crash-run")});
        QVERIFY2(child.waitForStarted(10000), qPrintable(child.errorString()));

        QByteArray out;
        long long lastReported = -1;
        QElapsedTimer timer;
        timer.start();
        while (lastReported < killAfterStep && timer.elapsed() < 60000) {
            QVERIFY2(child.state() == QProcess::Running, child.readAllStandardError().constData());
            child.waitForReadyRead(200);
            out += child.readAllStandardOutput();
            for (const QByteArray& line : out.split('\n'))
                if (line.startsWith("committed ")) lastReported = std::max(lastReported, line.mid(10).toLongLong());
        }
        QVERIFY2(lastReported >= killAfterStep, "the child did not get far enough in 60 s");
        child.kill(); // SIGKILL, mid-write: it never stops committing
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);
        // Whatever it printed before dying was committed before it was printed.
        out += child.readAllStandardOutput();
        for (const QByteArray& line : out.split('\n'))
            if (line.startsWith("committed ")) lastReported = std::max(lastReported, line.mid(10).toLongLong());

        RunStore store(db.toStdString());
        {
            Statement st = store.database().prepare("PRAGMA integrity_check");
            QVERIFY(st.step());
            QCOMPARE(st.text(0), std::string("ok"));
        }
        const Series loss = store.series("crash-run", "loss");
        QVERIFY(loss.size() >= size_t(lastReported));
        for (long long s = 1; s <= lastReported; ++s) {
            QCOMPARE(loss.step[size_t(s - 1)], int64_t(s)); // every reported step, in order, no gaps
            QCOMPARE(loss.value[size_t(s - 1)], 5.0 / double(s));
        }
        QCOMPARE(store.runById("crash-run")->status, RunStatus::Interrupted);
        qInfo("reported %lld committed steps; the database holds %zu", lastReported, loss.size());
    }
};

QTEST_GUILESS_MAIN(TestRunStoreCrash)
#include "test_run_store_crash.moc"
