// `meshwork-cli runs ...` through its command function, on real database and events files.
#include "app/cli/RunsCommand.h"
#include "core/runs/RunStore.h"
#include "SyntheticRun.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <fstream>
#include <sstream>

using namespace meshwork;
using meshwork::testing::SyntheticRun;

namespace {

struct Result {
    int code;
    std::string out;
    std::string err;
};

Result runs(std::vector<std::string> args)
{
    std::ostringstream out, err;
    const int code = runRunsCommand(args, out, err);
    return {code, out.str(), err.str()};
}

bool has(const std::string& text, const std::string& what)
{
    return text.find(what) != std::string::npos;
}

} // namespace

class TestRunsCommand : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_db;

    std::string writeRun(const SyntheticRun& run, const std::string& name)
    {
        const std::string path = m_dir.filePath(QString::fromStdString(name)).toStdString();
        std::ofstream(path, std::ios::binary) << run.text();
        return path;
    }

private slots:
    void initTestCase()
    {
        m_db = m_dir.filePath("runs.sqlite").toStdString();
        SyntheticRun a, b, c;
        a.runId = "alpha-100";
        a.predictedTokensPerS = 5500;
        b.runId = "alpha-200";
        b.zero = 3;
        b.status = "failed";
        c.runId = "gamma-300";
        c.microBatch = 8;
        Result r = runs({"import", writeRun(a, "a.jsonl"), writeRun(b, "b.jsonl"), "--db", m_db});
        QCOMPARE(r.code, 0);
        QVERIFY2(has(r.out, "imported alpha-100 from"), r.out.c_str());
        QVERIFY(has(r.out, "imported alpha-200 from"));
        r = runs({"import", "--db=" + m_db, writeRun(c, "c.jsonl")});
        QCOMPARE(r.code, 0);
    }

    void badInputExitsTwoSayingWhatToFix_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("nothing") << QStringList{} << "which sub-command";
        QTest::newRow("unknown sub-command") << QStringList{"lsit"} << "unknown sub-command \"lsit\"";
        QTest::newRow("unknown option") << QStringList{"list", "--tga", "x"} << "did you mean --tag";
        QTest::newRow("missing value") << QStringList{"list", "--tag"} << "--tag needs a value";
        QTest::newRow("bad status") << QStringList{"list", "--status", "done"} << "expected running, completed";
        QTest::newRow("show without id") << QStringList{"show"} << "usage: meshwork-cli runs show ID";
        QTest::newRow("unknown id") << QStringList{"show", "zeta"} << "no run matches \"zeta\"";
        QTest::newRow("ambiguous id") << QStringList{"show", "alpha"} << "matches 2 runs (alpha-100, alpha-200)";
        QTest::newRow("compare one") << QStringList{"compare", "gamma"} << "usage: meshwork-cli runs compare";
        QTest::newRow("misplaced option") << QStringList{"show", "gamma", "--csv", "x.csv"} << "--csv belongs to";
        QTest::newRow("extra argument") << QStringList{"show", "gamma", "extra"} << "unexpected argument \"extra\"";
        QTest::newRow("import nothing") << QStringList{"import"} << "usage: meshwork-cli runs import";
        QTest::newRow("import missing") << QStringList{"import", "/no/such/events.jsonl"} << "is not a file";
    }

    void badInputExitsTwoSayingWhatToFix()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        std::vector<std::string> a = {"--db", m_db};
        for (const QString& s : args) a.push_back(s.toStdString());
        const Result r = runs(a);
        QCOMPARE(r.code, 2);
        QVERIFY2(has(r.err, message.toStdString()), r.err.c_str());
        QVERIFY(r.out.empty());
    }

    void missingDatabaseIsNotCreatedForReading()
    {
        const std::string path = m_dir.filePath("typo.sqlite").toStdString();
        const Result r = runs({"list", "--db", path});
        QCOMPARE(r.code, 2);
        QVERIFY2(has(r.err, "does not exist"), r.err.c_str());
        QVERIFY(!QFileInfo::exists(QString::fromStdString(path)));
    }

    void newerDatabaseExitsOne()
    {
        const std::string path = m_dir.filePath("future.sqlite").toStdString();
        sqlite3* db = nullptr;
        sqlite3_open(path.c_str(), &db);
        sqlite3_exec(db, "PRAGMA user_version = 9", nullptr, nullptr, nullptr);
        sqlite3_close(db);
        const Result r = runs({"list", "--db", path});
        QCOMPARE(r.code, 1);
        QVERIFY2(has(r.err, "future.sqlite was written by a newer Meshwork (schema 9, this build knows 4)"), r.err.c_str());
    }

    void help()
    {
        const Result r = runs({"--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(has(r.out, "usage: meshwork-cli runs"));
    }

    void list()
    {
        Result r = runs({"list", "--db", m_db});
        QCOMPARE(r.code, 0);
        QVERIFY(has(r.out, "ID"));
        for (const char* id : {"alpha-100", "alpha-200", "gamma-300"}) QVERIFY2(has(r.out, id), r.out.c_str());
        QVERIFY(has(r.out, "completed"));
        QVERIFY(has(r.out, "gpt2-small"));
        r = runs({"list", "--db", m_db, "--status", "failed"});
        QCOMPARE(r.code, 0);
        QVERIFY(has(r.out, "alpha-200"));
        QVERIFY(!has(r.out, "alpha-100"));
        r = runs({"list", "--db", m_db, "--search", "nothing-like-this"});
        QCOMPARE(r.code, 0);
        QVERIFY(has(r.out, "no runs match"));
    }

    void show()
    {
        const Result r = runs({"show", "alpha-1", "--db", m_db}); // a unique prefix
        QCOMPARE(r.code, 0);
        QVERIFY(has(r.out, "run      alpha-100"));
        QVERIFY(has(r.out, "final loss"));
        QVERIFY(has(r.out, "tokens/s"));
        QVERIFY(has(r.out, "5,500")); // the prediction, next to the measurement
        QVERIFY2(has(r.out, "checkpoint"), r.out.c_str());
        QVERIFY(has(r.out, "micro_batch=4"));
        QVERIFY2(!has(r.out, "host wait") && !has(r.out, "launch-bound"), r.out.c_str()); // not in these events
    }

    void showSaysLaunchBound()
    {
        // The host waited 0.5 ms of an 80 ms step for the GPUs: they waited for the host.
        const std::string db = m_dir.filePath("launch.sqlite").toStdString();
        SyntheticRun bound, busy;
        bound.runId = "bound-1";
        bound.hostWaitMs = 0.5;
        busy.runId = "busy-1";
        busy.hostWaitMs = 30.0;
        QCOMPARE(runs({"import", writeRun(bound, "bound.jsonl"), writeRun(busy, "busy.jsonl"), "--db", db}).code, 0);
        Result r = runs({"show", "bound-1", "--db", db});
        QCOMPARE(r.code, 0);
        QVERIFY2(has(r.out, "host wait (ms)") && has(r.out, "0.50"), r.out.c_str());
        QVERIFY2(has(r.out, "launch-bound: the host waited 0.50 ms of a 80.0 ms step"), r.out.c_str());
        r = runs({"show", "busy-1", "--db", db});
        QVERIFY2(has(r.out, "host wait (ms)") && has(r.out, "30.00"), r.out.c_str());
        QVERIFY2(!has(r.out, "launch-bound"), r.out.c_str());
    }

    void exportCsv()
    {
        Result r = runs({"export", "gamma", "--db", m_db});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.rfind("step,t,loss,", 0) == 0);
        QCOMPARE(std::count(r.out.begin(), r.out.end(), '\n'), std::ptrdiff_t(51)); // header + 50 steps
        const std::string file = m_dir.filePath("gamma.csv").toStdString();
        r = runs({"export", "gamma", "--csv", file, "--db", m_db});
        QCOMPARE(r.code, 0);
        std::ifstream in(file);
        std::stringstream text;
        text << in.rdbuf();
        const std::string written = text.str();
        QCOMPARE(written, runs({"export", "gamma", "--db", m_db}).out);
        r = runs({"export", "gamma", "--csv", "/no/such/dir/x.csv", "--db", m_db});
        QCOMPARE(r.code, 2);
    }

    void compare()
    {
        Result r = runs({"compare", "alpha-100", "alpha-200", "gamma", "--db", m_db});
        QCOMPARE(r.code, 0);
        const std::string options = r.out.substr(0, r.out.find("results:"));
        QVERIFY2(has(options, "zero"), r.out.c_str());
        QVERIFY(has(options, "micro_batch"));
        QVERIFY(!has(options, "precision")); // the same everywhere
        QVERIFY(has(r.out, "final loss"));
        QVERIFY(has(r.out, "failed"));
        r = runs({"compare", "alpha-100", "alpha-200", "--all", "--db", m_db});
        QCOMPARE(r.code, 0);
        QVERIFY(has(r.out.substr(0, r.out.find("results:")), "precision"));
    }

    void importReportsSkippedLines()
    {
        SyntheticRun cut;
        cut.runId = "cut-400";
        cut.steps = 5;
        cut.withEnd = false;
        const std::string path = m_dir.filePath("cut.jsonl").toStdString();
        std::ofstream(path, std::ios::binary) << cut.text() << "oops\n{\"v\":1,\"event\":\"st";
        const Result r = runs({"import", path, "--db", m_db});
        QCOMPARE(r.code, 0);
        QVERIFY2(has(r.out, "2 lines skipped (1 malformed, 1 cut short)"), r.out.c_str());
        QVERIFY(has(r.err, "unfinished last line"));
        QVERIFY(has(runs({"list", "--db", m_db, "--status", "interrupted"}).out, "cut-400"));
    }
};

QTEST_GUILESS_MAIN(TestRunsCommand)
#include "test_runs_command.moc"
