// RunStore: opening, the run records, editing and listing. Ingest lives in RunIngest.cpp,
// series and comparisons in RunQueries.cpp.
#include "core/runs/RunStore.h"

#include "core/runs/ProcessInfo.h"
#include "core/runs/Schema.h"

#include <filesystem>
#include <system_error>

namespace meshwork {

namespace {

// Creates the folder of a new database file before SQLite is asked to create the file.
std::string preparePath(const std::string& path, bool create)
{
    namespace fs = std::filesystem;
    if (path.empty()) throw RunStoreError("no run database given: pass a file path (e.g. --db runs.sqlite)");
    const fs::path folder = fs::path(path).parent_path();
    if (!folder.empty()) {
        std::error_code ec;
        if (create) fs::create_directories(folder, ec);
        if (!fs::is_directory(folder))
            throw RunStoreError("cannot use " + path + ": its folder " + folder.string() + " does not exist"
                                + (ec ? " and could not be created (" + ec.message() + ")" : std::string())
                                + "; create it or choose another path");
    }
    if (!create && !fs::exists(path))
        throw RunStoreError(path + " does not exist: check the path, or let Meshwork create it");
    return path;
}

// LIKE pattern matching `text` anywhere, with LIKE's wildcards in it taken literally.
std::string containsPattern(const std::string& text)
{
    std::string p = "%";
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') p += '\\';
        p += c;
    }
    return p + "%";
}

constexpr const char* kRunColumns =
    "SELECT id, name, status, created, host, model, trainer, world_size, plan, notes, pred_tokens_per_s, "
    "pred_tflops, pred_mem_gib, final_loss, best_loss, steps, wall_s FROM runs ";

RunInfo readRun(const Statement& st)
{
    RunInfo r;
    r.id = st.text(0);
    r.name = st.text(1);
    r.status = parseRunStatus(st.text(2)).value_or(RunStatus::Failed);
    r.created = st.int64(3);
    r.host = st.text(4);
    r.model = st.text(5);
    r.trainer = st.text(6);
    r.worldSize = st.optInt64(7);
    if (auto plan = Json::parse(st.text(8)); plan && plan->isObject()) r.plan = std::move(*plan);
    r.notes = st.text(9);
    r.predicted.tokensPerS = st.optReal(10);
    r.predicted.tflops = st.optReal(11);
    r.predicted.memGib = st.optReal(12);
    r.finalLoss = st.optReal(13);
    r.bestLoss = st.optReal(14);
    r.steps = st.optInt64(15);
    r.wallS = st.optReal(16);
    return r;
}

} // namespace

RunStore::RunStore(const std::string& path, Options options)
    : m_db(preparePath(path, options.create), options.create)
    , m_fileName(std::filesystem::path(path).filename().string())
{
    // A writer holding the lock (another Meshwork, a CLI import) is waited for, not failed.
    m_db.exec("PRAGMA busy_timeout = 5000");
    // Refuse a newer file before anything below could change it (journal mode is persistent).
    if (m_db.pragmaInt("user_version") > runStoreSchemaVersion()) migrateRunStore(m_db, m_fileName);
    // WAL: readers (charts) never block the ingesting writer. synchronous=NORMAL in WAL mode
    // keeps every committed transaction through a killed process (the WAL is written before
    // COMMIT returns); only a power cut may lose the last commits, never corrupt the file.
    m_db.exec("PRAGMA journal_mode = WAL");
    m_db.exec("PRAGMA synchronous = NORMAL");
    m_db.exec("PRAGMA foreign_keys = ON");
    m_db.exec("PRAGMA cache_size = -65536"); // 64 MiB: a long run's series stays in memory
    // Pages read through a memory map instead of copied into the page cache by read(): a
    // 1M-point series loads about 10% faster (bench_runs). Address space only, not memory.
    m_db.exec("PRAGMA mmap_size = 268435456");
    migrateRunStore(m_db, m_fileName);
    if (options.markInterruptedOnOpen) markInterrupted();
}

RunStore::~RunStore() = default;

int RunStore::schemaVersion()
{
    return runStoreSchemaVersion();
}

void RunStore::createRun(const RunInfo& run)
{
    if (run.id.empty()) throw RunStoreError("createRun: the run needs an id");
    Transaction tx(m_db);
    Statement st = m_db.cached(
        "INSERT INTO runs (id, name, status, created, host, model, trainer, world_size, plan, notes, "
        "pred_tokens_per_s, pred_tflops, pred_mem_gib, ingest_pid, ingest_host) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
    st.bind(1, run.id).bind(2, run.name.empty() ? run.id : run.name).bind(3, toString(run.status));
    st.bind(4, run.created > 0 ? run.created : unixNow()).bind(5, run.host).bind(6, run.model);
    st.bind(7, run.trainer).bind(8, run.worldSize).bind(9, run.plan.isObject() ? run.plan.dump() : "{}");
    st.bind(10, run.notes).bind(11, run.predicted.tokensPerS).bind(12, run.predicted.tflops);
    st.bind(13, run.predicted.memGib).bind(14, currentProcessId()).bind(15, currentHostName());
    st.run();
    setTags(run.id, run.tags);
    tx.commit();
}

bool RunStore::rename(const std::string& runId, const std::string& name)
{
    if (name.empty()) throw RunStoreError("a run's name cannot be empty: give a name, or use its id");
    m_db.cached("UPDATE runs SET name = ?2 WHERE id = ?1").bind(1, runId).bind(2, name).run();
    return m_db.changes() > 0;
}

bool RunStore::setNotes(const std::string& runId, const std::string& notes)
{
    m_db.cached("UPDATE runs SET notes = ?2 WHERE id = ?1").bind(1, runId).bind(2, notes).run();
    return m_db.changes() > 0;
}

bool RunStore::setTags(const std::string& runId, const std::vector<std::string>& tags)
{
    Transaction tx(m_db);
    {
        Statement exists = m_db.cached("SELECT 1 FROM runs WHERE id = ?1");
        if (!exists.bind(1, runId).step()) return false;
    }
    m_db.cached("DELETE FROM run_tags WHERE run_id = ?1").bind(1, runId).run();
    Statement ins = m_db.cached("INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?1, ?2)");
    ins.bind(1, runId);
    for (const std::string& tag : tags) {
        if (tag.empty()) continue;
        ins.bind(2, tag).run();
        ins.reset();
    }
    tx.commit();
    return true;
}

bool RunStore::deleteRun(const std::string& runId)
{
    // ON DELETE CASCADE removes its metrics, events and tags (foreign_keys is on).
    m_db.cached("DELETE FROM runs WHERE id = ?1").bind(1, runId).run();
    m_nextSeq.erase(runId);
    return m_db.changes() > 0;
}

std::vector<std::string> RunStore::tagsOf(const std::string& runId)
{
    std::vector<std::string> tags;
    Statement st = m_db.cached("SELECT tag FROM run_tags WHERE run_id = ?1 ORDER BY tag");
    st.bind(1, runId);
    while (st.step()) tags.push_back(st.text(0));
    return tags;
}

std::vector<RunInfo> RunStore::listRuns(const RunFilter& filter)
{
    static const std::string sql = std::string(kRunColumns)
        + "WHERE (?1 = '' OR id LIKE ?2 ESCAPE '\\' OR name LIKE ?2 ESCAPE '\\' OR model LIKE ?2 ESCAPE '\\' "
          "OR notes LIKE ?2 ESCAPE '\\' "
          "OR EXISTS (SELECT 1 FROM run_tags g WHERE g.run_id = runs.id AND g.tag LIKE ?2 ESCAPE '\\')) "
          "AND (?3 IS NULL OR status = ?3) "
          "AND (?4 = '' OR EXISTS (SELECT 1 FROM run_tags g WHERE g.run_id = runs.id AND g.tag = ?4)) "
          "ORDER BY created DESC, id";
    std::vector<RunInfo> runs;
    {
        Statement st = m_db.cached(sql.c_str());
        st.bind(1, filter.text).bind(2, containsPattern(filter.text));
        if (filter.status) st.bind(3, toString(*filter.status)); else st.bindNull(3);
        st.bind(4, filter.tag);
        while (st.step()) runs.push_back(readRun(st));
    }
    for (RunInfo& r : runs) r.tags = tagsOf(r.id);
    return runs;
}

std::optional<RunInfo> RunStore::runById(const std::string& runId)
{
    static const std::string sql = std::string(kRunColumns) + "WHERE id = ?1";
    std::optional<RunInfo> run;
    {
        Statement st = m_db.cached(sql.c_str());
        st.bind(1, runId);
        if (st.step()) run = readRun(st);
    }
    if (run) run->tags = tagsOf(run->id);
    return run;
}

std::vector<std::string> RunStore::runIdsMatching(const std::string& prefix)
{
    std::vector<std::string> ids;
    Statement exact = m_db.cached("SELECT id FROM runs WHERE id = ?1");
    if (exact.bind(1, prefix).step()) return {prefix};
    // The range [prefix, prefix + U+10FFFF) holds exactly the ids that start with prefix,
    // and uses the primary key (LIKE would not, and would need escaping).
    Statement st = m_db.cached("SELECT id FROM runs WHERE id >= ?1 AND id < ?2 ORDER BY id");
    st.bind(1, prefix).bind(2, prefix + "\xF4\x8F\xBF\xBF");
    while (st.step()) ids.push_back(st.text(0));
    return ids;
}

std::vector<StoredEvent> RunStore::events(const std::string& runId)
{
    std::vector<StoredEvent> out;
    Statement st = m_db.cached("SELECT seq, t, type, json FROM events WHERE run_id = ?1 ORDER BY seq");
    st.bind(1, runId);
    while (st.step()) out.push_back({st.int64(0), st.real(1), st.text(2), st.text(3)});
    return out;
}

void RunStore::setPredicted(const std::string& runId, const Prediction& p)
{
    m_db.cached("UPDATE runs SET pred_tokens_per_s = ?2, pred_tflops = ?3, pred_mem_gib = ?4 WHERE id = ?1")
        .bind(1, runId).bind(2, p.tokensPerS).bind(3, p.tflops).bind(4, p.memGib).run();
    if (m_db.changes() == 0) throw RunStoreError("setPredicted: no run \"" + runId + "\" in " + m_fileName);
}

} // namespace meshwork
