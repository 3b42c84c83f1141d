#include "core/events/EventReader.h"

#include <cmath>

namespace meshwork {

EventReader::LineKind EventReader::parseLine(std::string_view line, Event* out, std::string* why)
{
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1); // CRLF from a Windows pipe
    if (line.find_first_not_of(" \t") == std::string_view::npos) return LineKind::Blank;

    auto fail = [&](std::string message) {
        if (why) *why = std::move(message);
        return LineKind::Invalid;
    };
    std::string error;
    std::optional<Json> j = Json::parse(line, &error);
    if (!j) return fail("not valid JSON (" + error + ")");
    if (!j->isObject()) return fail(std::string("expected a JSON object, found ") + Json::typeName(j->type()));

    const Json* v = j->find("v");
    if (!v) return fail("no \"v\" (protocol version)");
    if (!v->isNumber() || v->asNumber() < 1 || v->asNumber() != std::floor(v->asNumber()))
        return fail("\"v\" must be a whole number >= 1");
    const Json* type = j->find("event");
    if (!type) return fail("no \"event\"");
    if (!type->isString() || type->asString().empty()) return fail("\"event\" must be a non-empty string");
    if (v->asNumber() > kReadableEventProtocolVersion) {
        if (why)
            *why = "protocol version " + formatJsonNumber(v->asNumber()) + " is newer than this build reads ("
                + std::to_string(kReadableEventProtocolVersion) + "): upgrade Meshwork to read it";
        return LineKind::NewerVersion;
    }
    if (out) {
        out->v = static_cast<int>(v->asNumber());
        out->type = type->asString();
        const Json* t = j->find("t");
        out->t = t && t->isNumber() ? t->asNumber() : 0; // "t" is informative: its absence is tolerated
        out->fields = std::move(*j);
    }
    return LineKind::Event;
}

void EventReader::warn(std::string message)
{
    if (m_warnings.size() < kMaxWarnings) m_warnings.push_back(std::move(message));
}

void EventReader::takeLine(std::string_view line, const Sink& sink)
{
    ++m_stats.lines;
    Event event;
    std::string why;
    switch (parseLine(line, &event, &why)) {
    case LineKind::Event:
        ++m_stats.events;
        sink(std::move(event));
        break;
    case LineKind::Blank:
        break;
    case LineKind::Invalid:
        ++m_stats.invalid;
        warn("line " + std::to_string(m_stats.lines) + ": skipped, " + why);
        break;
    case LineKind::NewerVersion:
        ++m_stats.newerVersion;
        warn("line " + std::to_string(m_stats.lines) + ": skipped, " + why);
        break;
    }
}

void EventReader::feed(std::string_view bytes, const Sink& sink)
{
    while (!bytes.empty()) {
        const size_t nl = bytes.find('\n');
        const std::string_view piece = bytes.substr(0, nl); // npos: everything
        if (m_discarding) {
            if (nl == std::string_view::npos) return;
            m_discarding = false;
        } else if (nl == std::string_view::npos) {
            if (m_pending.size() + piece.size() > kMaxLineBytes) {
                ++m_stats.lines;
                ++m_stats.truncated;
                warn("line " + std::to_string(m_stats.lines) + ": skipped, longer than "
                     + std::to_string(kMaxLineBytes >> 20) + " MiB");
                m_pending.clear();
                m_discarding = true;
                return;
            }
            m_pending.append(piece);
            return;
        } else if (m_pending.empty()) {
            takeLine(piece, sink); // the common case: a whole line inside this chunk, no copy
        } else {
            m_pending.append(piece);
            std::string line;
            line.swap(m_pending); // cleared before the sink runs, even if it throws
            takeLine(line, sink);
        }
        bytes.remove_prefix(nl + 1);
    }
}

std::vector<Event> EventReader::feed(std::string_view bytes)
{
    std::vector<Event> out;
    feed(bytes, [&](Event&& e) { out.push_back(std::move(e)); });
    return out;
}

void EventReader::finish(const Sink& sink)
{
    m_discarding = false;
    if (m_pending.empty()) return;
    std::string tail;
    tail.swap(m_pending);
    // A file may simply lack its final newline: a whole event is taken. Anything else is
    // what a trainer killed mid-write leaves, and is counted as truncated, not invalid.
    Event event;
    std::string why;
    const LineKind kind = parseLine(tail, &event, &why);
    if (kind == LineKind::Event || kind == LineKind::Blank || kind == LineKind::NewerVersion) {
        takeLine(tail, sink);
        return;
    }
    ++m_stats.lines;
    ++m_stats.truncated;
    warn("line " + std::to_string(m_stats.lines) + ": skipped, unfinished last line (" + std::to_string(tail.size())
         + " bytes without a newline; the writer stopped mid-line)");
}

std::vector<Event> EventReader::finish()
{
    std::vector<Event> out;
    finish([&](Event&& e) { out.push_back(std::move(e)); });
    return out;
}

} // namespace meshwork
