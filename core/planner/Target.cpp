#include "core/planner/Estimate.h"

namespace meshwork {

const char* toString(Target t)
{
    switch (t) {
    case Target::Meshwork: return "meshwork";
    case Target::Megatron: return "megatron";
    }
    return "?";
}

std::optional<Target> parseTarget(const std::string& s)
{
    for (auto t : {Target::Meshwork, Target::Megatron})
        if (s == toString(t)) return t;
    return std::nullopt;
}

} // namespace meshwork
