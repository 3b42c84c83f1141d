#include "core/runs/RunTypes.h"

namespace meshwork {

const char* toString(RunStatus s)
{
    switch (s) {
    case RunStatus::Running: return "running";
    case RunStatus::Completed: return "completed";
    case RunStatus::Failed: return "failed";
    case RunStatus::Cancelled: return "cancelled";
    case RunStatus::Interrupted: return "interrupted";
    }
    return "running";
}

std::optional<RunStatus> parseRunStatus(const std::string& s)
{
    for (RunStatus r : {RunStatus::Running, RunStatus::Completed, RunStatus::Failed, RunStatus::Cancelled,
                        RunStatus::Interrupted})
        if (s == toString(r)) return r;
    return std::nullopt;
}

const std::vector<std::string>& knownSeriesNames()
{
    // step's fields in DESIGN.md order, then eval's.
    static const std::vector<std::string> names = {"loss", "lr", "grad_norm", "tokens", "tokens_per_s",
                                                   "tflops", "mfu", "step_ms", "mem_peak_gib", "host_wait_ms", "val_loss"};
    return names;
}

namespace {

void flattenInto(const std::string& prefix, const Json& value, std::vector<std::pair<std::string, std::string>>& out)
{
    if (value.isObject() && !prefix.empty() && value.size() == 0) {
        out.emplace_back(prefix, "{}");
        return;
    }
    if (value.isObject()) {
        for (const auto& [key, v] : value.asObject()) flattenInto(prefix.empty() ? key : prefix + "." + key, v, out);
        return;
    }
    out.emplace_back(prefix, value.isString() ? value.asString() : value.dump());
}

} // namespace

std::vector<std::pair<std::string, std::string>> flattenPlan(const Json& plan)
{
    std::vector<std::pair<std::string, std::string>> out;
    if (plan.isObject()) flattenInto({}, plan, out);
    return out;
}

} // namespace meshwork
