#include "core/spec/JsonFields.h"

#include "core/spec/SpecError.h"

#include <cmath>

namespace meshwork::json_fields {

namespace {

[[noreturn]] void wrongType(const Json& v, const char* key, const char* expected,
                            const std::string& context)
{
    throw SpecError(context + ": key \"" + key + "\" must be " + expected + ", found "
                    + Json::typeName(v.type()));
}

int64_t toInt(const Json& v, const char* key, const std::string& context)
{
    if (!v.isNumber()) wrongType(v, key, "an integer", context);
    double d = v.asNumber();
    if (d != std::floor(d) || std::fabs(d) > 9.0e15)
        throw SpecError(context + ": key \"" + key + "\" must be an integer, found "
                        + formatJsonNumber(d));
    return static_cast<int64_t>(d);
}

} // namespace

int64_t requireInt(const Json& obj, const char* key, const std::string& context)
{
    const Json* v = obj.find(key);
    if (!v) throw SpecError(context + ": key \"" + key + "\" is missing");
    return toInt(*v, key, context);
}

int64_t optInt(const Json& obj, const char* key, int64_t fallback, const std::string& context)
{
    const Json* v = obj.find(key);
    if (!v || v->isNull()) return fallback;
    return toInt(*v, key, context);
}

double optNumber(const Json& obj, const char* key, double fallback, const std::string& context)
{
    const Json* v = obj.find(key);
    if (!v || v->isNull()) return fallback;
    if (!v->isNumber()) wrongType(*v, key, "a number", context);
    return v->asNumber();
}

bool optBool(const Json& obj, const char* key, bool fallback, const std::string& context)
{
    const Json* v = obj.find(key);
    if (!v || v->isNull()) return fallback;
    if (!v->isBool()) wrongType(*v, key, "true or false", context);
    return v->asBool();
}

std::string optString(const Json& obj, const char* key, const std::string& fallback,
                      const std::string& context)
{
    const Json* v = obj.find(key);
    if (!v || v->isNull()) return fallback;
    if (!v->isString()) wrongType(*v, key, "a string", context);
    return v->asString();
}

} // namespace meshwork::json_fields
