// Typed reads of JSON object fields with errors that name the key (for specs and plan files).
#pragma once

#include "core/json/Json.h"

#include <cstdint>
#include <string>

namespace meshwork::json_fields {

// Each throws SpecError("<context>: key \"k\" ...") when the value has the wrong type or range.
int64_t requireInt(const Json& obj, const char* key, const std::string& context);
int64_t optInt(const Json& obj, const char* key, int64_t fallback, const std::string& context);
double optNumber(const Json& obj, const char* key, double fallback, const std::string& context);
bool optBool(const Json& obj, const char* key, bool fallback, const std::string& context);
std::string optString(const Json& obj, const char* key, const std::string& fallback,
                      const std::string& context);

} // namespace meshwork::json_fields
