#include "app/cli/PlanCommands.h"

#include "app/cli/AtomicFile.h"
#include "app/cli/CliSetup.h"
#include "app/cli/PlanTable.h"
#include "core/json/Json.h"
#include "core/planner/Export.h"
#include "core/planner/Search.h"
#include "core/spec/Catalog.h"
#include "core/spec/SpecError.h"

#include <algorithm>
#include <optional>

namespace meshwork::cli {

namespace {

const OptionSpec kHelp{"help", "", "show this help"};
const OptionSpec kJson{"json", "", "print JSON instead of a table"};
const OptionSpec kTarget{"target", "meshwork|megatron",
                         "memory model: Meshwork's trainer (exact) or a Megatron-LM-style framework"};
const OptionSpec kTokens{"tokens", "N", "also print time and cost to train N tokens (300B, 1.5T, 2e12)"};

std::vector<OptionSpec> searchPlanOptions()
{
    // What a search keeps fixed; it varies the layout, ZeRO, recomputation and micro-batch.
    std::vector<OptionSpec> out;
    for (const auto& o : planOptions())
        if (o.name == "seq" || o.name == "global-batch" || o.name == "precision" || o.name == "grad-reduce"
            || o.name == "optimizer")
            out.push_back(o);
    return out;
}

std::vector<OptionSpec> planCommandOptions() { return concat({modelOptions(), clusterOptions(), planOptions(), {kTarget, kTokens, kJson, kHelp}}); }
std::vector<OptionSpec> searchCommandOptions()
{
    return concat({modelOptions(), clusterOptions(), searchPlanOptions(),
                   {kTarget, {"top", "N", "show the N best plans (default 20)"}, kJson, kHelp}});
}
std::vector<OptionSpec> exportOnlyOptions()
{
    return {{"to", "megatron|deepspeed|colossalai|torchtitan", "the framework to write for (required)"},
            {"out", "FILE", "write to FILE, whole or not at all (- is stdout)"},
            {"target", "meshwork|megatron", "memory model used to check the plan (default megatron)"},
            {"force", "", "export even when the estimate says the plan does not fit"},
            kHelp};
}
std::vector<OptionSpec> exportCommandOptions() { return concat({modelOptions(), clusterOptions(), planOptions(), exportOnlyOptions()}); }
std::vector<OptionSpec> catalogCommandOptions() { return {kJson, kHelp}; }

const char* kModelDefaults = "  (default: gpt2-124m)\n";
const char* kClusterDefaults = "  (default: 1 node x 8 h100-sxm)\n";
const char* kPlanDefaults =
    "  (defaults: tp, pp, cp, vpp 1; without --dp, dp = GPUs / (tp x pp x cp) when that divides;\n"
    "   micro-batch 1, global batch micro-batch x dp, seq 1024 or the model's maximum if shorter,\n"
    "   bf16, adamw)\n";

std::string section(const char* title, const std::vector<OptionSpec>& options, const char* note = "")
{
    return std::string("\n") + title + ":\n" + formatOptionHelp(options) + note;
}

std::vector<std::string> formatNames()
{
    return {"megatron", "deepspeed", "colossalai", "torchtitan"};
}

std::optional<double> tokensOption(const ParsedArgs& args)
{
    if (!args.has("tokens")) return std::nullopt;
    return parseTokenCount("tokens", args.value("tokens"));
}

// The dp note (no --dp and the world does not divide) makes the plan invalid as well.
Estimate estimateWithNotes(const Setup& st)
{
    Estimate e = estimate(st.model, st.cluster, st.plan, st.target);
    for (const auto& n : st.notes) e.errors.push_back(n);
    if (!st.notes.empty()) e.valid = false;
    return e;
}

} // namespace

std::string planningCommandHelp(const std::string& command)
{
    if (command == "plan")
        return "usage: meshwork-cli plan [options]\n\n"
               "Estimates one plan: memory per GPU and pipeline stage (each term, against the GPU's capacity),\n"
               "the step-time breakdown, tokens/s, TFLOPS per GPU and MFU, and every violated constraint.\n"
               "Exit code: 0 the plan is valid, 1 it is invalid (each error is listed with its numbers),\n"
               "2 bad arguments.\n"
            + section("Model", modelOptions(), kModelDefaults) + section("Cluster", clusterOptions(), kClusterDefaults)
            + section("Plan", planOptions(), kPlanDefaults) + section("Output", {kTarget, kTokens, kJson, kHelp})
            + "\nExample: meshwork-cli plan --model llama2-70b --nodes 8 --tp 8 --pp 2 --sp --zero 1 \\\n"
              "           --recompute selective --global-batch 512 --seq 4096 --tokens 2T --price 2.5\n";
    if (command == "search")
        return "usage: meshwork-cli search [options]\n\n"
               "Estimates every layout of the model on the cluster (dp, tp, pp, vpp, cp, sp, ZeRO, offload,\n"
               "recomputation, micro-batch) and lists the valid ones, fastest first, with the Pareto front of\n"
               "tokens/s against memory headroom marked.\n"
               "Exit code: 0 at least one plan fits, 1 none does, 2 bad arguments.\n"
            + section("Model", modelOptions(), kModelDefaults) + section("Cluster", clusterOptions(), kClusterDefaults)
            + section("Fixed during the search", searchPlanOptions(),
                      "  (defaults: seq 1024 or the model's maximum if shorter, global batch = number of GPUs,\n"
                      "   bf16, adamw)\n")
            + section("Output", {kTarget, {"top", "N", "show the N best plans (default 20)"}, kJson, kHelp});
    if (command == "export")
        return "usage: meshwork-cli export --to megatron|deepspeed|colossalai|torchtitan [options]\n\n"
               "Writes the plan for another framework: Megatron-LM pretrain_gpt.py arguments (a torchrun\n"
               "script), DeepSpeed ds_config.json with its launch line, Colossal-AI HybridParallelPlugin and\n"
               "Booster code, or a torchtitan job TOML. What the framework cannot express is said in a comment.\n"
               "Exit code: 0 written, 1 the plan is invalid (the errors are listed; --force exports a plan that\n"
               "only fails the memory check), 2 bad arguments or an unwritable --out.\n"
            + section("Model", modelOptions(), kModelDefaults) + section("Cluster", clusterOptions(), kClusterDefaults)
            + section("Plan", planOptions(), kPlanDefaults)
            + section("Export", exportOnlyOptions());
    if (command == "models")
        return "usage: meshwork-cli models [--json]\n\nLists the built-in model catalog (use a name with --model).\n"
            + section("Options", catalogCommandOptions());
    if (command == "gpus")
        return "usage: meshwork-cli gpus [--json]\n\nLists the built-in GPU catalog (use an id with --gpu).\n"
            + section("Options", catalogCommandOptions());
    return {};
}

int runPlanCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    const ParsedArgs parsed = parseCommandArgs("plan", args, planCommandOptions());
    if (parsed.has("help")) {
        out << planningCommandHelp("plan");
        return kOk;
    }
    const Setup st = resolveSetup(parsed, Target::Meshwork);
    const auto tokens = tokensOption(parsed);
    const Estimate e = estimateWithNotes(st);
    if (parsed.has("json")) out << estimateToJson(e).dump(2) << "\n";
    else out << formatEstimate(st, e, tokens);
    if (!e.valid)
        err << "meshwork-cli plan: the plan is invalid (" << e.errors.size()
            << (e.errors.size() == 1 ? " error" : " errors") << (parsed.has("json") ? " in \"errors\")\n" : " listed above)\n");
    return e.valid ? kOk : kInvalidPlan;
}

int runSearchCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    const ParsedArgs parsed = parseCommandArgs("search", args, searchCommandOptions());
    if (parsed.has("help")) {
        out << planningCommandHelp("search");
        return kOk;
    }
    const Setup st = resolveSetup(parsed, Target::Meshwork);
    const size_t top = parsed.has("top") ? static_cast<size_t>(parsePositive("top", parsed.value("top"))) : 20;

    SearchOptions options;
    options.target = st.target;
    options.base = st.plan;
    const SearchOutcome outcome = searchPlans(st.model, st.cluster, options);

    if (parsed.has("json")) {
        Json j = Json::object();
        j.set("model", st.model.name).set("gpu", st.cluster.gpu.id).set("nodes", st.cluster.nodes);
        j.set("gpus_per_node", st.cluster.gpusPerNode).set("target", toString(st.target));
        j.set("considered", static_cast<int64_t>(outcome.considered));
        j.set("found", static_cast<int64_t>(outcome.results.size()));
        Json results = Json::array();
        for (size_t i = 0; i < std::min(top, outcome.results.size()); ++i) {
            const SearchResult& r = outcome.results[i];
            Json item = Json::object();
            item.set("rank", static_cast<int64_t>(i + 1)).set("pareto", r.pareto).set("headroom_gib", r.headroomGiB);
            item.set("tokens_per_s", r.estimate.throughput.tokensPerS);
            item.set("plan", r.plan.toJson()).set("estimate", estimateToJson(r.estimate));
            results.push(std::move(item));
        }
        j.set("results", std::move(results));
        out << j.dump(2) << "\n";
    } else {
        out << formatSearch(st, outcome, top);
    }
    if (outcome.results.empty()) {
        // Say why when the fixed part already rules every layout out.
        std::string why;
        if (st.plan.seq > st.model.maxSeq)
            why = ": seq (" + std::to_string(st.plan.seq) + ") exceeds the model's maximum sequence ("
                + std::to_string(st.model.maxSeq) + ")";
        err << "meshwork-cli search: no plan fits " << st.model.name << " on " << st.cluster.worldSize() << " x "
            << st.cluster.gpu.id << why << "\n";
        return kInvalidPlan;
    }
    return kOk;
}

int runExportCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    const ParsedArgs parsed = parseCommandArgs("export", args, exportCommandOptions());
    if (parsed.has("help")) {
        out << planningCommandHelp("export");
        return kOk;
    }
    if (!parsed.has("to"))
        throw UsageError("--to is required: megatron, deepspeed, colossalai or torchtitan");
    const std::string to = parsed.value("to");
    const auto format = parseExportFormat(to);
    if (!format) {
        const std::string guess = nearest(to, formatNames());
        throw UsageError("--to: unknown format \"" + to + "\"" + (guess.empty() ? "" : " (did you mean " + guess + "?)")
                         + "; choose megatron, deepspeed, colossalai or torchtitan");
    }
    if (parsed.has("out") && parsed.value("out").empty()) throw UsageError("--out needs a file name");

    const Setup st = resolveSetup(parsed, Target::Megatron);
    const Estimate e = estimateWithNotes(st);
    // Structural errors make every framework refuse the plan; the memory check is the
    // estimate's and may be overridden.
    const auto structural = st.plan.validate(st.model, &st.cluster);
    if (!e.valid && (!parsed.has("force") || !structural.empty() || !st.notes.empty())) {
        err << "meshwork-cli export: the plan is invalid:\n";
        for (const auto& msg : e.errors) err << "  - " << msg << "\n";
        err << (structural.empty() && st.notes.empty()
                    ? "Fix it (meshwork-cli plan shows the estimate) or pass --force to export it anyway.\n"
                    : "Fix it; meshwork-cli plan shows the details.\n");
        return kInvalidPlan;
    }
    if (!e.valid)
        err << "meshwork-cli export: warning: exporting a plan that fails the memory check (--force): "
            << e.errors.front() << "\n";

    std::string text;
    try {
        text = exportPlan(st.model, st.cluster, st.plan, *format);
    } catch (const SpecError& ex) {
        err << "meshwork-cli export: " << ex.what() << "\n";
        return kInvalidPlan;
    }
    if (parsed.has("out") && parsed.value("out") != "-") {
        const bool script = *format == ExportFormat::Megatron || *format == ExportFormat::DeepSpeed;
        writeFileAtomically(parsed.value("out"), text, script);
        out << "wrote " << parsed.value("out") << " (" << toString(*format) << ", "
            << std::count(text.begin(), text.end(), '\n') << " lines)\n";
    } else {
        out << text;
    }
    return kOk;
}

int runModelsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream&)
{
    const ParsedArgs parsed = parseCommandArgs("models", args, catalogCommandOptions());
    if (parsed.has("help")) {
        out << planningCommandHelp("models");
        return kOk;
    }
    if (parsed.has("json")) {
        Json a = Json::array();
        for (const ModelSpec& m : modelCatalog()) {
            Json j = m.toJson();
            j.set("parameters", m.parameterCount());
            a.push(std::move(j));
        }
        out << a.dump(2) << "\n";
    } else {
        out << formatModelCatalog();
    }
    return kOk;
}

int runGpusCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream&)
{
    const ParsedArgs parsed = parseCommandArgs("gpus", args, catalogCommandOptions());
    if (parsed.has("help")) {
        out << planningCommandHelp("gpus");
        return kOk;
    }
    if (parsed.has("json")) {
        Json a = Json::array();
        for (const GpuSpec& g : gpuCatalog()) a.push(g.toJson());
        out << a.dump(2) << "\n";
    } else {
        out << formatGpuCatalog();
    }
    return kOk;
}

} // namespace meshwork::cli
