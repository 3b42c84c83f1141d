// A small JSON value: parse, build, serialise.
// core/ and meshwork-train may use no JSON library (DESIGN.md), so this is ours.
// Objects keep insertion order so that written files diff cleanly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshwork {

class Json {
public:
    enum class Type { Null, Bool, Number, String, Array, Object };
    using Array = std::vector<Json>;
    using Object = std::vector<std::pair<std::string, Json>>;

    Json() = default;
    Json(std::nullptr_t) {}
    Json(bool b) : m_type(Type::Bool), m_bool(b) {}
    Json(int v) : Json(static_cast<double>(v)) {}
    Json(int64_t v) : Json(static_cast<double>(v)) {}
    Json(uint64_t v) : Json(static_cast<double>(v)) {}
    Json(double v) : m_type(Type::Number), m_number(v) {}
    Json(const char* s) : m_type(Type::String), m_string(s) {}
    Json(std::string s) : m_type(Type::String), m_string(std::move(s)) {}
    Json(std::string_view s) : m_type(Type::String), m_string(s) {}

    static Json array() { Json j; j.m_type = Type::Array; return j; }
    static Json object() { Json j; j.m_type = Type::Object; return j; }

    // Parses one JSON document. On failure returns nullopt and sets *error to a message
    // with the line and column. Nesting deeper than maxDepth is refused (hostile input).
    static std::optional<Json> parse(std::string_view text, std::string* error = nullptr,
                                     int maxDepth = 256);

    Type type() const { return m_type; }
    bool isNull() const { return m_type == Type::Null; }
    bool isBool() const { return m_type == Type::Bool; }
    bool isNumber() const { return m_type == Type::Number; }
    bool isString() const { return m_type == Type::String; }
    bool isArray() const { return m_type == Type::Array; }
    bool isObject() const { return m_type == Type::Object; }
    static const char* typeName(Type t);

    bool asBool() const { return m_bool; }
    double asNumber() const { return m_number; }
    const std::string& asString() const { return m_string; }
    const Array& asArray() const { return m_array; }
    const Object& asObject() const { return m_object; }

    // Object access. find() returns nullptr when the key is absent or this is no object.
    const Json* find(std::string_view key) const;
    bool contains(std::string_view key) const { return find(key) != nullptr; }
    Json& operator[](std::string_view key); // inserts null when absent; makes null an object
    Json& set(std::string_view key, Json value) { (*this)[key] = std::move(value); return *this; }

    void push(Json value); // makes null an array
    size_t size() const;

    // Serialises. indent < 0: one line; otherwise pretty-printed with that many spaces.
    std::string dump(int indent = -1) const;

private:
    void dumpTo(std::string& out, int indent, int level) const;

    Type m_type = Type::Null;
    bool m_bool = false;
    double m_number = 0;
    std::string m_string;
    Array m_array;
    Object m_object;
};

// Appends s to out as a quoted JSON string.
void appendJsonString(std::string& out, std::string_view s);
// Shortest text that reads back as exactly v (integers print without a fraction).
std::string formatJsonNumber(double v);

} // namespace meshwork
