#include "core/spec/Options.h"

#include "core/json/Json.h"
#include "core/spec/Catalog.h"
#include "core/spec/HfConfig.h"
#include "core/spec/SpecError.h"
#include "core/spec/StageLayers.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace meshwork {

bool ParsedArgs::has(const std::string& name) const
{
    return std::any_of(options.begin(), options.end(), [&](const auto& o) { return o.first == name; });
}

std::string ParsedArgs::value(const std::string& name, const std::string& fallback) const
{
    for (auto it = options.rbegin(); it != options.rend(); ++it)
        if (it->first == name) return it->second;
    return fallback;
}

namespace {

size_t editDistance(const std::string& a, const std::string& b)
{
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

int64_t toInt(const std::string& name, const std::string& v)
{
    int64_t out = 0;
    auto res = std::from_chars(v.data(), v.data() + v.size(), out);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size())
        throw SpecError("--" + name + ": expected a whole number, got \"" + v + "\"");
    return out;
}

double toDouble(const std::string& name, const std::string& v)
{
    double out = 0;
    auto res = std::from_chars(v.data(), v.data() + v.size(), out);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size() || !std::isfinite(out))
        throw SpecError("--" + name + ": expected a number, got \"" + v + "\"");
    return out;
}

int toSmallInt(const std::string& name, const std::string& v)
{
    int64_t x = toInt(name, v);
    if (x < -1000000 || x > 1000000) throw SpecError("--" + name + ": " + v + " is out of range");
    return static_cast<int>(x);
}

bool toBool(const std::string& name, const std::string& v)
{
    if (v.empty() || v == "1" || v == "true" || v == "on" || v == "yes") return true;
    if (v == "0" || v == "false" || v == "off" || v == "no") return false;
    throw SpecError("--" + name + ": expected true or false, got \"" + v + "\"");
}

template <typename T, typename Parse>
T toEnum(const std::string& name, const std::string& v, Parse parse, const char* allowed)
{
    auto r = parse(v);
    if (!r) throw SpecError("--" + name + ": expected " + allowed + ", got \"" + v + "\"");
    return *r;
}

} // namespace

ParsedArgs parseArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& known)
{
    ParsedArgs out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
            out.positional.push_back(a);
            continue;
        }
        std::string name = a.substr(2), value;
        bool inlineValue = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inlineValue = true;
        }
        auto spec = std::find_if(known.begin(), known.end(), [&](const OptionSpec& o) { return o.name == name; });
        if (spec == known.end()) {
            std::string best;
            size_t bestDist = 3;
            for (const auto& o : known) {
                size_t d = editDistance(name, o.name);
                if (d < bestDist) { bestDist = d; best = o.name; }
            }
            throw SpecError("unknown option --" + name + (best.empty() ? "" : " (did you mean --" + best + "?)")
                            + "; see --help");
        }
        if (!inlineValue && !spec->valueHint.empty()) {
            if (i + 1 >= args.size())
                throw SpecError("--" + name + " needs a value (" + spec->valueHint + ")");
            value = args[++i];
        }
        out.options.emplace_back(name, value);
    }
    return out;
}

const std::vector<OptionSpec>& modelOptions()
{
    static const std::vector<OptionSpec> o = {
        {"model", "NAME|FILE", "catalog model or a config.json (see `models`)"},
        {"layers", "L", "transformer layers"},
        {"hidden", "C", "hidden size (channels)"},
        {"heads", "NH", "attention heads"},
        {"kv-heads", "N", "key/value heads (grouped-query attention)"},
        {"ffn", "N", "MLP inner size"},
        {"vocab", "V", "vocabulary size"},
    };
    return o;
}

const std::vector<OptionSpec>& planOptions()
{
    static const std::vector<OptionSpec> o = {
        {"dp", "N", "data-parallel degree"},
        {"tp", "N", "tensor-parallel degree"},
        {"pp", "N", "pipeline-parallel stages"},
        {"vpp", "N", "virtual stages per pipeline rank (interleaved schedule)"},
        {"stage-layers", "L1,L2,...", "layers of each pipeline stage, first to last (pp x vpp values; default even)"},
        {"cp", "N", "context-parallel degree"},
        {"sp", "", "sequence parallelism with tensor parallelism"},
        {"zero", "0-3", "ZeRO stage over the data-parallel axis"},
        {"offload", "none|optimizer|optimizer+params", "offload states to host memory"},
        {"offload-fraction", "F", "share of the offloaded states kept on the host (0-1)"},
        {"recompute", "none|selective|full", "activation recomputation"},
        {"micro-batch", "N", "sequences per micro-batch"},
        {"global-batch", "N", "sequences per optimizer step (default micro-batch x dp)"},
        {"seq", "T", "sequence length in tokens"},
        {"precision", "bf16|fp16|fp32", "training precision"},
        {"grad-reduce", "fp32|bf16", "type of the data-parallel gradient reduction (default fp32)"},
        {"optimizer", "adamw|lamb|lars|sgd", "optimizer"},
        {"order", "tp-cp-dp-pp", "rank layout, innermost axis first"},
    };
    return o;
}

const std::vector<OptionSpec>& clusterOptions()
{
    static const std::vector<OptionSpec> o = {
        {"gpu", "ID", "GPU from the catalog (see `gpus`)"},
        {"nodes", "N", "number of nodes"},
        {"gpus-per-node", "N", "GPUs in each node"},
        {"intra-gbps", "GB/s", "override the GPU-to-GPU bandwidth inside a node"},
        {"inter-gbps", "GB/s", "override the per-GPU network bandwidth between nodes"},
        {"price", "X", "price per GPU-hour"},
    };
    return o;
}

ModelSpec resolveModel(const std::string& nameOrPath)
{
    if (auto m = findModel(nameOrPath)) return *m;
    const bool looksLikePath = nameOrPath.find('/') != std::string::npos
        || (nameOrPath.size() > 5 && nameOrPath.compare(nameOrPath.size() - 5, 5, ".json") == 0);
    if (looksLikePath) return loadModelFile(nameOrPath);
    throw SpecError("unknown model \"" + nameOrPath + "\"; choose one of: " + modelNames()
                    + ", or give the path of a config.json");
}

void applyModelOptions(const ParsedArgs& args, ModelSpec& model)
{
    bool changed = false;
    for (const auto& [name, v] : args.options) {
        if (name == "model") { model = resolveModel(v); continue; }
        int64_t* field = nullptr;
        if (name == "layers") field = &model.layers;
        else if (name == "hidden") field = &model.hidden;
        else if (name == "heads") field = &model.heads;
        else if (name == "kv-heads") field = &model.kvHeads;
        else if (name == "ffn") field = &model.ffn;
        else if (name == "vocab") { model.vocab = toInt(name, v); model.paddedVocab = 0; changed = true; continue; }
        if (!field) continue;
        *field = toInt(name, v);
        changed = true;
        if (name == "heads" && !args.has("kv-heads")) model.kvHeads = 0; // follow heads unless given
    }
    if (changed) {
        model.name += "*"; // a catalog model with changed dimensions is no longer that model
        model.fillDerived();
    }
    auto problems = model.validate();
    if (!problems.empty()) {
        std::string msg = "model " + model.name + ": ";
        for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
        throw SpecError(msg);
    }
}

void applyPlanOptions(const ParsedArgs& args, Plan& plan)
{
    for (const auto& [name, v] : args.options) {
        if (name == "dp") plan.dp = toSmallInt(name, v);
        else if (name == "tp") plan.tp = toSmallInt(name, v);
        else if (name == "pp") plan.pp = toSmallInt(name, v);
        else if (name == "vpp") plan.vpp = toSmallInt(name, v);
        else if (name == "stage-layers") {
            std::string error;
            auto layers = parseStageLayers(v, &error);
            if (!layers) throw SpecError("--stage-layers: " + error);
            plan.stageLayers = *layers;
        }
        else if (name == "cp") plan.cp = toSmallInt(name, v);
        else if (name == "sp") plan.sp = toBool(name, v);
        else if (name == "zero") plan.zero = toSmallInt(name, v);
        else if (name == "offload") plan.offload = toEnum<Offload>(name, v, parseOffload, "none, optimizer or optimizer+params");
        else if (name == "offload-fraction") plan.offloadFraction = toDouble(name, v);
        else if (name == "recompute") plan.recompute = toEnum<Recompute>(name, v, parseRecompute, "none, selective or full");
        else if (name == "micro-batch") plan.microBatch = toInt(name, v);
        else if (name == "global-batch") plan.globalBatch = toInt(name, v);
        else if (name == "seq") plan.seq = toInt(name, v);
        else if (name == "precision") plan.precision = toEnum<Precision>(name, v, parsePrecision, "bf16, fp16 or fp32");
        else if (name == "grad-reduce") plan.gradReduce = toEnum<Precision>(name, v, parsePrecision, "fp32 or bf16");
        else if (name == "optimizer") plan.optimizer = toEnum<Optimizer>(name, v, parseOptimizer, "adamw, lamb, lars or sgd");
        else if (name == "order") plan.order = v;
    }
}

void applyClusterOptions(const ParsedArgs& args, ClusterSpec& cluster)
{
    for (const auto& [name, v] : args.options) {
        if (name == "gpu") {
            auto g = findGpu(v);
            if (!g) throw SpecError("--gpu: unknown GPU \"" + v + "\"; choose one of: " + gpuIds());
            cluster.gpu = *g;
        } else if (name == "nodes") {
            cluster.nodes = toSmallInt(name, v);
            if (cluster.nodes < 1) throw SpecError("--nodes must be at least 1 (got " + v + ")");
        } else if (name == "gpus-per-node") {
            cluster.gpusPerNode = toSmallInt(name, v);
            if (cluster.gpusPerNode < 1) throw SpecError("--gpus-per-node must be at least 1 (got " + v + ")");
        } else if (name == "intra-gbps") {
            cluster.intraNodeGBpsOverride = toDouble(name, v);
        } else if (name == "inter-gbps") {
            cluster.interNodeGBpsOverride = toDouble(name, v);
        } else if (name == "price") {
            cluster.pricePerGpuHour = toDouble(name, v);
            if (cluster.pricePerGpuHour < 0) throw SpecError("--price must not be negative (got " + v + ")");
        }
    }
}

std::vector<std::string> planToArgs(const Plan& plan)
{
    const Plan d;
    std::vector<std::string> a;
    auto add = [&](const char* name, const std::string& v) { a.push_back(std::string("--") + name); a.push_back(v); };
    add("dp", std::to_string(plan.dp));
    add("tp", std::to_string(plan.tp));
    add("pp", std::to_string(plan.pp));
    if (plan.vpp != d.vpp) add("vpp", std::to_string(plan.vpp));
    if (!plan.stageLayers.empty()) add("stage-layers", formatStageLayers(plan.stageLayers));
    if (plan.cp != d.cp) add("cp", std::to_string(plan.cp));
    if (plan.sp) a.push_back("--sp");
    if (plan.zero != d.zero) add("zero", std::to_string(plan.zero));
    if (plan.offload != d.offload) add("offload", toString(plan.offload));
    if (plan.offloadFraction != d.offloadFraction) add("offload-fraction", formatJsonNumber(plan.offloadFraction));
    if (plan.recompute != d.recompute) add("recompute", toString(plan.recompute));
    add("micro-batch", std::to_string(plan.microBatch));
    if (plan.globalBatch > 0) add("global-batch", std::to_string(plan.globalBatch));
    add("seq", std::to_string(plan.seq));
    add("precision", toString(plan.precision));
    if (plan.gradReduce != d.gradReduce) add("grad-reduce", toString(plan.gradReduce));
    add("optimizer", toString(plan.optimizer));
    if (plan.order != d.order) add("order", plan.order);
    return a;
}

std::string formatOptionHelp(const std::vector<OptionSpec>& options)
{
    std::string out;
    for (const auto& o : options) {
        std::string left = "  --" + o.name + (o.valueHint.empty() ? "" : " " + o.valueHint);
        if (left.size() < 34) left.append(34 - left.size(), ' ');
        else left += "  ";
        out += left + o.help + "\n";
    }
    return out;
}

} // namespace meshwork
