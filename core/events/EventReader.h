// Tolerant reader of the JSON-lines event protocol (DESIGN.md). It is fed bytes as they
// arrive (tailing a growing events.jsonl, or a trainer's stdout) and hands back each
// complete event. Readers must survive anything a dying trainer leaves behind:
//  - a line that is not JSON, not an object, or lacks "v"/"event" is skipped and counted;
//  - a line with "v" newer than this build is refused and counted with a warning;
//  - unknown fields are kept in Event::fields and otherwise ignored;
//  - an unfinished last line is kept until its newline arrives; finish() at end of
//    stream accepts it only if it is a whole event, else counts it as truncated.
#pragma once

#include "core/events/Event.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshwork {

struct EventReaderStats {
    int64_t lines = 0;        // complete lines seen (blank ones included)
    int64_t events = 0;       // lines that became events
    int64_t invalid = 0;      // not JSON, not an object, missing or mistyped "v"/"event"
    int64_t newerVersion = 0; // "v" above kReadableEventProtocolVersion
    int64_t truncated = 0;    // an unfinished last line at finish(), or a line over the size limit
    int64_t skipped() const { return invalid + newerVersion + truncated; }
};

class EventReader {
public:
    enum class LineKind { Event, Blank, Invalid, NewerVersion };
    using Sink = std::function<void(Event&&)>;

    // A line longer than this is refused (hostile or corrupt input must not eat the memory).
    static constexpr size_t kMaxLineBytes = 64u << 20;
    // Only the first few warnings are kept; the counts in stats() stay exact.
    static constexpr size_t kMaxWarnings = 32;

    // Classifies one line (without its newline). On Event fills *out; otherwise *why
    // (if given) says what is wrong with the line.
    static LineKind parseLine(std::string_view line, Event* out, std::string* why = nullptr);

    // Feeds bytes; calls sink for every event completed by them.
    void feed(std::string_view bytes, const Sink& sink);
    std::vector<Event> feed(std::string_view bytes);
    // End of stream: the unfinished tail, if any, is taken if it is a whole event.
    void finish(const Sink& sink);
    std::vector<Event> finish();

    const EventReaderStats& stats() const { return m_stats; }
    // "line 12: not valid JSON (...)": the first kMaxWarnings problems, in order.
    const std::vector<std::string>& warnings() const { return m_warnings; }
    size_t pendingBytes() const { return m_pending.size(); }

private:
    void takeLine(std::string_view line, const Sink& sink);
    void warn(std::string message);

    std::string m_pending;     // bytes after the last newline
    bool m_discarding = false; // inside an over-long line: drop bytes until its newline
    EventReaderStats m_stats;
    std::vector<std::string> m_warnings;
};

} // namespace meshwork
