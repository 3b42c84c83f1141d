// A thin RAII layer over the sqlite3 C API (ggml-cpp.h style: unique_ptr with a deleter),
// with the habits of SQLiteCpp and Chromium sql/: cached prepared statements, and a
// Transaction that rolls back unless commit() is called. One Database per thread.
#pragma once

#include "core/runs/RunStoreError.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace meshwork {

struct SqliteCloser { void operator()(sqlite3* db) const noexcept; };
struct SqliteFinalizer { void operator()(sqlite3_stmt* stmt) const noexcept; };
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStatementHandle = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

class Database;

// A prepared statement in use. Borrowed from the Database's cache (or owning a one-off
// handle); on destruction it is reset and its bindings cleared, ready for the next user.
// Indices are 1-based for bind() (SQLite's convention) and 0-based for columns.
class Statement {
public:
    Statement(Database& db, sqlite3_stmt* borrowed, std::string_view sql);
    Statement(Database& db, SqliteStatementHandle owned, std::string_view sql);
    Statement(Statement&&) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    template <typename T>
        requires std::is_integral_v<T>
    Statement& bind(int index, T v) { return bindInt64(index, static_cast<int64_t>(v)); }
    Statement& bind(int index, double v);
    Statement& bind(int index, std::string_view v);
    Statement& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
    Statement& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
    Statement& bindNull(int index);
    // Text that outlives every step of this statement (a static name): bound without a copy.
    Statement& bindStatic(int index, std::string_view v);
    template <typename T>
    Statement& bind(int index, const std::optional<T>& v) { return v ? bind(index, *v) : bindNull(index); }

    // Advances: true while there is a row to read, false when done. Throws on failure.
    bool step(std::source_location where = std::source_location::current());
    // Runs to completion (INSERT, UPDATE, DELETE).
    void run(std::source_location where = std::source_location::current());
    // Ready to step again; bindings are kept (rebind only what changes).
    void reset();

    bool isNull(int column) const;
    int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    std::optional<double> optReal(int column) const;
    std::optional<int64_t> optInt64(int column) const;

private:
    Statement& bindInt64(int index, int64_t v);
    void checkBind(int rc, int index);

    Database* m_db;
    sqlite3_stmt* m_stmt;
    SqliteStatementHandle m_owned;
    std::string_view m_sql;
};

class Database {
public:
    // Opens (and with create, creates) the file. Throws RunStoreError.
    Database(const std::string& path, bool create);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs one or more statements that return no rows.
    void exec(std::string_view sql, std::source_location where = std::source_location::current());
    // A statement from the cache, prepared the first time this text is seen. The text must
    // outlive the Database (use string literals); that keeps the hot path free of copies.
    Statement cached(const char* sql, std::source_location where = std::source_location::current());
    // A one-off statement (dynamic SQL), finalised when the Statement goes.
    Statement prepare(std::string_view sql, std::source_location where = std::source_location::current());

    int64_t pragmaInt(const char* name);
    int changes() const;
    bool inTransaction() const;
    const std::string& path() const { return m_path; }
    std::string newSavepointName() { return "meshwork_sp" + std::to_string(++m_savepoints); }
    sqlite3* handle() const { return m_db.get(); }

    // Throws RunStoreError for a failed call, naming it and SQLite's message.
    [[noreturn]] void fail(std::string_view call, int rc,
                           std::source_location where = std::source_location::current()) const;

private:
    std::string m_path;
    SqliteHandle m_db;
    int64_t m_savepoints = 0;
    std::unordered_map<const char*, SqliteStatementHandle> m_cache; // keyed by the literal's address
};

// BEGIN IMMEDIATE ... COMMIT, or inside an open transaction a SAVEPOINT, so that store
// operations nest inside an Ingestor's batch. The destructor rolls back whatever was not
// committed and never commits (a destructor cannot report a failed COMMIT).
class Transaction {
public:
    explicit Transaction(Database& db, std::source_location where = std::source_location::current());
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit(std::source_location where = std::source_location::current());
    void rollback() noexcept;
    bool active() const { return m_active; }

private:
    Database& m_db;
    std::string m_savepoint; // empty for a top-level transaction
    bool m_active = false;
};

} // namespace meshwork
