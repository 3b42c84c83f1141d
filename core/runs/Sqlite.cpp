#include "core/runs/Sqlite.h"

#include <sqlite3.h>

namespace meshwork {

namespace {

// The statement text as the "call" of an error: enough to recognise it, not a page of SQL.
std::string callName(std::string_view sql)
{
    std::string s;
    for (char c : sql.substr(0, 96)) s += (c == '\n' || c == '\t') ? ' ' : c;
    if (sql.size() > 96) s += "...";
    return s;
}

} // namespace

void SqliteCloser::operator()(sqlite3* db) const noexcept
{
    sqlite3_close_v2(db); // _v2: deferred until stray statements are finalised
}

void SqliteFinalizer::operator()(sqlite3_stmt* stmt) const noexcept
{
    sqlite3_finalize(stmt);
}

// ---- Statement ----

Statement::Statement(Database& db, sqlite3_stmt* borrowed, std::string_view sql)
    : m_db(&db), m_stmt(borrowed), m_sql(sql)
{
}

Statement::Statement(Database& db, SqliteStatementHandle owned, std::string_view sql)
    : m_db(&db), m_stmt(owned.get()), m_owned(std::move(owned)), m_sql(sql)
{
}

Statement::Statement(Statement&& other) noexcept
    : m_db(other.m_db), m_stmt(other.m_stmt), m_owned(std::move(other.m_owned)), m_sql(other.m_sql)
{
    other.m_stmt = nullptr;
}

Statement::~Statement()
{
    if (m_stmt && !m_owned) {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
}

void Statement::checkBind(int rc, int index)
{
    if (rc != SQLITE_OK) m_db->fail("binding parameter " + std::to_string(index) + " of " + callName(m_sql), rc);
}

Statement& Statement::bindInt64(int index, int64_t v)
{
    checkBind(sqlite3_bind_int64(m_stmt, index, v), index);
    return *this;
}

Statement& Statement::bind(int index, double v)
{
    checkBind(sqlite3_bind_double(m_stmt, index, v), index);
    return *this;
}

Statement& Statement::bind(int index, std::string_view v)
{
    checkBind(sqlite3_bind_text64(m_stmt, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
    return *this;
}

Statement& Statement::bindStatic(int index, std::string_view v)
{
    checkBind(sqlite3_bind_text64(m_stmt, index, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8), index);
    return *this;
}

Statement& Statement::bindNull(int index)
{
    checkBind(sqlite3_bind_null(m_stmt, index), index);
    return *this;
}

bool Statement::step(std::source_location where)
{
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(m_stmt); // keeps the statement usable after a constraint failure
    m_db->fail(callName(m_sql), rc, where);
}

void Statement::run(std::source_location where)
{
    while (step(where)) {
    }
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
}

bool Statement::isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
int64_t Statement::int64(int column) const { return sqlite3_column_int64(m_stmt, column); }
double Statement::real(int column) const { return sqlite3_column_double(m_stmt, column); }

std::string Statement::text(int column) const
{
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, column));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, column))) : std::string();
}

std::optional<double> Statement::optReal(int column) const
{
    return isNull(column) ? std::nullopt : std::optional<double>(real(column));
}

std::optional<int64_t> Statement::optInt64(int column) const
{
    return isNull(column) ? std::nullopt : std::optional<int64_t>(int64(column));
}

// ---- Database ----

Database::Database(const std::string& path, bool create) : m_path(path)
{
    sqlite3* raw = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    m_db.reset(raw); // owned even on failure: sqlite3_open_v2 may allocate a handle anyway
    if (rc != SQLITE_OK) fail("sqlite3_open_v2", rc);
    sqlite3_extended_result_codes(raw, 1);
}

Database::~Database()
{
    m_cache.clear(); // finalise statements before the connection closes
}

void Database::fail(std::string_view call, int rc, std::source_location where) const
{
    std::string message = m_db ? sqlite3_errmsg(m_db.get()) : sqlite3_errstr(rc);
    throw RunStoreError(std::string(call), rc, std::move(message), m_path, where);
}

void Database::exec(std::string_view sql, std::source_location where)
{
    const std::string text(sql);
    const int rc = sqlite3_exec(m_db.get(), text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(callName(sql), rc, where);
}

Statement Database::cached(const char* sql, std::source_location where)
{
    auto it = m_cache.find(sql);
    if (it == m_cache.end()) {
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v3(m_db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
        SqliteStatementHandle handle(raw);
        if (rc != SQLITE_OK) fail(callName(sql), rc, where);
        it = m_cache.emplace(sql, std::move(handle)).first;
    }
    return Statement(*this, it->second.get(), sql);
}

Statement Database::prepare(std::string_view sql, std::source_location where)
{
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v2(m_db.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    SqliteStatementHandle handle(raw);
    if (rc != SQLITE_OK) fail(callName(sql), rc, where);
    return Statement(*this, std::move(handle), sql);
}

int64_t Database::pragmaInt(const char* name)
{
    Statement st = prepare(std::string("PRAGMA ") + name);
    return st.step() ? st.int64(0) : 0;
}

int Database::changes() const { return sqlite3_changes(m_db.get()); }
bool Database::inTransaction() const { return sqlite3_get_autocommit(m_db.get()) == 0; }

// ---- Transaction ----

Transaction::Transaction(Database& db, std::source_location where) : m_db(db)
{
    if (db.inTransaction()) {
        m_savepoint = db.newSavepointName();
        db.exec("SAVEPOINT " + m_savepoint, where);
    } else {
        // IMMEDIATE takes the write lock now, so a busy database waits here (busy_timeout)
        // rather than failing half-way through with SQLITE_BUSY on the first write.
        db.exec("BEGIN IMMEDIATE", where);
    }
    m_active = true;
}

Transaction::~Transaction()
{
    rollback();
}

void Transaction::commit(std::source_location where)
{
    if (!m_active) throw RunStoreError("Transaction::commit: the transaction is no longer active", where);
    m_db.exec(m_savepoint.empty() ? std::string("COMMIT") : "RELEASE " + m_savepoint, where);
    m_active = false;
}

void Transaction::rollback() noexcept
{
    if (!m_active) return;
    m_active = false;
    // Errors are ignored: SQLite may already have rolled back (e.g. after SQLITE_FULL).
    if (m_savepoint.empty()) {
        sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    } else {
        const std::string sql = "ROLLBACK TO " + m_savepoint + "; RELEASE " + m_savepoint;
        sqlite3_exec(m_db.handle(), sql.c_str(), nullptr, nullptr, nullptr);
    }
}

} // namespace meshwork
