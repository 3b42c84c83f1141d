#include "core/runs/RunStoreError.h"

#include <sqlite3.h>

namespace meshwork {

namespace {

// __FILE__ is absolute; from the repository root it reads better in a bug report.
std::string sourcePath(const char* file)
{
    std::string f = file;
    for (const char* root : {"/core/", "/app/", "/tests/"}) {
        if (auto pos = f.rfind(root); pos != std::string::npos) return f.substr(pos + 1);
    }
    return f;
}

std::string describe(const std::string& call, int code, const std::string& message, const std::string& database,
                     const std::source_location& where)
{
    std::string s = database.empty() ? std::string() : database + ": ";
    s += call + " failed: " + message;
    s += " (" + std::string(sqlite3_errstr(code)) + ", code " + std::to_string(code) + ") at ";
    s += sourcePath(where.file_name()) + ":" + std::to_string(where.line());
    return s;
}

} // namespace

RunStoreError::RunStoreError(const std::string& message, std::source_location where)
    : std::runtime_error(message), m_file(sourcePath(where.file_name())), m_line(static_cast<int>(where.line()))
{
}

RunStoreError::RunStoreError(std::string call, int sqliteCode, std::string sqliteMessage, const std::string& database,
                             std::source_location where)
    : std::runtime_error(describe(call, sqliteCode, sqliteMessage, database, where))
    , m_call(std::move(call))
    , m_code(sqliteCode)
    , m_sqliteMessage(std::move(sqliteMessage))
    , m_file(sourcePath(where.file_name()))
    , m_line(static_cast<int>(where.line()))
{
}

} // namespace meshwork
