#include "core/json/Json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace meshwork {

namespace {

class Parser {
public:
    Parser(std::string_view text, int maxDepth) : m_text(text), m_maxDepth(maxDepth) {}

    std::optional<Json> document(std::string* error)
    {
        skipSpace();
        Json value;
        if (!parseValue(value, 0))
            return fail(error);
        skipSpace();
        if (m_pos != m_text.size()) {
            m_error = "unexpected text after the JSON value";
            return fail(error);
        }
        return value;
    }

private:
    std::optional<Json> fail(std::string* error)
    {
        if (error) {
            size_t line = 1, col = 1;
            for (size_t i = 0; i < m_pos && i < m_text.size(); ++i) {
                if (m_text[i] == '\n') { ++line; col = 1; } else { ++col; }
            }
            *error = m_error + " at line " + std::to_string(line) + ", column " + std::to_string(col);
        }
        return std::nullopt;
    }

    void skipSpace()
    {
        while (m_pos < m_text.size()) {
            char c = m_text[m_pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                break;
            ++m_pos;
        }
    }

    bool literal(std::string_view word)
    {
        if (m_text.substr(m_pos, word.size()) != word) {
            m_error = "invalid literal";
            return false;
        }
        m_pos += word.size();
        return true;
    }

    bool parseValue(Json& out, int depth)
    {
        if (depth > m_maxDepth) {
            m_error = "nesting deeper than " + std::to_string(m_maxDepth) + " levels";
            return false;
        }
        if (m_pos >= m_text.size()) {
            m_error = "unexpected end of input";
            return false;
        }
        switch (m_text[m_pos]) {
        case '{': return parseObject(out, depth);
        case '[': return parseArray(out, depth);
        case '"': {
            std::string s;
            if (!parseString(s)) return false;
            out = Json(std::move(s));
            return true;
        }
        case 't': out = Json(true); return literal("true");
        case 'f': out = Json(false); return literal("false");
        case 'n': out = Json(); return literal("null");
        default: return parseNumber(out);
        }
    }

    bool parseNumber(Json& out)
    {
        size_t start = m_pos;
        if (m_pos < m_text.size() && m_text[m_pos] == '-') ++m_pos;
        auto digits = [&] {
            size_t s = m_pos;
            while (m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9') ++m_pos;
            return m_pos - s;
        };
        if (digits() == 0) { m_error = "invalid value"; m_pos = start; return false; }
        if (m_pos < m_text.size() && m_text[m_pos] == '.') {
            ++m_pos;
            if (digits() == 0) { m_error = "invalid number"; return false; }
        }
        if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
            ++m_pos;
            if (m_pos < m_text.size() && (m_text[m_pos] == '+' || m_text[m_pos] == '-')) ++m_pos;
            if (digits() == 0) { m_error = "invalid number"; return false; }
        }
        double v = 0;
        auto res = std::from_chars(m_text.data() + start, m_text.data() + m_pos, v);
        if (res.ec == std::errc::result_out_of_range) {
            m_error = "number out of range";
            m_pos = start;
            return false;
        }
        if (res.ec != std::errc()) { m_error = "invalid number"; m_pos = start; return false; }
        out = Json(v);
        return true;
    }

    static void appendUtf8(std::string& s, uint32_t cp)
    {
        if (cp < 0x80) {
            s += static_cast<char>(cp);
        } else if (cp < 0x800) {
            s += static_cast<char>(0xC0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            s += static_cast<char>(0xE0 | (cp >> 12));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            s += static_cast<char>(0xF0 | (cp >> 18));
            s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    bool hex4(uint32_t& cp)
    {
        if (m_pos + 4 > m_text.size()) { m_error = "truncated \\u escape"; return false; }
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            char c = m_text[m_pos++];
            cp <<= 4;
            if (c >= '0' && c <= '9') cp |= c - '0';
            else if (c >= 'a' && c <= 'f') cp |= c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') cp |= c - 'A' + 10;
            else { m_error = "invalid \\u escape"; return false; }
        }
        return true;
    }

    bool parseString(std::string& s)
    {
        ++m_pos; // opening quote
        while (true) {
            if (m_pos >= m_text.size()) { m_error = "unterminated string"; return false; }
            char c = m_text[m_pos++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) { m_error = "control character in string"; return false; }
            if (c != '\\') { s += c; continue; }
            if (m_pos >= m_text.size()) { m_error = "unterminated string"; return false; }
            char e = m_text[m_pos++];
            switch (e) {
            case '"': s += '"'; break;
            case '\\': s += '\\'; break;
            case '/': s += '/'; break;
            case 'b': s += '\b'; break;
            case 'f': s += '\f'; break;
            case 'n': s += '\n'; break;
            case 'r': s += '\r'; break;
            case 't': s += '\t'; break;
            case 'u': {
                uint32_t cp;
                if (!hex4(cp)) return false;
                if (cp >= 0xD800 && cp < 0xDC00 && m_text.substr(m_pos, 2) == "\\u") {
                    m_pos += 2;
                    uint32_t low;
                    if (!hex4(low)) return false;
                    if (low >= 0xDC00 && low < 0xE000)
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    else { m_error = "invalid surrogate pair"; return false; }
                }
                appendUtf8(s, cp);
                break;
            }
            default: m_error = "invalid escape"; return false;
            }
        }
    }

    bool parseArray(Json& out, int depth)
    {
        ++m_pos;
        out = Json::array();
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == ']') { ++m_pos; return true; }
        while (true) {
            skipSpace();
            Json item;
            if (!parseValue(item, depth + 1)) return false;
            out.push(std::move(item));
            skipSpace();
            if (m_pos >= m_text.size()) { m_error = "unterminated array"; return false; }
            char c = m_text[m_pos++];
            if (c == ']') return true;
            if (c != ',') { --m_pos; m_error = "expected ',' or ']'"; return false; }
        }
    }

    bool parseObject(Json& out, int depth)
    {
        ++m_pos;
        out = Json::object();
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == '}') { ++m_pos; return true; }
        while (true) {
            skipSpace();
            if (m_pos >= m_text.size() || m_text[m_pos] != '"') { m_error = "expected a key string"; return false; }
            std::string key;
            if (!parseString(key)) return false;
            skipSpace();
            if (m_pos >= m_text.size() || m_text[m_pos] != ':') { m_error = "expected ':'"; return false; }
            ++m_pos;
            skipSpace();
            Json value;
            if (!parseValue(value, depth + 1)) return false;
            out[key] = std::move(value); // a repeated key keeps the last value
            skipSpace();
            if (m_pos >= m_text.size()) { m_error = "unterminated object"; return false; }
            char c = m_text[m_pos++];
            if (c == '}') return true;
            if (c != ',') { --m_pos; m_error = "expected ',' or '}'"; return false; }
        }
    }

    std::string_view m_text;
    size_t m_pos = 0;
    int m_maxDepth;
    std::string m_error;
};

} // namespace

std::optional<Json> Json::parse(std::string_view text, std::string* error, int maxDepth)
{
    return Parser(text, maxDepth).document(error);
}

const char* Json::typeName(Type t)
{
    switch (t) {
    case Type::Null: return "null";
    case Type::Bool: return "boolean";
    case Type::Number: return "number";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Object: return "object";
    }
    return "?";
}

const Json* Json::find(std::string_view key) const
{
    if (m_type != Type::Object) return nullptr;
    for (const auto& [k, v] : m_object)
        if (k == key) return &v;
    return nullptr;
}

Json& Json::operator[](std::string_view key)
{
    if (m_type == Type::Null) m_type = Type::Object;
    for (auto& [k, v] : m_object)
        if (k == key) return v;
    m_object.emplace_back(std::string(key), Json());
    return m_object.back().second;
}

void Json::push(Json value)
{
    if (m_type == Type::Null) m_type = Type::Array;
    m_array.push_back(std::move(value));
}

size_t Json::size() const
{
    if (m_type == Type::Array) return m_array.size();
    if (m_type == Type::Object) return m_object.size();
    return 0;
}

void appendJsonString(std::string& out, std::string_view s)
{
    out += '"';
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

std::string formatJsonNumber(double v)
{
    if (!std::isfinite(v)) return "null"; // JSON has no NaN or infinity
    if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
        return buf;
    }
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v); // shortest round-trip form
    return std::string(buf, res.ptr);
}

std::string Json::dump(int indent) const
{
    std::string out;
    dumpTo(out, indent, 0);
    return out;
}

void Json::dumpTo(std::string& out, int indent, int level) const
{
    auto newline = [&](int lvl) {
        if (indent < 0) return;
        out += '\n';
        out.append(static_cast<size_t>(indent * lvl), ' ');
    };
    switch (m_type) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += m_bool ? "true" : "false"; break;
    case Type::Number: out += formatJsonNumber(m_number); break;
    case Type::String: appendJsonString(out, m_string); break;
    case Type::Array:
        if (m_array.empty()) { out += "[]"; break; }
        out += '[';
        for (size_t i = 0; i < m_array.size(); ++i) {
            if (i) out += indent < 0 ? "," : ",";
            newline(level + 1);
            m_array[i].dumpTo(out, indent, level + 1);
        }
        newline(level);
        out += ']';
        break;
    case Type::Object:
        if (m_object.empty()) { out += "{}"; break; }
        out += '{';
        for (size_t i = 0; i < m_object.size(); ++i) {
            if (i) out += ',';
            newline(level + 1);
            appendJsonString(out, m_object[i].first);
            out += indent < 0 ? ":" : ": ";
            m_object[i].second.dumpTo(out, indent, level + 1);
        }
        newline(level);
        out += '}';
        break;
    }
}

} // namespace meshwork
