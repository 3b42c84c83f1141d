// Dispatch to the per-framework writers and the helpers they share.
#include "core/planner/Export.h"

#include "core/json/Json.h"
#include "core/planner/ExportWriters.h"
#include "core/spec/Catalog.h"
#include "core/spec/Options.h"
#include "core/spec/SpecError.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace meshwork {

const char* toString(ExportFormat f)
{
    switch (f) {
    case ExportFormat::Megatron: return "megatron";
    case ExportFormat::DeepSpeed: return "deepspeed";
    case ExportFormat::ColossalAI: return "colossalai";
    case ExportFormat::Torchtitan: return "torchtitan";
    }
    return "?";
}

std::optional<ExportFormat> parseExportFormat(const std::string& s)
{
    for (auto f : {ExportFormat::Megatron, ExportFormat::DeepSpeed, ExportFormat::ColossalAI, ExportFormat::Torchtitan})
        if (s == toString(f)) return f;
    return std::nullopt;
}

std::string exportPlan(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, ExportFormat format)
{
    // A layout that breaks a structural constraint (degrees vs the cluster, heads vs tp, ...)
    // would be refused by every framework at start-up: say so here, with the numbers.
    const auto problems = plan.validate(model, &cluster);
    if (!problems.empty()) {
        std::string msg = "cannot export an invalid plan: ";
        for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
        throw SpecError(msg);
    }
    const export_detail::ExportInput in{model, cluster, plan};
    switch (format) {
    case ExportFormat::Megatron: return export_detail::writeMegatron(in);
    case ExportFormat::DeepSpeed: return export_detail::writeDeepSpeed(in);
    case ExportFormat::ColossalAI: return export_detail::writeColossalAI(in);
    case ExportFormat::Torchtitan: return export_detail::writeTorchtitan(in);
    }
    throw SpecError("unknown export format");
}

namespace export_detail {

std::string formatCount(int64_t n)
{
    struct Unit { double scale; const char* suffix; };
    static const Unit units[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
    for (const auto& u : units) {
        if (static_cast<double>(n) >= u.scale) {
            const double v = static_cast<double>(n) / u.scale;
            char buf[32];
            // Three significant digits: 6.74B, 70.6B, 124M.
            std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, u.suffix);
            return buf;
        }
    }
    return std::to_string(n);
}

std::string number(double v) { return formatJsonNumber(v); }

std::string floatLiteral(double v)
{
    std::string s = formatJsonNumber(v);
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}

int64_t layersPerChunk(const ExportInput& in)
{
    const int64_t chunks = static_cast<int64_t>(in.plan.pp) * in.plan.vpp;
    return chunks > 0 ? in.model.layers / chunks : in.model.layers;
}

int64_t localBatch(const ExportInput& in)
{
    return in.plan.dp > 0 ? in.plan.effectiveGlobalBatch() / in.plan.dp : in.plan.effectiveGlobalBatch();
}

namespace {

std::string modelArgument(const ModelSpec& model)
{
    // A catalog model reproduces by name; any other (a config.json, or a catalog model with
    // changed dimensions, marked "*") needs the file it came from.
    if (findModel(model.name)) return "--model " + model.name;
    return "--model <config.json of " + model.name + ">";
}

std::string planInWords(const Plan& p)
{
    const auto s = [](int64_t v) { return std::to_string(v); };
    std::string w = "dp " + s(p.dp) + " x tp " + s(p.tp) + " x pp " + s(p.pp) + " x cp " + s(p.cp) + " = "
        + s(p.worldSize()) + " GPUs";
    if (p.vpp > 1) w += ", vpp " + s(p.vpp);
    w += p.sp ? ", sp on" : ", sp off";
    w += ", zero " + s(p.zero);
    if (p.offload != Offload::None) {
        w += ", offload " + std::string(toString(p.offload));
        if (p.offloadFraction < 1.0) w += " (" + number(p.offloadFraction * 100) + "%)";
    }
    w += ", recompute " + std::string(toString(p.recompute));
    w += ", micro-batch " + s(p.microBatch) + ", global batch " + s(p.effectiveGlobalBatch()) + " ("
        + s(p.microBatches()) + (p.microBatches() == 1 ? " micro-batch" : " micro-batches") + " per step)";
    w += ", seq " + s(p.seq) + ", " + toString(p.precision);
    if (p.gradReduce != Plan().gradReduce) w += ", grad-reduce " + std::string(toString(p.gradReduce));
    w += ", " + std::string(toString(p.optimizer));
    return w;
}

} // namespace

std::string header(const ExportInput& in, const std::string& framework, const std::string& prefix)
{
    const auto& c = in.cluster;
    std::string h;
    h += prefix + framework + " for " + in.model.name + " (" + formatCount(in.model.parameterCount())
        + " parameters) on " + std::to_string(c.nodes) + (c.nodes == 1 ? " node" : " nodes") + " x "
        + std::to_string(c.gpusPerNode) + " " + c.gpu.name + " = " + std::to_string(c.worldSize()) + " GPUs.\n";
    h += prefix + "Plan: " + planInWords(in.plan) + ".\n";
    std::string args;
    for (const auto& a : planToArgs(in.plan)) args += " " + a;
    h += prefix + "Written by Meshwork; the same plan: meshwork-cli plan " + modelArgument(in.model) + " --gpu "
        + c.gpu.id + " --nodes " + std::to_string(c.nodes) + " --gpus-per-node " + std::to_string(c.gpusPerNode)
        + args + "\n";
    return h;
}

std::string notesBlock(const std::vector<std::string>& notes, const std::string& framework,
                       const std::string& prefix)
{
    std::string out;
    for (const auto& n : notes) out += prefix + "Not expressible in " + framework + ": " + n + "\n";
    return out;
}

} // namespace export_detail
} // namespace meshwork
