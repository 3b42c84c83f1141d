#include "core/runs/Schema.h"

#include "core/runs/RunStoreError.h"
#include "core/runs/Sqlite.h"

namespace meshwork {

namespace {

// Version 1: runs with their plan, the metric series, and every other event.
// metrics is WITHOUT ROWID with PRIMARY KEY (run_id, name, step): the table *is* the
// (run_id, name, step) index, so a series is one contiguous range scan and a resumed
// trainer re-emitting a step replaces the row instead of duplicating it.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'interrupted')),
  created INTEGER NOT NULL,
  host TEXT NOT NULL DEFAULT '',
  plan TEXT NOT NULL DEFAULT '{}',
  model TEXT NOT NULL DEFAULT '',
  trainer TEXT NOT NULL DEFAULT '',
  world_size INTEGER,
  dp INTEGER, tp INTEGER, pp INTEGER, vpp INTEGER, cp INTEGER, sp INTEGER, zero INTEGER,
  offload TEXT, offload_fraction REAL, recompute TEXT, micro_batch INTEGER, global_batch INTEGER,
  seq INTEGER, precision TEXT, optimizer TEXT, "order" TEXT
);
CREATE INDEX runs_by_created ON runs (created);
CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  t REAL NOT NULL,
  PRIMARY KEY (run_id, name, step)
) WITHOUT ROWID;
CREATE TABLE events (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  t REAL NOT NULL,
  type TEXT NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
)sql";

// Version 2: what users add (notes, tags), what the planner predicted, cached results for
// the run list (final/best loss, steps, wall time), and who is ingesting a running run
// (process id and host), so that a run left `running` by a dead process can be told apart.
// Tags get their own table: an exact, indexed tag filter instead of LIKE over a list.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pred_tokens_per_s REAL;
ALTER TABLE runs ADD COLUMN pred_tflops REAL;
ALTER TABLE runs ADD COLUMN pred_mem_gib REAL;
ALTER TABLE runs ADD COLUMN final_loss REAL;
ALTER TABLE runs ADD COLUMN best_loss REAL;
ALTER TABLE runs ADD COLUMN steps INTEGER;
ALTER TABLE runs ADD COLUMN wall_s REAL;
ALTER TABLE runs ADD COLUMN ingest_pid INTEGER;
ALTER TABLE runs ADD COLUMN ingest_host TEXT;
CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_tag ON run_tags (tag);
UPDATE runs SET
  final_loss = (SELECT value FROM metrics m WHERE m.run_id = runs.id AND m.name = 'loss' ORDER BY step DESC LIMIT 1),
  best_loss = (SELECT min(value) FROM metrics m WHERE m.run_id = runs.id AND m.name = 'loss'),
  steps = (SELECT max(step) FROM metrics m WHERE m.run_id = runs.id);
)sql";

// Version 3: every metric row carries the run's cumulative token count at its step (the
// step event's "tokens"), so that a series against tokens is one range scan instead of two
// merged ones: 1M loss points with their tokens load in about half the time (bench_runs).
// NULL where the row does not know it (rows written before version 3, validation points):
// readers then take the tokens series' value at that step, as before.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE metrics ADD COLUMN tokens REAL;
)sql";

// Version 4: the plan's grad_reduce (the type of the data-parallel gradient reduction, fp32 or
// bf16). A plan without it reduced in fp32 (Plan::fromJson's default: trainers before the option
// had no other); a plan that names bf16 (a newer trainer's run kept by an older build) says so.
// Rows without a plan (no run_start seen) stay NULL.
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE runs ADD COLUMN grad_reduce TEXT;
UPDATE runs SET grad_reduce = CASE WHEN instr(plan, '"grad_reduce":"bf16"') > 0 THEN 'bf16' ELSE 'fp32' END
  WHERE plan <> '{}';
)sql";

struct Migration {
    int version;
    const char* sql;
};

const std::vector<Migration>& migrations()
{
    static const std::vector<Migration> m = {{1, kSchemaV1}, {2, kSchemaV2}, {3, kSchemaV3}, {4, kSchemaV4}};
    return m;
}

} // namespace

int runStoreSchemaVersion()
{
    return migrations().back().version;
}

const char* runStoreSchemaV1Sql()
{
    return kSchemaV1;
}

void migrateRunStore(Database& db, const std::string& fileName)
{
    const int64_t current = db.pragmaInt("user_version");
    if (current > runStoreSchemaVersion())
        throw RunStoreError(fileName + " was written by a newer Meshwork (schema " + std::to_string(current)
                            + ", this build knows " + std::to_string(runStoreSchemaVersion())
                            + "): upgrade Meshwork or open another file");
    for (const Migration& m : migrations()) {
        if (m.version <= current) continue;
        Transaction tx(db);
        db.exec(m.sql);
        db.exec("PRAGMA user_version = " + std::to_string(m.version));
        tx.commit();
    }
}

const std::vector<ConfigColumn>& runConfigColumns()
{
    using K = ConfigColumn;
    static const std::vector<ConfigColumn> c = {
        {"dp", K::Integer}, {"tp", K::Integer}, {"pp", K::Integer}, {"vpp", K::Integer},
        {"cp", K::Integer}, {"sp", K::Boolean}, {"zero", K::Integer}, {"offload", K::Text},
        {"offload_fraction", K::Real}, {"recompute", K::Text}, {"micro_batch", K::Integer},
        {"global_batch", K::Integer}, {"seq", K::Integer}, {"precision", K::Text},
        {"grad_reduce", K::Text, "fp32"}, {"optimizer", K::Text}, {"order", K::Text},
    };
    return c;
}

} // namespace meshwork
