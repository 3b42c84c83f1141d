#include "core/train/TrainOptions.h"

#include "core/json/Json.h"
#include "core/spec/Catalog.h"
#include "core/spec/SpecError.h"
#include "core/train/dist/DistOptions.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace meshwork {

const std::vector<OptionSpec>& trainOptions()
{
    static const std::vector<OptionSpec> o = {
        {"device", "cpu|cuda", "where to train (default cpu)"},
        {"data", "synthetic|FILE", "training data: the synthetic corpus, a text file (byte tokens) or an llm.c .bin token file"},
        {"steps", "N", "optimizer steps to run (default 100)"},
        {"lr", "X", "peak learning rate (default 6e-4)"},
        {"min-lr", "X", "final learning rate of the cosine schedule (default lr/10)"},
        {"warmup", "N", "linear warmup steps (default 0)"},
        {"weight-decay", "X", "decoupled weight decay on matrices and embeddings (default 0.1)"},
        {"grad-clip", "X", "clip gradients to this global norm; 0 turns it off (default 1)"},
        {"beta1", "X", "Adam/LAMB first-moment decay (default 0.9)"},
        {"beta2", "X", "Adam/LAMB second-moment decay (default 0.95)"},
        {"eps", "X", "Adam/LAMB epsilon (default 1e-8)"},
        {"momentum", "X", "LARS/SGD momentum (default 0.9)"},
        {"lars-trust", "X", "LARS trust coefficient (default 0.001)"},
        {"seed", "N", "seed of the initial weights and the synthetic corpus (default 1337)"},
        {"eval-every", "N", "validation every N steps (0: only at the end)"},
        {"eval-batches", "N", "micro-batches per validation (default 4)"},
        {"val-fraction", "F", "share of the data held out for validation (default 0.1)"},
        {"checkpoint-every", "N", "checkpoint every N steps (0: only on SIGTERM)"},
        {"checkpoint-dir", "DIR", "where checkpoints go (default ./checkpoints)"},
        {"resume", "", "continue from the newest checkpoint in --checkpoint-dir (or --resume=FILE)"},
        {"events", "FILE", "append JSON-lines events to FILE (rank 0 also prints them)"},
        {"run-id", "ID", "the run's id in events and checkpoints"},
        {"skip-nonfinite", "", "skip a step whose loss or gradients are NaN/inf instead of failing"},
        {"threads", "N", "CPU threads for LibTorch (default: LibTorch's choice)"},
        {"profile", "FILE", "write a Chrome trace of the run's third step (ops; on a GPU also kernels) to FILE (rank N: FILE.rankN)"},
        {"dump-reference", "DIR", "(testing) write initial weights, one batch, loss and gradients to DIR and stop"},
        {"help", "", "print this help"},
    };
    return o;
}

std::vector<OptionSpec> allTrainerOptions()
{
    std::vector<OptionSpec> all = modelOptions();
    all.insert(all.end(), planOptions().begin(), planOptions().end());
    all.insert(all.end(), trainOptions().begin(), trainOptions().end());
    all.insert(all.end(), distOptions().begin(), distOptions().end()); // issue #4: rank, rendezvous
    return all;
}

std::string trainUsage()
{
    return "usage: meshwork-train --model NAME [options]\n\nmodel:\n" + formatOptionHelp(modelOptions())
        + "\nplan:\n" + formatOptionHelp(planOptions()) + "\ntraining:\n" + formatOptionHelp(trainOptions())
        + "\ndistributed (or torchrun's / Slurm's variables):\n" + formatOptionHelp(distOptions())
        + "\nexit codes: 0 completed, 1 failed, 2 bad flags or configuration, 3 cancelled (SIGTERM)\n";
}

namespace {

int64_t intValue(const ParsedArgs& a, const std::string& name, int64_t fallback, int64_t min)
{
    if (!a.has(name)) return fallback;
    const std::string v = a.value(name);
    int64_t out = 0;
    auto res = std::from_chars(v.data(), v.data() + v.size(), out);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size())
        throw SpecError("--" + name + ": expected a whole number, got \"" + v + "\"");
    if (out < min)
        throw SpecError("--" + name + " must be at least " + std::to_string(min) + " (got " + v + ")");
    return out;
}

double numberValue(const ParsedArgs& a, const std::string& name, double fallback, double min, double max)
{
    if (!a.has(name)) return fallback;
    const std::string v = a.value(name);
    double out = 0;
    auto res = std::from_chars(v.data(), v.data() + v.size(), out);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size() || !std::isfinite(out))
        throw SpecError("--" + name + ": expected a number, got \"" + v + "\"");
    if (out < min || out > max)
        throw SpecError("--" + name + " must be between " + formatJsonNumber(min) + " and " + formatJsonNumber(max)
                        + " (got " + v + ")");
    return out;
}

} // namespace

TrainConfig parseTrainConfig(const std::vector<std::string>& args, bool* help)
{
    const ParsedArgs a = parseArgs(args, allTrainerOptions());
    if (help) *help = a.has("help");
    if (a.has("help")) return {};
    if (!a.positional.empty())
        throw SpecError("unexpected argument \"" + a.positional.front() + "\": options start with -- (see --help)");
    if (!a.has("model"))
        throw SpecError("--model is required: a catalog model (" + modelNames() + ") or a config.json");

    TrainConfig c;
    applyModelOptions(a, c.model);
    applyPlanOptions(a, c.plan);
    // The plan's default sequence (1024) is longer than small models allow: default to theirs.
    if (!a.has("seq")) c.plan.seq = std::min(c.plan.seq, c.model.maxSeq);
    if (!a.has("precision")) c.plan.precision = a.value("device", "cpu") == "cuda" ? Precision::Bf16 : Precision::Fp32;

    c.device = a.value("device", c.device);
    if (c.device != "cpu" && c.device != "cuda")
        throw SpecError("--device: expected cpu or cuda, got \"" + c.device + "\"");
    c.data = a.value("data", c.data);
    if (c.data.empty()) throw SpecError("--data: expected synthetic or a file path");
    c.steps = intValue(a, "steps", c.steps, 0);
    c.lr = numberValue(a, "lr", c.lr, 0, 1e6);
    c.minLr = numberValue(a, "min-lr", c.minLr, 0, 1e6);
    c.warmup = intValue(a, "warmup", c.warmup, 0);
    c.weightDecay = numberValue(a, "weight-decay", c.weightDecay, 0, 1e6);
    c.gradClip = numberValue(a, "grad-clip", c.gradClip, 0, 1e30);
    c.beta1 = numberValue(a, "beta1", c.beta1, 0, 0.999999);
    c.beta2 = numberValue(a, "beta2", c.beta2, 0, 0.999999);
    c.eps = numberValue(a, "eps", c.eps, 0, 1);
    c.momentum = numberValue(a, "momentum", c.momentum, 0, 0.999999);
    c.larsTrust = numberValue(a, "lars-trust", c.larsTrust, 0, 1e6);
    c.seed = static_cast<uint64_t>(intValue(a, "seed", static_cast<int64_t>(c.seed), 0));
    c.evalEvery = intValue(a, "eval-every", c.evalEvery, 0);
    c.evalBatches = intValue(a, "eval-batches", c.evalBatches, 1);
    c.valFraction = numberValue(a, "val-fraction", c.valFraction, 0.001, 0.5);
    c.checkpointEvery = intValue(a, "checkpoint-every", c.checkpointEvery, 0);
    c.checkpointDir = a.value("checkpoint-dir", c.checkpointDir);
    c.resume = a.has("resume");
    c.resumeFrom = a.value("resume");
    c.eventsPath = a.value("events");
    c.runId = a.value("run-id");
    c.skipNonfinite = a.has("skip-nonfinite");
    c.threads = static_cast<int>(intValue(a, "threads", 0, 0));
    c.dumpReference = a.value("dump-reference");
    c.profilePath = a.value("profile");

    // The plan against the model: every violated constraint, each with its numbers.
    auto problems = c.plan.validate(c.model, nullptr);
    // What the distributed trainer (core/train/dist, issue #4) cannot run yet; the world size
    // against the launch is checked in main (checkWorldSize).
    for (auto& p : unsupportedParallelism(c.plan)) problems.push_back(std::move(p));
    if (c.device == "cpu" && c.plan.precision != Precision::Fp32)
        problems.push_back(std::string("--precision ") + toString(c.plan.precision)
                           + " needs --device cuda; on the CPU use --precision fp32");
    if (!c.dumpReference.empty() && (c.device != "cpu" || c.plan.precision != Precision::Fp32))
        problems.push_back("--dump-reference needs --device cpu and --precision fp32");
    if (c.warmup > c.steps && c.steps > 0)
        problems.push_back("--warmup (" + std::to_string(c.warmup) + ") must not exceed --steps ("
                           + std::to_string(c.steps) + ")");
    if (!problems.empty()) {
        std::string msg;
        for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
        throw SpecError(msg);
    }
    return c;
}

Json TrainConfig::toJson() const
{
    Json j = Json::object();
    j.set("device", device).set("data", data).set("steps", steps).set("lr", lr).set("min_lr", effectiveMinLr());
    j.set("warmup", warmup).set("weight_decay", weightDecay).set("grad_clip", gradClip);
    j.set("beta1", beta1).set("beta2", beta2).set("eps", eps).set("momentum", momentum).set("lars_trust", larsTrust);
    j.set("seed", static_cast<double>(seed)).set("eval_every", evalEvery).set("eval_batches", evalBatches);
    j.set("val_fraction", valFraction).set("checkpoint_every", checkpointEvery).set("checkpoint_dir", checkpointDir);
    j.set("resume", resume).set("skip_nonfinite", skipNonfinite);
    return j;
}

} // namespace meshwork
