// RunStore on real SQLite files: migrations, ingest, series and summary, editing,
// comparison, import and interrupted runs.
#include "core/events/EventReader.h"
#include "core/runs/Ingestor.h"
#include "core/runs/RunStore.h"
#include "core/runs/Schema.h"
#include "SyntheticRun.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace meshwork;
using meshwork::testing::SyntheticRun;

namespace {

// Raw SQLite, for building files the way an older or newer Meshwork would have left them.
void rawExec(const std::string& path, const std::string& sql)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, message.c_str());
}

int64_t scalar(RunStore& store, const std::string& sql)
{
    Statement st = store.database().prepare(sql);
    return st.step() ? st.int64(0) : -1;
}

std::string scalarText(RunStore& store, const std::string& sql)
{
    Statement st = store.database().prepare(sql);
    return st.step() ? st.text(0) : std::string();
}

void ingestRun(RunStore& store, const SyntheticRun& run)
{
    Ingestor ingestor(store);
    ingestor.feed(run.text());
    ingestor.finish();
    QCOMPARE(ingestor.runId(), run.runId);
}

std::string writeFile(const QTemporaryDir& dir, const std::string& relative, const std::string& text)
{
    const std::string path = dir.filePath(QString::fromStdString(relative)).toStdString();
    QDir().mkpath(QFileInfo(QString::fromStdString(path)).path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

RunInfo runWithId(const std::string& id)
{
    RunInfo r;
    r.id = id;
    return r;
}

RunFilter byText(const std::string& text) { RunFilter f; f.text = text; return f; }
RunFilter byStatus(RunStatus s) { RunFilter f; f.status = s; return f; }
RunFilter byTag(const std::string& tag) { RunFilter f; f.tag = tag; return f; }

} // namespace

class TestRunStore : public QObject {
    Q_OBJECT

private slots:
    void createsFileAndFolder()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("nested/deeper/runs.sqlite").toStdString();
        RunStore store(path);
        QVERIFY(QFileInfo::exists(QString::fromStdString(path)));
        QCOMPARE(scalar(store, "PRAGMA user_version"), int64_t(RunStore::schemaVersion()));
        QCOMPARE(scalarText(store, "PRAGMA journal_mode"), std::string("wal"));
        QCOMPARE(scalar(store, "PRAGMA foreign_keys"), int64_t(1));
        QVERIFY(scalar(store, "PRAGMA busy_timeout") >= 1000);
        QVERIFY(store.listRuns().empty());
    }

    void defaultPathFollowsXdg()
    {
        const QByteArray oldXdg = qgetenv("XDG_DATA_HOME");
        qputenv("XDG_DATA_HOME", "/tmp/xdg-data");
        QCOMPARE(defaultRunStorePath(), std::string("/tmp/xdg-data/meshwork/runs.sqlite"));
        qputenv("XDG_DATA_HOME", "relative/ignored");
        QCOMPARE(defaultRunStorePath(), qgetenv("HOME").toStdString() + "/.local/share/meshwork/runs.sqlite");
        qunsetenv("XDG_DATA_HOME");
        QCOMPARE(defaultRunStorePath(), qgetenv("HOME").toStdString() + "/.local/share/meshwork/runs.sqlite");
        if (!oldXdg.isNull()) qputenv("XDG_DATA_HOME", oldXdg);
    }

    void migratesFromVersion1()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("runs.sqlite").toStdString();
        rawExec(path, std::string(runStoreSchemaV1Sql()) + "PRAGMA user_version = 1;"
                "INSERT INTO runs (id, name, status, created, tp) VALUES ('old', 'old run', 'completed', 100, 2);"
                "INSERT INTO metrics VALUES ('old', 1, 'loss', 3.0, 0.5), ('old', 2, 'loss', 2.0, 1.0),"
                " ('old', 3, 'loss', 2.5, 1.5);"
                // Two runs with plans: one from a trainer before grad_reduce existed, one from a
                // trainer that reduced in bf16 (kept by a build that had no column for it).
                "INSERT INTO runs (id, name, status, created, plan, dp, precision) VALUES"
                " ('before', 'before', 'completed', 101, '{\"dp\":2,\"precision\":\"bf16\"}', 2, 'bf16'),"
                " ('bf16', 'bf16', 'completed', 102, '{\"dp\":2,\"precision\":\"bf16\",\"grad_reduce\":\"bf16\"}', 2, 'bf16');");
        RunStore store(path);
        QCOMPARE(scalar(store, "PRAGMA user_version"), int64_t(RunStore::schemaVersion()));
        auto run = store.runById("old");
        QVERIFY(run);
        QCOMPARE(run->name, std::string("old run"));
        QCOMPARE(run->status, RunStatus::Completed);
        QVERIFY(run->tags.empty());
        QCOMPARE(run->notes, std::string());
        QCOMPARE(run->finalLoss.value_or(-1), 2.5); // cached values filled in by migration 2
        QCOMPARE(run->bestLoss.value_or(-1), 2.0);
        QCOMPARE(run->steps.value_or(-1), int64_t(3));
        QVERIFY(store.setTags("old", {"legacy"}));
        QCOMPARE(store.series("old", "loss").size(), size_t(3));
        // Migration 4: grad_reduce from the plan, fp32 when the plan does not say (Plan::fromJson's
        // default), NULL without a plan.
        QCOMPARE(scalar(store, "SELECT grad_reduce IS NULL FROM runs WHERE id = 'old'"), int64_t(1));
        QCOMPARE(scalarText(store, "SELECT grad_reduce FROM runs WHERE id = 'before'"), std::string("fp32"));
        QCOMPARE(scalarText(store, "SELECT grad_reduce FROM runs WHERE id = 'bf16'"), std::string("bf16"));
        const ConfigDiff diff = store.configDiff({"before", "bf16"}, true);
        QCOMPARE(diff.rows.size(), size_t(1));
        QCOMPARE(diff.rows[0].option, std::string("grad_reduce"));
        QCOMPARE(diff.rows[0].values, (std::vector<std::string>{"fp32", "bf16"}));
    }

    void gradReduceIsStoredAndCompared()
    {
        // A trainer's plan names grad_reduce; one that does not (an older trainer, or the
        // synthetic stream) reduced in fp32. A run without any plan has no value.
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        SyntheticRun plain;
        plain.runId = "plain";
        plain.steps = 2;
        ingestRun(store, plain);
        const std::string line = "{\"v\":1,\"event\":\"run_start\",\"t\":0,\"run_id\":\"halved\",\"plan\":"
                                 "{\"model\":\"gpt2-small\",\"dp\":2,\"tp\":1,\"pp\":1,\"sp\":false,\"zero\":1,"
                                 "\"micro_batch\":4,\"seq\":1024,\"precision\":\"bf16\",\"grad_reduce\":\"bf16\","
                                 "\"order\":\"tp-cp-dp-pp\"},\"world_size\":2,\"hosts\":[\"node-a\"],\"trainer\":\"0.1.0\"}";
        Event e;
        QCOMPARE(EventReader::parseLine(line, &e), EventReader::LineKind::Event);
        store.ingest("halved", e);
        Event bare;
        QCOMPARE(EventReader::parseLine("{\"v\":1,\"event\":\"run_start\",\"t\":0,\"run_id\":\"planless\"}", &bare),
                 EventReader::LineKind::Event);
        store.ingest("planless", bare);
        QCOMPARE(scalarText(store, "SELECT grad_reduce FROM runs WHERE id = 'plain'"), std::string("fp32"));
        QCOMPARE(scalarText(store, "SELECT grad_reduce FROM runs WHERE id = 'halved'"), std::string("bf16"));
        QCOMPARE(scalar(store, "SELECT grad_reduce IS NULL FROM runs WHERE id = 'planless'"), int64_t(1));
        ConfigDiff diff = store.configDiff({"plain", "halved"}, true);
        std::vector<std::string> options;
        for (const auto& row : diff.rows) options.push_back(row.option);
        QCOMPARE(options, (std::vector<std::string>{"grad_reduce"}));
        QCOMPARE(diff.rows[0].values, (std::vector<std::string>{"fp32", "bf16"}));
        diff = store.configDiff({"plain", "planless"}, false);
        const auto row = std::find_if(diff.rows.begin(), diff.rows.end(), [](const auto& r) { return r.option == "grad_reduce"; });
        QVERIFY(row != diff.rows.end());
        QCOMPARE(row->values, (std::vector<std::string>{"fp32", ""}));
    }

    void tokensFromTheRowOrFromTheTokensSeries()
    {
        // Rows written before schema 3 carry no token count: a series by tokens then takes the
        // tokens series at the same steps (merged when many are missing, looked up when few);
        // rows written since carry the count of their step event.
        QTemporaryDir dir;
        const std::string path = dir.filePath("runs.sqlite").toStdString();
        std::string sql = std::string(runStoreSchemaV1Sql()) + "PRAGMA user_version = 1;"
                          "INSERT INTO runs (id, name, status, created) VALUES ('old', 'old', 'completed', 100);";
        for (int step = 1; step <= 200; ++step) {
            const std::string s = std::to_string(step);
            sql += "INSERT INTO metrics VALUES ('old', " + s + ", 'loss', " + std::to_string(4.0 - step * 0.01) + ", " + s + ");";
            if (step != 150) sql += "INSERT INTO metrics VALUES ('old', " + s + ", 'tokens', " + std::to_string(1000 * step) + ", " + s + ");";
        }
        sql += "INSERT INTO metrics VALUES ('old', 100, 'val_loss', 3.5, 100);";
        rawExec(path, sql);
        RunStore store(path);
        QCOMPARE(scalar(store, "PRAGMA user_version"), int64_t(4));
        auto checkTokens = [&](const Series& s) {
            QCOMPARE(s.tokens.size(), s.size());
            for (size_t i = 0; i < s.size(); ++i) {
                if (s.step[i] == 150) QVERIFY(std::isnan(s.tokens[i])); // the old run never said
                else QCOMPARE(s.tokens[i], 1000.0 * double(s.step[i]));
            }
        };
        checkTokens(store.series("old", "loss")); // every row without: one merged scan
        QCOMPARE(store.series("old", "val_loss").tokens, std::vector<double>{100000.0});
        QVERIFY(store.series("old", "loss", false).tokens.empty());

        // The run goes on under this build: 13,000 more steps whose rows carry their tokens.
        {
            Transaction tx(store.database());
            EventReader parse;
            std::string text;
            for (int step = 201; step <= 13200; ++step)
                text += "{\"v\":1,\"event\":\"step\",\"t\":" + std::to_string(step) + ",\"step\":" + std::to_string(step)
                        + ",\"loss\":2.0,\"tokens\":" + std::to_string(1000 * step) + "}\n";
            for (const Event& e : parse.feed(text)) store.ingest("old", e);
            tx.commit();
        }
        QCOMPARE(scalar(store, "SELECT count(*) FROM metrics WHERE run_id = 'old' AND name = 'loss' AND tokens IS NULL"),
                 int64_t(200));
        QCOMPARE(scalar(store, "SELECT count(*) FROM metrics WHERE run_id = 'old' AND name = 'loss' AND tokens = step * 1000"),
                 int64_t(13000));
        const Series loss = store.series("old", "loss"); // 200 of 13,200 without: looked up one by one
        QCOMPARE(loss.size(), size_t(13200));
        checkTokens(loss);
        const Series tokens = store.series("old", "tokens");
        QCOMPARE(tokens.tokens, tokens.value);
    }

    void refusesNewerDatabase()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("runs.sqlite").toStdString();
        rawExec(path, "CREATE TABLE future (x); PRAGMA user_version = 7;");
        try {
            RunStore store(path);
            QFAIL("a schema-7 file was opened");
        } catch (const RunStoreError& e) {
            QCOMPARE(std::string(e.what()), std::string("runs.sqlite was written by a newer Meshwork (schema 7, this "
                                                         "build knows 4): upgrade Meshwork or open another file"));
        }
        // Refused untouched: still version 7, still in its rollback-journal mode.
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
        QCOMPARE(sqlite3_step(st), SQLITE_ROW);
        QCOMPARE(sqlite3_column_int(st, 0), 7);
        sqlite3_finalize(st);
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
        QCOMPARE(sqlite3_step(st), SQLITE_ROW);
        QCOMPARE(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), std::string("delete"));
        sqlite3_finalize(st);
        sqlite3_close(db);
    }

    void errorsNameCallMessageAndPlace()
    {
        QTemporaryDir dir;
        const std::string notDb = writeFile(dir, "notes.txt", std::string(4096, 'x'));
        try {
            RunStore store(notDb);
            QFAIL("a text file was opened as a database");
        } catch (const RunStoreError& e) {
            QCOMPARE(e.sqliteCode() & 0xff, SQLITE_NOTADB);
            QVERIFY(!e.call().empty());
            QVERIFY2(std::string(e.what()).find("notes.txt") != std::string::npos, e.what());
            QVERIFY2(e.file().rfind("core/runs/", 0) == 0, e.file().c_str());
            QVERIFY(e.line() > 0);
        }
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        try {
            store.database().exec("SELEKT 1");
            QFAIL("bad SQL ran");
        } catch (const RunStoreError& e) {
            QCOMPARE(e.call(), std::string("SELEKT 1"));
            QVERIFY(e.sqliteMessage().find("syntax error") != std::string::npos);
            QVERIFY2(e.file().find("test_run_store.cpp") != std::string::npos, e.file().c_str());
        }
    }

    void transactionRollsBackUnlessCommitted()
    {
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        {
            Transaction tx(store.database());
            store.createRun(runWithId("gone")); // nests as a savepoint
            QVERIFY(store.runById("gone"));
        } // no commit: rolled back
        QVERIFY(!store.runById("gone"));
        QVERIFY(!store.database().inTransaction());
        {
            Transaction tx(store.database());
            store.createRun(runWithId("kept"));
            tx.commit();
        }
        QVERIFY(store.runById("kept"));
        try {
            store.createRun(runWithId("kept"));
            QFAIL("a second run with the same id was created");
        } catch (const RunStoreError& e) {
            QVERIFY2(e.sqliteMessage().find("UNIQUE constraint failed: runs.id") != std::string::npos, e.what());
            QVERIFY2(e.call().rfind("INSERT INTO runs", 0) == 0, e.call().c_str());
            QCOMPARE(e.file(), std::string("core/runs/RunStore.cpp"));
        }
        QVERIFY(!store.database().inTransaction()); // createRun's own transaction rolled back
    }

    void ingestGivesSeriesAndSummary()
    {
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        SyntheticRun run;
        run.steps = 60;
        run.predictedTokensPerS = 5500;
        ingestRun(store, run);

        auto info = store.runById(run.runId);
        QVERIFY(info);
        QCOMPARE(info->status, RunStatus::Completed);
        QCOMPARE(info->model, std::string("gpt2-small"));
        QCOMPARE(info->trainer, std::string("0.1.0"));
        QCOMPARE(info->host, std::string("node-a"));
        QCOMPARE(info->worldSize.value_or(0), int64_t(2));
        QCOMPARE(info->plan.find("micro_batch")->asNumber(), 4.0);
        QCOMPARE(info->steps.value_or(0), int64_t(60));
        QCOMPARE(info->wallS.value_or(0), 31.0);
        QCOMPARE(scalar(store, "SELECT micro_batch FROM runs"), int64_t(4));
        QCOMPARE(scalarText(store, "SELECT precision FROM runs"), std::string("bf16"));
        QCOMPARE(scalar(store, "SELECT sp FROM runs"), int64_t(0));

        Series loss = store.series(run.runId, "loss");
        QCOMPARE(loss.size(), size_t(60));
        double best = 1e9;
        int bestStep = 0;
        for (int s = 1; s <= 60; ++s) {
            QCOMPARE(loss.step[s - 1], int64_t(s));
            QCOMPARE(loss.value[s - 1], SyntheticRun::loss(s));
            QCOMPARE(loss.t[s - 1], 0.5 * s);
            QCOMPARE(loss.tokens[s - 1], SyntheticRun::tokens(s));
            if (SyntheticRun::loss(s) < best) { best = SyntheticRun::loss(s); bestStep = s; }
        }
        Series val = store.series(run.runId, "val_loss");
        QCOMPARE(val.size(), size_t(6));
        QCOMPARE(val.step.front(), int64_t(10));
        QCOMPARE(val.tokens.front(), SyntheticRun::tokens(10));
        QVERIFY(store.series(run.runId, "no_such_series").size() == 0);
        const Series bare = store.series(run.runId, "loss", false);
        QCOMPARE(bare.value, loss.value);
        QCOMPARE(bare.step, loss.step);
        QVERIFY(bare.tokens.empty());
        const std::vector<std::string> names = store.seriesNames(run.runId);
        QCOMPARE(names.size(), size_t(10));
        QCOMPARE(names.front(), std::string("loss"));
        QCOMPARE(names.back(), std::string("val_loss"));

        RunSummary sum = store.summary(run.runId);
        QCOMPARE(sum.points, int64_t(60));
        QCOMPARE(sum.lastStep.value_or(0), int64_t(60));
        QCOMPARE(sum.finalLoss.value_or(0), SyntheticRun::loss(60));
        QCOMPARE(sum.bestLoss.value_or(0), best);
        QCOMPARE(sum.bestLossStep.value_or(0), int64_t(bestStep));
        QCOMPARE(sum.finalValLoss.value_or(0), SyntheticRun::loss(60) + 0.1);
        double tpsSum = 0, tflopsSum = 0, memMax = 0;
        for (int s = 2; s <= 60; ++s) { tpsSum += SyntheticRun::tokensPerS(s); tflopsSum += SyntheticRun::tflops(s); }
        for (int s = 1; s <= 60; ++s) memMax = std::max(memMax, SyntheticRun::mem(s));
        QVERIFY(std::abs(sum.meanTokensPerS.value_or(0) - tpsSum / 59) < 1e-9);  // warm-up step 1 left out
        QVERIFY(std::abs(sum.meanTflops.value_or(0) - tflopsSum / 59) < 1e-9);
        QCOMPARE(sum.peakMemGib.value_or(0), memMax);
        QCOMPARE(sum.meanStepMs.value_or(0), 80.0);
        QVERIFY(!sum.meanHostWaitMs); // this run's events have no host_wait_ms
        const double measured = tpsSum / 59;
        QVERIFY(std::abs(sum.tokensPerSErrorPct.value_or(0) - (5500 - measured) / measured * 100) < 1e-9);
        QVERIFY(std::abs(sum.memErrorPct.value_or(0) - (12.0 - memMax) / memMax * 100) < 1e-9);
        QCOMPARE(info->finalLoss.value_or(0), sum.finalLoss.value_or(-1));
        QCOMPARE(info->bestLoss.value_or(0), best);

        // run_start, log, checkpoint and run_end are events; steps and evals are not.
        std::vector<std::string> types;
        for (const StoredEvent& e : store.events(run.runId)) types.push_back(e.type);
        QCOMPARE(types, (std::vector<std::string>{"run_start", "log", "checkpoint", "run_end"}));
        QVERIFY(store.events(run.runId).front().json.find("future_field") != std::string::npos);
        QCOMPARE(scalarText(store, "PRAGMA integrity_check"), std::string("ok"));
    }

    void malformedAndPartialLinesAreSkippedAndCounted()
    {
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        SyntheticRun run;
        run.steps = 20;
        run.withEnd = false;
        std::vector<std::string> lines = run.lines();
        lines.insert(lines.begin() + 3, "this is not json");
        lines.insert(lines.begin() + 5, "{\"event\":\"step\",\"step\":99}");      // no "v"
        lines.insert(lines.begin() + 7, "{\"v\":2,\"event\":\"step\",\"step\":98,\"loss\":1}"); // newer
        lines.insert(lines.begin() + 9, "[1,2,3]");
        std::string text;
        for (const auto& l : lines) text += l + "\n";
        text += "{\"v\":1,\"event\":\"step\",\"t\":11,\"step\":21,\"loss\":0.5,\"tok"; // killed mid-line

        Ingestor ingestor(store);
        // Fed in uneven chunks, as a pipe delivers them.
        for (size_t pos = 0; pos < text.size(); pos += 37) ingestor.feed(std::string_view(text).substr(pos, 37));
        QVERIFY(ingestor.reader().pendingBytes() > 0);
        ingestor.finish();
        const EventReaderStats& st = ingestor.reader().stats();
        QCOMPARE(st.invalid, int64_t(3));
        QCOMPARE(st.newerVersion, int64_t(1));
        QCOMPARE(st.truncated, int64_t(1));
        QCOMPARE(st.events, int64_t(lines.size() - 4));
        QCOMPARE(store.series(run.runId, "loss").size(), size_t(20));
        QCOMPARE(store.series(run.runId, "loss").step.back(), int64_t(20));
    }

    void repeatedStepReplacesThePoint()
    {
        // A trainer resumed from a checkpoint repeats the steps after it: the newer point wins.
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        EventReader parse;
        const auto events = parse.feed(
            "{\"v\":1,\"event\":\"step\",\"t\":1,\"step\":1,\"loss\":3.0}\n"
            "{\"v\":1,\"event\":\"step\",\"t\":2,\"step\":2,\"loss\":2.0}\n"
            "{\"v\":1,\"event\":\"step\",\"t\":9,\"step\":2,\"loss\":2.5}\n"
            "{\"v\":1,\"event\":\"eval\",\"t\":9,\"step\":2,\"val_loss\":2.7}\n"
            "{\"v\":1,\"event\":\"eval\",\"t\":9.5,\"step\":2,\"val_loss\":2.6}\n");
        for (const Event& e : events) store.ingest("resumed", e);
        const Series loss = store.series("resumed", "loss");
        QCOMPARE(loss.step, (std::vector<int64_t>{1, 2}));
        QCOMPARE(loss.value, (std::vector<double>{3.0, 2.5}));
        QCOMPARE(loss.t.back(), 9.0);
        QCOMPARE(store.series("resumed", "val_loss").value, std::vector<double>{2.6});
        QCOMPARE(store.runById("resumed")->status, RunStatus::Running); // created by its first event
    }

    void renameTagsNotesDelete()
    {
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        SyntheticRun a, b;
        a.runId = "alpha-1";
        b.runId = "beta-2";
        b.status = "failed";
        ingestRun(store, a);
        ingestRun(store, b);

        QVERIFY(store.rename("alpha-1", "Baseline 124M"));
        QVERIFY(!store.rename("nope", "x"));
        QVERIFY_THROWS_EXCEPTION(RunStoreError, store.rename("alpha-1", ""));
        QVERIFY(store.setTags("alpha-1", {"baseline", "bf16", "baseline"}));
        QVERIFY(store.setTags("beta-2", {"zero3"}));
        QVERIFY(store.setNotes("beta-2", "OOM at 50% with 100% offload"));
        QVERIFY(!store.setTags("nope", {"x"}));

        auto run = store.runById("alpha-1");
        QCOMPARE(run->name, std::string("Baseline 124M"));
        QCOMPARE(run->tags, (std::vector<std::string>{"baseline", "bf16"}));
        QCOMPARE(store.runById("beta-2")->notes, std::string("OOM at 50% with 100% offload"));

        auto ids = [&](const RunFilter& f) {
            std::vector<std::string> out;
            for (const auto& r : store.listRuns(f)) out.push_back(r.id);
            std::sort(out.begin(), out.end());
            return out;
        };
        QCOMPARE(ids({}), (std::vector<std::string>{"alpha-1", "beta-2"}));
        QCOMPARE(ids(byText("baseline")), (std::vector<std::string>{"alpha-1"}));   // name and tag
        QCOMPARE(ids(byText("BF1")), (std::vector<std::string>{"alpha-1"}));        // tag, any case
        QCOMPARE(ids(byText("50%")), (std::vector<std::string>{"beta-2"}));         // notes; % literal
        QCOMPARE(ids(byText("gpt2")), (std::vector<std::string>{"alpha-1", "beta-2"})); // model
        QCOMPARE(ids(byStatus(RunStatus::Failed)), (std::vector<std::string>{"beta-2"}));
        QCOMPARE(ids(byTag("zero3")), (std::vector<std::string>{"beta-2"}));
        QCOMPARE(ids(byTag("zero")), std::vector<std::string>{}); // tags match exactly
        QCOMPARE(store.runIdsMatching("al"), (std::vector<std::string>{"alpha-1"}));
        QCOMPARE(store.runIdsMatching("beta-2"), (std::vector<std::string>{"beta-2"}));
        QVERIFY(store.runIdsMatching("z").empty());

        QVERIFY(store.deleteRun("alpha-1"));
        QVERIFY(!store.deleteRun("alpha-1"));
        QVERIFY(!store.runById("alpha-1"));
        QCOMPARE(scalar(store, "SELECT count(*) FROM metrics WHERE run_id = 'alpha-1'"), int64_t(0));
        QCOMPARE(scalar(store, "SELECT count(*) FROM events WHERE run_id = 'alpha-1'"), int64_t(0));
        QCOMPARE(scalar(store, "SELECT count(*) FROM run_tags WHERE run_id = 'alpha-1'"), int64_t(0));
        QVERIFY(scalar(store, "SELECT count(*) FROM metrics WHERE run_id = 'beta-2'") > 0);
    }

    void configDiff_data()
    {
        QTest::addColumn<bool>("onlyDifferences");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("differences") << true << QStringList{"tp", "zero", "micro_batch"};
        QTest::newRow("all") << false
                             << QStringList{"model", "world_size", "dp", "tp", "pp", "sp", "zero", "micro_batch",
                                            "seq", "precision", "grad_reduce", "order", "trainer", "host"};
    }

    void configDiff()
    {
        QFETCH(bool, onlyDifferences);
        QFETCH(QStringList, expected);
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        SyntheticRun a, b, c;
        a.runId = "a"; b.runId = "b"; c.runId = "c";
        b.zero = 3;
        c.microBatch = 8;
        c.tp = 1;
        b.tp = 1;
        a.tp = 2; // world_size follows tp in SyntheticRun, so it differs too ...
        a.steps = b.steps = c.steps = 3;
        ingestRun(store, a);
        ingestRun(store, b);
        ingestRun(store, c);
        // ... except that world_size comes from run_start, not the plan: make them equal.
        store.database().exec("UPDATE runs SET world_size = 2");
        ConfigDiff diff = store.configDiff({"a", "b", "c"}, onlyDifferences);
        QStringList options;
        for (const auto& row : diff.rows) options << QString::fromStdString(row.option);
        QCOMPARE(options, expected);
        for (const auto& row : diff.rows) {
            QCOMPARE(row.values.size(), size_t(3));
            if (row.option == "zero") QCOMPARE(row.values, (std::vector<std::string>{"1", "3", "1"}));
            if (row.option == "micro_batch") QCOMPARE(row.values, (std::vector<std::string>{"4", "4", "8"}));
            if (row.option == "sp") QCOMPARE(row.values, (std::vector<std::string>{"false", "false", "false"}));
            QCOMPARE(row.differs, row.option == "tp" || row.option == "zero" || row.option == "micro_batch");
        }
        QVERIFY_THROWS_EXCEPTION(RunStoreError, store.configDiff({"a", "zzz"}, true));
    }

    void configDiffFlattensTheTrainersNestedPlan()
    {
        // meshwork-train nests the model and the training options in its plan.
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        auto start = [&](const std::string& id, double lr, int layers) {
            const std::string line = "{\"v\":1,\"event\":\"run_start\",\"t\":0,\"run_id\":\"" + id
                + "\",\"plan\":{\"dp\":1,\"tp\":1,\"model\":{\"name\":\"tiny\",\"layers\":" + std::to_string(layers)
                + ",\"hidden\":64},\"training\":{\"lr\":" + formatJsonNumber(lr) + ",\"steps\":100,\"data\":\"synthetic\"}}}";
            Event e;
            QCOMPARE(EventReader::parseLine(line, &e), EventReader::LineKind::Event);
            store.ingest(id, e);
        };
        start("r1", 1e-3, 2);
        start("r2", 2e-3, 2);
        start("r3", 1e-3, 4);
        QCOMPARE(store.runById("r1")->model, std::string("tiny")); // the nested model's name
        ConfigDiff diff = store.configDiff({"r1", "r2", "r3"}, true);
        std::vector<std::string> options;
        for (const auto& row : diff.rows) options.push_back(row.option);
        QCOMPARE(options, (std::vector<std::string>{"model.layers", "training.lr"}));
        QCOMPARE(diff.rows[1].values, (std::vector<std::string>{"0.001", "0.002", "0.001"}));
        diff = store.configDiff({"r1", "r2"}, false);
        options.clear();
        for (const auto& row : diff.rows) options.push_back(row.option);
        // grad_reduce: a plan that does not name it reduced in fp32.
        QCOMPARE(options, (std::vector<std::string>{"model", "dp", "tp", "grad_reduce", "model.layers", "model.hidden",
                                                    "training.lr", "training.steps", "training.data"}));
    }

    void importIsIdempotent()
    {
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        SyntheticRun run;
        run.runId = "imported";
        run.steps = 40;
        const std::string file = writeFile(dir, "remote/imported/events.jsonl", run.text());

        ImportResult first = store.importEventsFile(file);
        QCOMPARE(first.runId, std::string("imported"));
        QCOMPARE(first.lines.skipped(), int64_t(0));
        QVERIFY(store.rename("imported", "kept name"));
        QVERIFY(store.setTags("imported", {"kept"}));
        auto counts = [&] {
            return std::make_pair(scalar(store, "SELECT count(*) FROM metrics"), scalar(store, "SELECT count(*) FROM events"));
        };
        const auto afterFirst = counts();
        const int64_t created = store.runById("imported")->created;
        ImportResult second = store.importEventsFile(file);
        QCOMPARE(second.events, first.events);
        QCOMPARE(counts(), afterFirst);
        QCOMPARE(afterFirst.first, int64_t(40 * 9 + 4)); // 9 series per step, 4 evals
        auto info = store.runById("imported");
        QCOMPARE(info->name, std::string("kept name"));
        QCOMPARE(info->tags, std::vector<std::string>{"kept"});
        QCOMPARE(info->created, created);
        QCOMPARE(info->status, RunStatus::Completed);
        QCOMPARE(store.series("imported", "loss").size(), size_t(40));

        // A file cut short (no run_end, a partial last line), named only by its folder.
        SyntheticRun cut;
        cut.runId = "";
        cut.steps = 10;
        cut.withEnd = false;
        std::vector<std::string> lines = cut.lines();
        lines.erase(lines.begin()); // no run_start either
        std::string text;
        for (const auto& l : lines) text += l + "\n";
        text += "{\"v\":1,\"ev";
        const std::string cutFile = writeFile(dir, "runs/folder-id/events.jsonl", text);
        ImportResult r = store.importEventsFile(cutFile);
        QCOMPARE(r.runId, std::string("folder-id"));
        QCOMPARE(r.lines.truncated, int64_t(1));
        QCOMPARE(store.runById("folder-id")->status, RunStatus::Interrupted);
        QCOMPARE(store.series("folder-id", "loss").size(), size_t(10));

        QVERIFY_THROWS_EXCEPTION(RunStoreError, store.importEventsFile(dir.filePath("missing.jsonl").toStdString()));
        const std::string junk = writeFile(dir, "junk.jsonl", "hello\nworld\n");
        QVERIFY_THROWS_EXCEPTION(RunStoreError, store.importEventsFile(junk));
    }

    void markInterrupted()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("runs.sqlite").toStdString();
        SyntheticRun live, dead, done;
        live.runId = "live"; dead.runId = "dead"; done.runId = "done";
        live.withEnd = dead.withEnd = false;
        live.steps = dead.steps = done.steps = 5;
        {
            RunStore store(path);
            ingestRun(store, live);
            ingestRun(store, dead);
            ingestRun(store, done);
            // "dead" was being written by a process that has since exited.
            QProcess p;
            p.start("cat", {});
            QVERIFY(p.waitForStarted(5000));
            const qint64 pid = p.processId();
            QVERIFY(pid > 0);
            p.closeWriteChannel();
            QVERIFY(p.waitForFinished(5000)); // exited and reaped: kill(pid, 0) fails
            store.database().exec("UPDATE runs SET ingest_pid = " + std::to_string(pid) + " WHERE id = 'dead'");
        }
        {
            RunStore store(path); // marks on open
            QCOMPARE(store.runById("live")->status, RunStatus::Running); // this process is alive
            QCOMPARE(store.runById("dead")->status, RunStatus::Interrupted);
            QCOMPARE(store.runById("done")->status, RunStatus::Completed);
            QCOMPARE(store.markInterrupted(), 0);
            QVERIFY(store.markInterrupted("live"));
            QVERIFY(!store.markInterrupted("live"));
            QVERIFY(!store.markInterrupted("done"));
            QCOMPARE(store.runById("live")->status, RunStatus::Interrupted);
        }
        {
            // Opening without the check leaves a stale run alone.
            RunStore store(path);
            store.database().exec("UPDATE runs SET status = 'running', ingest_pid = NULL WHERE id = 'live'");
        }
        RunStore::Options noCheck;
        noCheck.markInterruptedOnOpen = false;
        RunStore store(path, noCheck);
        QCOMPARE(store.runById("live")->status, RunStatus::Running);
        QCOMPARE(store.markInterrupted(), 1);
    }

    void hostWaitIsASeries()
    {
        // Trainers since 2026-11-27 write host_wait_ms in every step: stored as a series in
        // the known order, and its mean (warm-up step left out) in the summary.
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        SyntheticRun run;
        run.steps = 12;
        run.hostWaitMs = 0.25;
        ingestRun(store, run);
        const Series wait = store.series(run.runId, "host_wait_ms");
        QCOMPARE(wait.size(), size_t(12));
        QCOMPARE(wait.value.back(), 0.25);
        const std::vector<std::string> names = store.seriesNames(run.runId);
        const auto at = [&](const char* n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
        QVERIFY(at("host_wait_ms") == at("mem_peak_gib") + 1 && at("host_wait_ms") + 1 == at("val_loss"));
        QCOMPARE(store.summary(run.runId).meanHostWaitMs.value_or(-1), 0.25);
    }

    void exportCsv()
    {
        QTemporaryDir dir;
        RunStore store(dir.filePath("runs.sqlite").toStdString());
        SyntheticRun run;
        run.steps = 12;
        ingestRun(store, run);
        std::ostringstream out;
        store.exportSeriesCsv(run.runId, out);
        std::istringstream in(out.str());
        std::string line;
        std::getline(in, line);
        QCOMPARE(line, std::string("step,t,loss,lr,grad_norm,tokens,tokens_per_s,tflops,mfu,step_ms,mem_peak_gib,val_loss"));
        int rows = 0;
        while (std::getline(in, line)) {
            ++rows;
            const std::string prefix = std::to_string(rows) + "," + formatJsonNumber(0.5 * rows) + ","
                + formatJsonNumber(SyntheticRun::loss(rows)) + ",";
            QVERIFY2(line.rfind(prefix, 0) == 0, line.c_str());
            const bool hasEval = rows % 10 == 0;
            QCOMPARE(line.back() == ',', !hasEval); // empty val_loss cell where no eval ran
        }
        QCOMPARE(rows, 12);
        const std::string file = dir.filePath("out.csv").toStdString();
        store.exportSeriesCsv(run.runId, file);
        std::ifstream f(file);
        std::stringstream ss;
        ss << f.rdbuf();
        QCOMPARE(ss.str(), out.str());
        QVERIFY_THROWS_EXCEPTION(RunStoreError, store.exportSeriesCsv("nope", out));
    }

    void ingestorBatchesAndNeverCommitsInDestructor()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("runs.sqlite").toStdString();
        RunStore store(path);
        RunStore reader(path); // a second connection sees only committed rows
        SyntheticRun run;
        run.steps = 30;
        run.evalEvery = 0;
        const auto lines = run.lines();
        {
            Ingestor ingestor(store, "", Ingestor::Options{.maxRows = 45, .maxDelay = std::chrono::hours(1)});
            EventReader parse;
            int commits = 0;
            for (size_t i = 0; i < 11; ++i) // run_start and 10 steps: 1 + 90 rows
                for (const Event& e : parse.feed(lines[i] + "\n")) commits += ingestor.add(e) ? 1 : 0;
            QCOMPARE(commits, 2); // after 5 steps (46 rows) and after 10 (45 rows)
            QCOMPARE(ingestor.lastCommittedStep(), int64_t(10));
            QCOMPARE(reader.series(run.runId, "loss").size(), size_t(10));
            for (const Event& e : parse.feed(lines[11] + "\n")) ingestor.add(e);
            QCOMPARE(ingestor.pendingRows(), int64_t(9));
        } // destroyed without flush(): step 11 is rolled back, not committed
        QCOMPARE(reader.series(run.runId, "loss").size(), size_t(10));
        {
            Ingestor ingestor(store, run.runId, Ingestor::Options{.maxRows = 1000000, .maxDelay = std::chrono::milliseconds(0)});
            EventReader parse;
            for (const Event& e : parse.feed(lines[12] + "\n")) QVERIFY(ingestor.add(e)); // due at once
            QCOMPARE(reader.series(run.runId, "loss").size(), size_t(11));
        }
        {
            // A quiet stream is committed by the timer's flushIfDue() once maxDelay has passed.
            Ingestor ingestor(store, run.runId, Ingestor::Options{.maxRows = 1000000, .maxDelay = std::chrono::milliseconds(50)});
            EventReader parse;
            for (const Event& e : parse.feed(lines[13] + "\n")) ingestor.add(e);
            QTest::qWait(80);
            QVERIFY(ingestor.flushIfDue());
            QCOMPARE(ingestor.lastCommittedStep(), int64_t(13));
            QCOMPARE(reader.series(run.runId, "loss").size(), size_t(12));
            QVERIFY(!ingestor.flush()); // nothing pending
        }
    }
};

QTEST_GUILESS_MAIN(TestRunStore)
#include "test_run_store.moc"
