// The error the training core throws for a run that cannot go on: its kind is the `error`
// event's kind (DESIGN.md: config, oom, nan, comm, io, internal) and its message names the
// file, flag or figure that is wrong and how to fix it.
#pragma once

#include <stdexcept>
#include <string>

namespace meshwork {

enum class TrainErrorKind { Config, Oom, Nan, Comm, Io, Internal };

inline const char* toString(TrainErrorKind k)
{
    switch (k) {
    case TrainErrorKind::Config: return "config";
    case TrainErrorKind::Oom: return "oom";
    case TrainErrorKind::Nan: return "nan";
    case TrainErrorKind::Comm: return "comm";
    case TrainErrorKind::Io: return "io";
    case TrainErrorKind::Internal: return "internal";
    }
    return "internal";
}

class TrainError : public std::runtime_error {
public:
    TrainError(TrainErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}
    TrainErrorKind kind() const { return m_kind; }

private:
    TrainErrorKind m_kind;
};

} // namespace meshwork
