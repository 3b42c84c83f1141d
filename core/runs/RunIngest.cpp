// RunStore: mapping protocol events to rows, importing events.jsonl, interrupted runs.
#include "core/runs/RunStore.h"

#include "core/runs/ProcessInfo.h"
#include "core/runs/Schema.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace meshwork {

namespace {

// The fields of a step event that are series (DESIGN.md); other fields are ignored.
const std::vector<std::string>& stepSeriesNames()
{
    static const std::vector<std::string> names = {"loss", "lr", "grad_norm", "tokens", "tokens_per_s",
                                                   "tflops", "mfu", "step_ms", "mem_peak_gib", "host_wait_ms"};
    return names;
}

// "runs (..., dp, tp, ...) VALUES (...) ON CONFLICT (id) DO UPDATE ..." built once from the
// config column list, so a new plan option is one line in Schema.cpp.
const std::string& runStartSql()
{
    static const std::string sql = [] {
        std::string cols, values, updates;
        int index = 10;
        for (const ConfigColumn& c : runConfigColumns()) {
            const std::string quoted = std::string("\"") + c.name + "\"";
            cols += ", " + quoted;
            values += ", ?" + std::to_string(index++);
            updates += ", " + quoted + " = excluded." + quoted;
        }
        return "INSERT INTO runs (id, name, status, created, host, plan, model, trainer, world_size, ingest_pid, "
               "ingest_host" + cols + ") VALUES (?1, ?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9" + values
            + ") ON CONFLICT (id) DO UPDATE SET status = 'running', host = excluded.host, plan = excluded.plan, "
              "model = excluded.model, trainer = excluded.trainer, world_size = excluded.world_size, "
              "ingest_pid = excluded.ingest_pid, ingest_host = excluded.ingest_host" + updates;
    }();
    return sql;
}

void bindConfigValue(Statement& st, int index, const ConfigColumn& column, const Json* v)
{
    if (!v) { st.bindNull(index); return; }
    switch (column.kind) {
    case ConfigColumn::Integer:
        if (v->isNumber()) st.bind(index, static_cast<int64_t>(std::llround(v->asNumber())));
        else st.bindNull(index);
        break;
    case ConfigColumn::Real:
        if (v->isNumber()) st.bind(index, v->asNumber()); else st.bindNull(index);
        break;
    case ConfigColumn::Boolean:
        if (v->isBool()) st.bind(index, v->asBool() ? 1 : 0);
        else if (v->isNumber()) st.bind(index, v->asNumber() != 0 ? 1 : 0);
        else st.bindNull(index);
        break;
    case ConfigColumn::Text:
        if (v->isString()) st.bind(index, v->asString());
        else if (v->isNumber() || v->isBool()) st.bind(index, v->dump());
        else st.bindNull(index);
        break;
    }
}

// run_start's model: the plan's "model" (a CLI option), else a "model" field, which may be
// a name or a model object with a name.
std::string modelName(const Event& e, const Json& plan)
{
    for (const Json* m : {plan.find("model"), e.find("model")}) {
        if (!m) continue;
        if (m->isString()) return m->asString();
        if (const Json* name = m->find("name"); name && name->isString()) return name->asString();
    }
    return {};
}

std::string hostsText(const Event& e)
{
    const Json* hosts = e.find("hosts");
    if (!hosts) return e.string("host");
    if (hosts->isString()) return hosts->asString();
    std::string out;
    if (hosts->isArray())
        for (const Json& h : hosts->asArray())
            if (h.isString()) out += (out.empty() ? "" : ",") + h.asString();
    return out;
}

} // namespace

int RunStore::ingest(const std::string& runId, const Event& e)
{
    if (runId.empty()) throw RunStoreError("ingest: the event has no run to belong to (empty run id)");
    int rows = 0;
    if (e.type == "step") {
        ingestStep(runId, e, rows);
        if (rows > 0) return rows;
    } else if (e.type == "eval") {
        const auto step = e.number("step");
        const auto value = e.number("val_loss");
        if (step && value) {
            ensureRun(runId);
            m_db.cached("INSERT INTO metrics (run_id, step, name, value, t) VALUES (?1, ?2, 'val_loss', ?3, ?4) "
                        "ON CONFLICT (run_id, name, step) DO UPDATE SET value = excluded.value, t = excluded.t")
                .bind(1, runId).bind(2, std::llround(*step)).bind(3, *value).bind(4, e.t).run();
            return 1;
        }
    } else if (e.type == "run_start") {
        ingestRunStart(runId, e);
    } else if (e.type == "run_end") {
        ensureRun(runId);
        auto status = parseRunStatus(e.string("status"));
        if (!status || *status == RunStatus::Running) status = RunStatus::Failed; // ended, but not as it says
        m_db.cached("UPDATE runs SET status = ?2, steps = coalesce(?3, steps), wall_s = coalesce(?4, wall_s), "
                    "ingest_pid = NULL WHERE id = ?1")
            .bind(1, runId).bind(2, toString(*status)).bind(3, e.number("steps")).bind(4, e.number("wall_s")).run();
    }
    // Everything that is not a series point is kept whole, unknown event types included.
    insertEvent(runId, e);
    return rows + 1;
}

void RunStore::ingestStep(const std::string& runId, const Event& e, int& rows)
{
    const auto stepNumber = e.number("step");
    if (!stepNumber) return; // no step: kept as an event row by the caller
    const int64_t step = std::llround(*stepNumber);
    const auto loss = e.number("loss");

    // The cached figures of the run list, kept current per step (one primary-key update)
    // instead of recomputed from the series. It also tells whether the run row exists.
    auto updateRun = [&] {
        m_db.cached("UPDATE runs SET steps = max(coalesce(steps, ?2), ?2), final_loss = coalesce(?3, final_loss), "
                    "best_loss = CASE WHEN ?3 IS NULL THEN best_loss ELSE min(coalesce(best_loss, ?3), ?3) END "
                    "WHERE id = ?1")
            .bind(1, runId).bind(2, step).bind(3, loss).run();
        return m_db.changes() > 0;
    };
    if (!updateRun()) {
        ensureRun(runId); // joined the stream after run_start: keep the data anyway
        updateRun();
    }

    // A resumed trainer may repeat steps: the newer point wins. An upsert, not INSERT OR
    // REPLACE: REPLACE deletes and reinserts, measured 15-20% slower per point here.
    // Every row carries the step's token count (schema 3: one scan for a series by tokens);
    // NULL when the event has none, like the tokens series then has no point.
    Statement ins = m_db.cached("INSERT INTO metrics (run_id, step, name, value, t, tokens) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                                "ON CONFLICT (run_id, name, step) DO UPDATE SET value = excluded.value, t = excluded.t, "
                                "tokens = excluded.tokens");
    const auto tokens = e.number("tokens");
    ins.bind(1, runId).bind(2, step).bind(5, e.t);
    if (tokens && std::isfinite(*tokens)) ins.bind(6, *tokens); else ins.bindNull(6);
    for (const std::string& name : stepSeriesNames()) {
        const auto value = e.number(name);
        if (!value || !std::isfinite(*value)) continue;
        ins.bindStatic(3, name).bind(4, *value); // names are static: no copy per point
        ins.run();
        ins.reset();
        ++rows;
    }
}

void RunStore::ingestRunStart(const std::string& runId, const Event& e)
{
    const Json* planField = e.find("plan");
    const Json plan = planField && planField->isObject() ? *planField : Json::object();
    const auto created = e.number("created");
    Statement st = m_db.cached(runStartSql().c_str());
    st.bind(1, runId).bind(2, created ? std::llround(*created) : unixNow()).bind(3, hostsText(e));
    st.bind(4, plan.dump()).bind(5, modelName(e, plan)).bind(6, e.string("trainer"));
    const auto worldSize = e.number("world_size");
    if (worldSize) st.bind(7, std::llround(*worldSize)); else st.bindNull(7);
    st.bind(8, currentProcessId()).bind(9, currentHostName());
    int index = 10;
    for (const ConfigColumn& c : runConfigColumns()) {
        const Json* v = plan.find(c.name);
        if (!v && c.absent && plan.size() > 0) st.bind(index++, std::string(c.absent));
        else bindConfigValue(st, index++, c, v);
    }
    st.run();

    // Not in protocol v1's table: a launcher may add the planner's estimate to run_start
    // ("predicted": {"tokens_per_s", "tflops", "mem_gib"}); readers ignore what they lack.
    if (const Json* p = e.find("predicted"); p && p->isObject()) {
        auto num = [&](const char* k) -> std::optional<double> {
            const Json* v = p->find(k);
            return v && v->isNumber() ? std::optional<double>(v->asNumber()) : std::nullopt;
        };
        m_db.cached("UPDATE runs SET pred_tokens_per_s = coalesce(?2, pred_tokens_per_s), "
                    "pred_tflops = coalesce(?3, pred_tflops), pred_mem_gib = coalesce(?4, pred_mem_gib) WHERE id = ?1")
            .bind(1, runId).bind(2, num("tokens_per_s")).bind(3, num("tflops")).bind(4, num("mem_gib")).run();
    }
}

void RunStore::ensureRun(const std::string& runId)
{
    m_db.cached("INSERT OR IGNORE INTO runs (id, name, status, created, ingest_pid, ingest_host) "
                "VALUES (?1, ?1, 'running', ?2, ?3, ?4)")
        .bind(1, runId).bind(2, unixNow()).bind(3, currentProcessId()).bind(4, currentHostName()).run();
}

void RunStore::insertEvent(const std::string& runId, const Event& e)
{
    ensureRun(runId);
    auto it = m_nextSeq.find(runId);
    if (it == m_nextSeq.end()) {
        Statement st = m_db.cached("SELECT coalesce(max(seq), 0) + 1 FROM events WHERE run_id = ?1");
        st.bind(1, runId).step();
        it = m_nextSeq.emplace(runId, st.int64(0)).first;
    }
    m_db.cached("INSERT INTO events (run_id, seq, t, type, json) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, runId).bind(2, it->second).bind(3, e.t).bind(4, e.type).bind(5, e.fields.dump()).run();
    ++it->second;
}

int RunStore::markInterrupted()
{
    const std::string host = currentHostName();
    std::vector<std::string> stale;
    {
        Statement st = m_db.cached("SELECT id, ingest_pid, ingest_host FROM runs WHERE status = 'running'");
        while (st.step()) {
            const auto pid = st.optInt64(1);
            // A run recorded from another host (a database on a shared disk) is left alone:
            // its writer cannot be checked from here.
            if (!pid || (st.text(2) == host && !processAlive(*pid))) stale.push_back(st.text(0));
        }
    }
    int marked = 0;
    for (const std::string& id : stale) marked += markInterrupted(id) ? 1 : 0;
    return marked;
}

bool RunStore::markInterrupted(const std::string& runId)
{
    m_db.cached("UPDATE runs SET status = 'interrupted', ingest_pid = NULL WHERE id = ?1 AND status = 'running'")
        .bind(1, runId).run();
    return m_db.changes() > 0;
}

void RunStore::clearRunData(const std::string& runId)
{
    m_db.cached("DELETE FROM metrics WHERE run_id = ?1").bind(1, runId).run();
    m_db.cached("DELETE FROM events WHERE run_id = ?1").bind(1, runId).run();
    m_db.cached("UPDATE runs SET final_loss = NULL, best_loss = NULL, steps = NULL, wall_s = NULL WHERE id = ?1")
        .bind(1, runId).run();
    m_nextSeq.erase(runId);
}

ImportResult RunStore::importEventsFile(const std::string& path)
{
    namespace fs = std::filesystem;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw RunStoreError("cannot read " + path + ": " + std::strerror(errno) + "; check the path");
    const fs::path p(path);
    // ~/.meshwork/runs/<run-id>/events.jsonl names its run by its folder.
    const std::string fallbackId = p.filename() == "events.jsonl" && p.has_parent_path()
        ? fs::absolute(p).parent_path().filename().string()
        : p.stem().string();

    ImportResult result;
    EventReader reader;
    bool existed = false, sawEnd = false, hasCreated = false;
    double lastT = 0;
    Transaction tx(m_db);
    auto sink = [&](Event&& e) {
        if (result.runId.empty()) {
            const std::string id = e.type == "run_start" ? e.string("run_id") : std::string();
            result.runId = id.empty() ? fallbackId : id;
            existed = runById(result.runId).has_value();
            if (existed) clearRunData(result.runId); // re-import replaces: idempotent
        }
        if (e.type == "run_end") sawEnd = true;
        if (e.type == "run_start" && e.number("created")) hasCreated = true;
        lastT = std::max(lastT, e.t);
        ingest(result.runId, e);
        ++result.events;
    };
    std::string buffer(1 << 20, '\0');
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        reader.feed(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())), sink);
    }
    reader.finish(sink);
    result.lines = reader.stats();
    result.warnings = reader.warnings();
    if (result.runId.empty())
        throw RunStoreError(path + ": no events found (" + std::to_string(reader.stats().skipped())
                            + " lines skipped): is this a Meshwork events.jsonl?");

    // Nobody is writing this run: one that never ended was cut short.
    if (!sawEnd) markInterrupted(result.runId);
    m_db.cached("UPDATE runs SET ingest_pid = NULL, ingest_host = NULL WHERE id = ?1").bind(1, result.runId).run();
    if (!existed && !hasCreated) {
        // The run began lastT seconds before the file was last written.
        std::error_code ec;
        const auto mtime = fs::last_write_time(p, ec);
        if (!ec) {
            const auto sys = std::chrono::file_clock::to_sys(mtime);
            const int64_t end = std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count();
            m_db.cached("UPDATE runs SET created = ?2 WHERE id = ?1")
                .bind(1, result.runId).bind(2, end - std::llround(lastT)).run();
        }
    }
    tx.commit();
    return result;
}

} // namespace meshwork
