#include "app/cli/CliSetup.h"

#include "core/spec/Catalog.h"
#include "core/spec/RankLayout.h"
#include "core/spec/SpecError.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace meshwork::cli {

std::vector<OptionSpec> concat(std::initializer_list<std::vector<OptionSpec>> groups)
{
    std::vector<OptionSpec> out;
    for (const auto& g : groups) out.insert(out.end(), g.begin(), g.end());
    return out;
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

bool isKnown(const std::vector<OptionSpec>& known, const std::string& name)
{
    return std::any_of(known.begin(), known.end(), [&](const OptionSpec& o) { return o.name == name; });
}

std::string optionName(const std::string& arg)
{
    std::string name = arg.substr(2);
    if (auto eq = name.find('='); eq != std::string::npos) name.resize(eq);
    return name;
}

} // namespace

std::string shellQuote(const std::string& v)
{
    const bool plain = !v.empty() && std::all_of(v.begin(), v.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == '+' || c == ',' || c == ':' || c == '=';
    });
    if (plain) return v;
    std::string out = "'";
    for (char c : v) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string nearest(const std::string& s, const std::vector<std::string>& candidates)
{
    std::string best;
    size_t bestDist = std::max<size_t>(2, s.size() / 3) + 1;
    for (const auto& c : candidates) {
        const size_t d = editDistance(s, c);
        if (d < bestDist) { bestDist = d; best = c; }
    }
    return best;
}

ParsedArgs parseCommandArgs(const std::string& command, const std::vector<std::string>& argsIn,
                            const std::vector<OptionSpec>& known)
{
    std::vector<std::string> args = argsIn;
    for (auto& a : args)
        if (a == "-h") a = "--help";
    // --help wins over anything else on the line, even a mistake: that is when it is wanted.
    if (std::find(args.begin(), args.end(), "--help") != args.end()) {
        ParsedArgs help;
        help.options.emplace_back("help", "");
        return help;
    }
    for (const auto& a : args) {
        if (a.size() < 3 || a.compare(0, 2, "--") != 0) continue;
        const std::string name = optionName(a);
        if (isKnown(known, name)) continue;
        // A plan flag where the command chooses or ignores it: say so rather than "unknown".
        if (isKnown(planOptions(), name))
            throw UsageError("--" + name + " is not an option of `" + command + "`"
                             + (command == "search" ? " (search chooses the layout itself; fix it with `plan` or `export`)"
                                                    : "") + "; see meshwork-cli " + command + " --help");
    }
    ParsedArgs parsed;
    try {
        parsed = parseArgs(args, known);
    } catch (const SpecError& e) {
        throw UsageError(e.what());
    }
    if (!parsed.positional.empty()) {
        const std::string& p = parsed.positional.front();
        std::string hint;
        if (findModel(p)) hint = " (did you mean --model " + p + "?)";
        else if (findGpu(p)) hint = " (did you mean --gpu " + p + "?)";
        else if (p.size() >= 2 && p[0] == '-' && p[1] != '-') hint = " (options start with two dashes: -" + p + ")";
        throw UsageError("unexpected argument \"" + p + "\"" + hint + "; see meshwork-cli " + command + " --help");
    }
    return parsed;
}

int64_t parsePositive(const std::string& flag, const std::string& value)
{
    int64_t v = 0;
    auto res = std::from_chars(value.data(), value.data() + value.size(), v);
    if (res.ec != std::errc() || res.ptr != value.data() + value.size() || v < 1)
        throw UsageError("--" + flag + ": expected a whole number of at least 1, got \"" + value + "\"");
    return v;
}

double parseTokenCount(const std::string& flag, const std::string& value)
{
    std::string digits = value;
    double scale = 1;
    if (!digits.empty()) {
        switch (digits.back()) {
        case 'K': case 'k': scale = 1e3; break;
        case 'M': case 'm': scale = 1e6; break;
        case 'B': case 'b': case 'G': case 'g': scale = 1e9; break;
        case 'T': case 't': scale = 1e12; break;
        default: break;
        }
        if (scale != 1) digits.pop_back();
    }
    double v = 0;
    auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || res.ec != std::errc() || res.ptr != digits.data() + digits.size() || !std::isfinite(v) || v <= 0)
        throw UsageError("--" + flag + ": expected a positive token count such as 300B, 1.5T or 2e12, got \""
                         + value + "\"");
    return v * scale;
}

namespace {

constexpr int64_t kMaxGpus = int64_t(1) << 20;
constexpr int64_t kMaxDimension = int64_t(1) << 24; // as for a config.json (HfConfig.cpp)

// Values that are wrong whatever the model and cluster: bad input (exit 2), not an invalid
// plan (exit 1). The plan's own validate() still reports the constraints between them.
void checkRanges(const ParsedArgs& args, const Plan& p)
{
    auto atLeast = [&](const char* flag, int64_t v, int64_t min) {
        if (args.has(flag) && v < min)
            throw UsageError(std::string("--") + flag + " must be at least " + std::to_string(min) + " (got "
                             + args.value(flag) + ")");
    };
    atLeast("dp", p.dp, 1);
    atLeast("tp", p.tp, 1);
    atLeast("pp", p.pp, 1);
    atLeast("vpp", p.vpp, 1);
    atLeast("cp", p.cp, 1);
    atLeast("micro-batch", p.microBatch, 1);
    atLeast("global-batch", p.globalBatch, 1);
    atLeast("seq", p.seq, 1);
    if (p.zero < 0 || p.zero > 3) throw UsageError("--zero must be 0, 1, 2 or 3 (got " + args.value("zero") + ")");
    if (p.offloadFraction < 0 || p.offloadFraction > 1)
        throw UsageError("--offload-fraction must be between 0 and 1 (got " + args.value("offload-fraction") + ")");
    if (p.gradReduce == Precision::Fp16)
        throw UsageError("--grad-reduce must be fp32 or bf16 (got fp16: its range would overflow summed gradients)");
    std::string orderError;
    if (!RankLayout::parseOrder(p.order, &orderError)) throw UsageError("--order: " + orderError);

    // Upper bounds far past any real run but short of 64-bit overflow in the estimates
    // (tokens per step = global batch x seq; world = dp x tp x pp x cp).
    auto atMost = [&](const char* flag, int64_t v, int64_t max) {
        if (args.has(flag) && v > max)
            throw UsageError(std::string("--") + flag + " must be at most " + std::to_string(max) + " (got "
                             + args.value(flag) + ")");
    };
    atMost("micro-batch", p.microBatch, kMaxGpus);
    atMost("global-batch", p.globalBatch, int64_t(1) << 30);
    atMost("seq", p.seq, kMaxDimension);
    const int64_t degrees = int64_t(p.dp) * p.tp * p.pp * p.cp;
    if (degrees > kMaxGpus)
        throw UsageError("dp x tp x pp x cp = " + std::to_string(degrees) + " GPUs; at most "
                         + std::to_string(kMaxGpus) + " are supported");
}

void checkModelRanges(const ParsedArgs& args, const ModelSpec& m)
{
    const std::pair<const char*, int64_t> dims[] = {{"layers", m.layers}, {"hidden", m.hidden}, {"heads", m.heads},
                                                    {"kv-heads", m.kvHeads}, {"ffn", m.ffn}, {"vocab", m.vocab}};
    for (const auto& [flag, v] : dims)
        if (args.has(flag) && v > kMaxDimension)
            throw UsageError(std::string("--") + flag + " must be at most " + std::to_string(kMaxDimension) + " (got "
                             + args.value(flag) + ")");
}

void checkClusterRanges(const ClusterSpec& c)
{
    const int64_t world = int64_t(c.nodes) * c.gpusPerNode;
    if (world > kMaxGpus)
        throw UsageError("--nodes x --gpus-per-node = " + std::to_string(c.nodes) + " x " + std::to_string(c.gpusPerNode)
                         + " GPUs; at most " + std::to_string(kMaxGpus) + " are supported");
}

} // namespace

Setup resolveSetup(const ParsedArgs& args, Target defaultTarget)
{
    Setup s;
    try {
        // --model picks the base that --layers, --heads, ... then change, wherever it stands
        // on the line (applyModelOptions applies them in order).
        ParsedArgs modelArgs = args;
        std::stable_partition(modelArgs.options.begin(), modelArgs.options.end(),
                              [](const auto& o) { return o.first == "model"; });
        s.model = *findModel("gpt2-124m");
        applyModelOptions(modelArgs, s.model);
        s.cluster.gpu = *findGpu("h100-sxm");
        s.cluster.nodes = 1;
        s.cluster.gpusPerNode = 8;
        applyClusterOptions(args, s.cluster);
        applyPlanOptions(args, s.plan);
    } catch (const SpecError& e) {
        throw UsageError(e.what());
    }
    checkModelRanges(args, s.model);
    // The default sequence (1024) is cut to what the model can take (gpt-nano: 256).
    if (!args.has("seq") && s.model.maxSeq > 0 && s.plan.seq > s.model.maxSeq) s.plan.seq = s.model.maxSeq;
    checkClusterRanges(s.cluster);
    checkRanges(args, s.plan);

    // Defaults spelled out, so that a printed command line means the same later.
    std::string line = "--model " + shellQuote(args.value("model", "gpt2-124m"));
    for (const auto& [name, v] : args.options) {
        const bool model = isKnown(modelOptions(), name) && name != "model";
        const bool cluster = isKnown(clusterOptions(), name) && name != "gpu" && name != "nodes" && name != "gpus-per-node";
        if (model || cluster) line += " --" + name + " " + shellQuote(v);
    }
    line += " --gpu " + s.cluster.gpu.id + " --nodes " + std::to_string(s.cluster.nodes) + " --gpus-per-node "
        + std::to_string(s.cluster.gpusPerNode);
    s.modelAndClusterArgs = line;

    s.target = defaultTarget;
    if (args.has("target")) {
        auto t = parseTarget(args.value("target"));
        if (!t) throw UsageError("--target: expected meshwork or megatron, got \"" + args.value("target") + "\"");
        s.target = *t;
    }

    if (!args.has("dp")) {
        const int64_t world = s.cluster.worldSize();
        const int64_t others = static_cast<int64_t>(s.plan.tp) * s.plan.pp * s.plan.cp;
        if (others > 0 && world % others == 0) {
            s.plan.dp = static_cast<int>(world / others);
        } else {
            s.notes.push_back("--dp was not given and the cluster's " + std::to_string(world)
                              + " GPUs are not divisible by tp x pp x cp = " + std::to_string(others)
                              + ": give --dp, or change --nodes/--gpus-per-node");
        }
    }
    return s;
}

} // namespace meshwork::cli
