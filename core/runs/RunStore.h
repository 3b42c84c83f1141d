// Every training run, kept in SQLite (DESIGN.md: core/runs): runs with their plan and
// predicted figures, metric series, and the other events. One RunStore is one connection:
// use it from one thread (open another RunStore on the same file for another thread).
#pragma once

#include "core/events/EventReader.h"
#include "core/runs/RunTypes.h"
#include "core/runs/Sqlite.h"

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace meshwork {

struct Event;

// $XDG_DATA_HOME/meshwork/runs.sqlite, else ~/.local/share/meshwork/runs.sqlite (XDG Base
// Directory spec: a relative XDG_DATA_HOME is invalid and ignored).
std::string defaultRunStorePath();

struct ImportResult {
    std::string runId;
    int64_t events = 0;       // events stored (as metric rows or event rows)
    EventReaderStats lines;   // what the reader skipped, and why
    std::vector<std::string> warnings;
};

class RunStore {
public:
    struct Options {
        bool create = true;                 // create the file (and its folder) when missing
        bool markInterruptedOnOpen = true;  // see markInterrupted()
    };

    // Opens or creates the database, migrates it, and refuses (RunStoreError) a file written
    // by a newer Meshwork without changing it.
    explicit RunStore(const std::string& path, Options options);
    explicit RunStore(const std::string& path) : RunStore(path, Options{}) {}
    ~RunStore();

    static int schemaVersion();
    const std::string& path() const { return m_db.path(); }
    Database& database() { return m_db; }

    // ---- writing ----
    // A new run record (status running, owned by this process). Throws if the id exists.
    void createRun(const RunInfo& run);
    // Maps one event of `runId`'s stream to rows: step -> metric rows, eval -> val_loss,
    // run_start -> the run's plan and config columns, run_end -> status; the rest (log,
    // error, checkpoint, run_start, run_end, unknown types) -> an events row. Writes inside
    // the caller's transaction if one is open (see Ingestor), else autocommits.
    // Returns the number of rows written.
    int ingest(const std::string& runId, const Event& event);
    // Runs left `running` whose ingesting process is gone (it was on this host and is no
    // longer alive, or none is recorded) become `interrupted`. Returns how many.
    int markInterrupted();
    // One run, whatever its state of health; false when no such run is running.
    bool markInterrupted(const std::string& runId);
    // Reads an events.jsonl and stores its run, replacing that run's series and events if it
    // was there (name, tags and notes are kept): importing twice gives the same rows.
    // The run id is run_start's, else the file's folder name (~/.meshwork/runs/<id>/).
    ImportResult importEventsFile(const std::string& path);
    void setPredicted(const std::string& runId, const Prediction& p);

    // ---- editing ----  (false: no such run)
    bool rename(const std::string& runId, const std::string& name);
    bool setTags(const std::string& runId, const std::vector<std::string>& tags);
    bool setNotes(const std::string& runId, const std::string& notes);
    bool deleteRun(const std::string& runId); // its series, events and tags go with it

    // ---- reading ----
    std::vector<RunInfo> listRuns(const RunFilter& filter = {}); // newest first
    std::optional<RunInfo> runById(const std::string& runId);
    // Ids equal to or starting with `prefix` (the CLI accepts unique prefixes).
    std::vector<std::string> runIdsMatching(const std::string& prefix);
    // Series::tokens holds the token count each point came with (schema 3), else the tokens
    // series' value at that step, else NaN. withTokens = false leaves it empty (a chart of
    // the value against the step needs no tokens).
    Series series(const std::string& runId, const std::string& name, bool withTokens = true);
    std::vector<std::string> seriesNames(const std::string& runId); // known ones first
    std::vector<StoredEvent> events(const std::string& runId);
    RunSummary summary(const std::string& runId);
    // Throws RunStoreError naming an unknown id.
    ConfigDiff configDiff(const std::vector<std::string>& runIds, bool onlyDifferences);
    // One row per step: step, t, then one column per series (empty where not recorded).
    void exportSeriesCsv(const std::string& runId, std::ostream& out);
    void exportSeriesCsv(const std::string& runId, const std::string& file);

private:
    void ingestStep(const std::string& runId, const Event& e, int& rows);
    void ingestRunStart(const std::string& runId, const Event& e);
    void ensureRun(const std::string& runId);
    void insertEvent(const std::string& runId, const Event& e);
    void clearRunData(const std::string& runId);
    std::vector<std::string> tagsOf(const std::string& runId);

    Database m_db;
    std::string m_fileName;                            // for messages: "runs.sqlite"
    std::unordered_map<std::string, int64_t> m_nextSeq; // next events.seq per run
};

} // namespace meshwork
