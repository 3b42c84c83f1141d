// The error every run-store failure becomes: the SQLite call, SQLite's own message and
// result code, and where in our code it happened. Library code never exits (CONVENTIONS.md):
// the GUI and the CLI catch this at their boundary and show what() to the user.
#pragma once

#include <source_location>
#include <stdexcept>
#include <string>

namespace meshwork {

class RunStoreError : public std::runtime_error {
public:
    // A problem that is not a failed SQLite call (a newer schema, an unknown run).
    explicit RunStoreError(const std::string& message,
                           std::source_location where = std::source_location::current());
    // A failed SQLite call: `call` is what we asked ("sqlite3_open_v2", "INSERT INTO metrics..."),
    // `database` the file it was asked of.
    RunStoreError(std::string call, int sqliteCode, std::string sqliteMessage, const std::string& database,
                  std::source_location where = std::source_location::current());

    const std::string& call() const { return m_call; }           // empty when no SQLite call failed
    int sqliteCode() const { return m_code; }                    // SQLITE_OK when no SQLite call failed
    const std::string& sqliteMessage() const { return m_sqliteMessage; }
    const std::string& file() const { return m_file; }           // our source file, from the repository root
    int line() const { return m_line; }

private:
    std::string m_call;
    int m_code = 0;
    std::string m_sqliteMessage;
    std::string m_file;
    int m_line = 0;
};

} // namespace meshwork
