// Mesh with real processes over Gloo: every axis group (built from RankLayout, the planner's
// function) holds the ranks it should and its all-reduce sums exactly them; a rank that stops
// answering makes the others fail with a comm error within --collective-timeout, not hang.
#include "core/spec/RankLayout.h"

#include "RankTestSupport.h"

#include <QtTest>

using namespace meshwork;

namespace {

const QString kProbe = QStringLiteral(MESHWORK_BINARY_DIR "/tests/mesh_probe");

using test::freePort;

QStringList runRanks(int n, const QStringList& args, QList<int>* exitCodes, int timeoutMs = 60000)
{
    const int port = freePort();
    std::vector<std::unique_ptr<QProcess>> ps;
    for (int r = 0; r < n; ++r) {
        auto p = std::make_unique<QProcess>();
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("RANK", QString::number(r));
        env.insert("WORLD_SIZE", QString::number(n));
        env.insert("LOCAL_RANK", QString::number(r));
        env.insert("MASTER_ADDR", "127.0.0.1");
        env.insert("MASTER_PORT", QString::number(port));
        env.insert("OMP_NUM_THREADS", "1");
        p->setProcessEnvironment(env);
        p->setProcessChannelMode(QProcess::MergedChannels);
        p->start(kProbe, args);
        ps.push_back(std::move(p));
    }
    QStringList out;
    for (auto& p : ps) {
        if (!p->waitForFinished(timeoutMs)) p->kill(), p->waitForFinished(2000);
        exitCodes->append(p->exitStatus() == QProcess::NormalExit ? p->exitCode() : -1);
        out << QString::fromUtf8(p->readAll());
    }
    return out;
}

} // namespace

class TestMesh : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY2(QFileInfo::exists(kProbe), qPrintable(kProbe + " is not built"));
    }
    void groupsSumTheirRanks_data()
    {
        QTest::addColumn<int>("tp");
        QTest::addColumn<int>("dp");
        QTest::addColumn<int>("pp");
        QTest::addColumn<int>("cp");
        QTest::newRow("dp2") << 1 << 2 << 1 << 1;
        QTest::newRow("tp2 dp2") << 2 << 2 << 1 << 1;
        QTest::newRow("tp2 pp2") << 2 << 1 << 2 << 1;
        QTest::newRow("dp2 cp2") << 1 << 2 << 1 << 2;
    }
    void groupsSumTheirRanks()
    {
        QFETCH(int, tp);
        QFETCH(int, dp);
        QFETCH(int, pp);
        QFETCH(int, cp);
        const RankLayout layout(tp, cp, dp, pp);
        QList<int> codes;
        const QStringList out = runRanks(layout.worldSize(), {"--tp", QString::number(tp), "--dp", QString::number(dp), "--pp",
                                                              QString::number(pp), "--cp", QString::number(cp),
                                                              "--collective-timeout", "30"}, &codes);
        for (int r = 0; r < layout.worldSize(); ++r) {
            QVERIFY2(codes[r] == 0, qPrintable(out[r]));
            for (Axis a : {Axis::Tp, Axis::Cp, Axis::Dp, Axis::Pp}) {
                const auto group = layout.groupOf(r, a);
                int sum = 0;
                QString ranks;
                for (int m : group) sum += m, ranks += " " + QString::number(m);
                const QString line = QString("%1 %2%3").arg(toString(a)).arg(sum).arg(ranks);
                QVERIFY2(out[r].contains(line + "\n"), qPrintable(QString("rank %1 lacks \"%2\":\n%3").arg(r).arg(line, out[r])));
            }
            const int all = layout.worldSize() * (layout.worldSize() - 1) / 2;
            QVERIFY(out[r].contains(QString("world %1").arg(all)));
            // ZeRO shards over dp x cp: ranks with this rank's tp and pp coordinates.
            const RankCoord c = layout.coordOf(r);
            int zeroSum = 0;
            for (int m = 0; m < layout.worldSize(); ++m) {
                const RankCoord o = layout.coordOf(m);
                if (o[Axis::Tp] == c[Axis::Tp] && o[Axis::Pp] == c[Axis::Pp]) zeroSum += m;
            }
            QVERIFY2(out[r].contains(QString("zero %1").arg(zeroSum)), qPrintable(out[r]));
        }
    }
    void silentPeerTimesOutAsCommError()
    {
        QList<int> codes;
        QElapsedTimer timer;
        timer.start();
        const QStringList out = runRanks(2, {"--dp", "2", "--collective-timeout", "2", "--hang-rank", "1"}, &codes);
        QCOMPARE(codes[0], 1);
        QVERIFY2(out[0].contains("error comm:") && out[0].contains("--collective-timeout"), qPrintable(out[0]));
        QVERIFY2(timer.elapsed() < 30000, "the collective did not time out promptly");
    }
    void missingPeersFailTheRendezvous()
    {
        // World size 2 but only rank 0 starts: the store waits for the worker, then gives up.
        QList<int> codes;
        auto env = QProcessEnvironment::systemEnvironment();
        QProcess p;
        env.insert("RANK", "0");
        env.insert("WORLD_SIZE", "2");
        env.insert("MASTER_ADDR", "127.0.0.1");
        env.insert("MASTER_PORT", QString::number(freePort()));
        p.setProcessEnvironment(env);
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(kProbe, {"--dp", "2", "--collective-timeout", "2"});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 1);
        const QString out = QString::fromUtf8(p.readAll());
        QVERIFY2(out.contains("error comm:") && out.contains("could not rendezvous"), qPrintable(out));
    }
};

QTEST_GUILESS_MAIN(TestMesh)
#include "tst_mesh.moc"
