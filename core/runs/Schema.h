// The run database schema and its migrations (Chromium meta_table habits): an ordered list,
// each step in its own transaction that also sets PRAGMA user_version; a file newer than
// this build is refused, never modified.
#pragma once

#include <string>
#include <vector>

namespace meshwork {

class Database;

// The schema version this build writes (the last migration).
int runStoreSchemaVersion();

// Migrates `db` (named `fileName` in messages) from its user_version up to
// runStoreSchemaVersion(). Throws RunStoreError, without touching the file, when its
// version is newer than this build knows.
void migrateRunStore(Database& db, const std::string& fileName);

// The SQL of migration 1 exactly as shipped: tests build a version-1 file with it.
const char* runStoreSchemaV1Sql();

// The plan options kept as columns of `runs` (the CLI flag names with '_' for '-'),
// in the order the CLI lists them, for filtering and side-by-side comparison.
struct ConfigColumn {
    const char* name;
    enum Kind { Integer, Real, Text, Boolean } kind;
    // For an option added after runs were recorded: what a plan without the key means
    // (Plan::fromJson's default), stored and compared for such plans. Null: nothing.
    const char* absent = nullptr;
};
const std::vector<ConfigColumn>& runConfigColumns();

} // namespace meshwork
