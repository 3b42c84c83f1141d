// One line of the event protocol (DESIGN.md, "The event protocol (version 1)"):
// a JSON object with "v", "event" and "t"; every other key is a field of that event.
#pragma once

#include "core/json/Json.h"

#include <optional>
#include <string>
#include <string_view>

namespace meshwork {

// The newest protocol version this reader understands (a change of meaning bumps "v",
// DESIGN.md). The writer has its own constant for what it writes (EventWriter.h).
inline constexpr int kReadableEventProtocolVersion = 1;

struct Event {
    int v = kReadableEventProtocolVersion;
    std::string type;     // "run_start", "step", "eval", "checkpoint", "log", "error", "run_end", ...
    double t = 0;         // seconds since the run began
    Json fields;          // the whole object as read, unknown keys included

    const Json* find(std::string_view key) const { return fields.find(key); }
    // The field as a number, or nullopt when absent or not a number (a trainer may write null).
    std::optional<double> number(std::string_view key) const
    {
        const Json* j = fields.find(key);
        return j && j->isNumber() ? std::optional<double>(j->asNumber()) : std::nullopt;
    }
    // The field as text, or `fallback` when absent or not a string.
    std::string string(std::string_view key, std::string fallback = {}) const
    {
        const Json* j = fields.find(key);
        return j && j->isString() ? j->asString() : fallback;
    }
};

} // namespace meshwork
