#include "core/train/dist/DistCheckpoint.h"

#include "core/spec/StageLayers.h"
#include "core/train/TrainError.h"
#include "core/train/TrainOptions.h"
#include "core/train/dist/Mesh.h"
#include "core/train/dist/TpOps.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace meshwork {

namespace {

namespace fs = std::filesystem;

constexpr const char* kManifest = "manifest.json";

std::string stepDirName(int64_t step)
{
    char name[32];
    std::snprintf(name, sizeof name, "step_%08lld", static_cast<long long>(step));
    return name;
}

std::string rankFile(const std::string& stepDir, int rank)
{
    char name[32];
    std::snprintf(name, sizeof name, "rank_%05d.ckpt", rank);
    return (fs::path(stepDir) / name).string();
}

// Every rank says whether its part of a collective file operation failed; returns how many
// did, so that all ranks fail together instead of some waiting in the next collective.
int failedRanks(Mesh& mesh, bool failed, c10::Device device, const char* what)
{
    at::Tensor t = at::full({1}, failed ? 1.0f : 0.0f, at::TensorOptions().dtype(at::kFloat).device(device));
    allReduceInPlace(mesh, mesh.world(), t, what);
    return static_cast<int>(t.item<float>() + 0.5f);
}

c10::Device deviceOf(const DistCheckpointPart& part)
{
    return part.tensors.empty() ? c10::Device(c10::kCPU) : part.tensors.front().second.device();
}

// The fields of the world layout a checkpoint depends on, in the order messages name them.
struct LayoutField {
    const char* key;
    const char* flag;
    std::string value;
};

std::vector<LayoutField> layoutOf(const TrainConfig& c, int worldSize)
{
    const Plan& p = c.plan;
    return {{"world_size", nullptr, std::to_string(worldSize)},
            {"dp", "--dp", std::to_string(p.dp)},
            {"tp", "--tp", std::to_string(p.tp)},
            {"pp", "--pp", std::to_string(p.pp)},
            {"vpp", "--vpp", std::to_string(p.vpp)},
            {"cp", "--cp", std::to_string(p.cp)},
            {"zero", "--zero", std::to_string(p.zero)},
            {"order", "--order", p.order},
            {"optimizer", "--optimizer", toString(p.optimizer)},
            // Which layers each pipeline stage holds: its parts hold those layers' tensors.
            {"stage_layers", "--stage-layers", p.stageLayers.empty() ? "even" : formatStageLayers(p.stageLayers)}};
}

std::string fieldText(const Json* v)
{
    if (!v) return "?";
    if (v->isString()) return v->asString();
    if (v->isNumber()) return formatJsonNumber(v->asNumber());
    return v->dump();
}

Json readManifest(const std::string& stepDir)
{
    const std::string path = (fs::path(stepDir) / kManifest).string();
    std::ifstream in(path);
    if (!in)
        throw TrainError(TrainErrorKind::Config, "--resume: " + stepDir + " has no " + kManifest
                                                     + " (not a distributed checkpoint, or one cut short)");
    std::stringstream text;
    text << in.rdbuf();
    std::string error;
    auto manifest = Json::parse(text.str(), &error);
    if (!manifest || !manifest->isObject())
        throw TrainError(TrainErrorKind::Io, "checkpoint manifest " + path + " is damaged: " + error);
    return std::move(*manifest);
}

} // namespace

std::string saveDistCheckpoint(const std::string& dir, const LoopState& state, const TrainConfig& config, Mesh& mesh,
                               int rank, const DistCheckpointPart& part)
{
    const std::string stepDir = (fs::path(dir) / stepDirName(state.step)).string();
    const c10::Device device = deviceOf(part);
    std::string error;
    try {
        std::error_code ec;
        fs::create_directories(stepDir, ec);
        if (ec) throw TrainError(TrainErrorKind::Io, "checkpoint " + stepDir + ": cannot create the directory: " + ec.message());
        Json header = Json::object();
        header.set("format", 1).set("run_id", state.runId).set("step", state.step).set("rank", rank);
        header.set("train_position", state.trainPosition).set("loss_scale", state.lossScale);
        header.set("good_steps", state.goodSteps).set("optimizer", toString(config.plan.optimizer));
        header.set("optimizer_step", part.optimizerStep);
        writeCheckpointFile(rankFile(stepDir, rank), std::move(header), part.tensors);
    } catch (const TrainError& e) {
        error = e.what();
    }
    if (const int failed = failedRanks(mesh, !error.empty(), device, "checkpoint agreement")) {
        if (!error.empty()) throw TrainError(TrainErrorKind::Io, error);
        throw TrainError(TrainErrorKind::Io, std::to_string(failed) + " other rank(s) could not write their part of "
                                                 + stepDir + " (their error events say why)");
    }
    // Every part is in place: the manifest makes the checkpoint count.
    if (rank == 0) {
        try {
            Json manifest = Json::object();
            manifest.set("format", 1).set("kind", "meshwork distributed checkpoint").set("run_id", state.runId);
            manifest.set("step", state.step);
            const Plan& p = config.plan;
            manifest.set("world_size", mesh.world().size()).set("dp", p.dp).set("tp", p.tp).set("pp", p.pp);
            manifest.set("vpp", p.vpp).set("cp", p.cp).set("zero", p.zero).set("order", p.order);
            manifest.set("optimizer", toString(p.optimizer));
            manifest.set("stage_layers", p.stageLayers.empty() ? "even" : formatStageLayers(p.stageLayers));
            manifest.set("parameters", config.model.allocatedParameterCount()).set("model", config.model.toJson());
            writeTextFileAtomically((fs::path(stepDir) / kManifest).string(), manifest.dump(2) + "\n");
        } catch (const TrainError& e) {
            error = e.what();
        }
    }
    if (failedRanks(mesh, !error.empty(), device, "checkpoint manifest agreement")) {
        if (!error.empty()) throw TrainError(TrainErrorKind::Io, error);
        throw TrainError(TrainErrorKind::Io, "rank 0 could not write the manifest of " + stepDir);
    }
    return stepDir;
}

std::string latestDistCheckpoint(const std::string& dir)
{
    std::error_code ec;
    std::string best;
    if (!fs::is_directory(dir, ec)) return best;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        // step_NNNNNNNN sorts by step; only a directory with its manifest is complete.
        if (name.rfind("step_", 0) != 0 || !entry.is_directory(ec)) continue;
        if (!fs::exists(entry.path() / kManifest, ec)) continue;
        const std::string p = entry.path().string();
        if (best.empty() || p > best) best = p;
    }
    return best;
}

std::string distResumeDirectory(const TrainConfig& config)
{
    if (!config.resumeFrom.empty()) {
        fs::path p(config.resumeFrom);
        if (p.filename() == kManifest) p = p.parent_path();
        std::error_code ec;
        if (!fs::is_directory(p, ec))
            throw TrainError(TrainErrorKind::Config, "--resume=" + config.resumeFrom
                             + ": a distributed run resumes from a step_NNNNNNNN directory with a manifest.json "
                               "(a single-process .ckpt file holds another layout)");
        return p.string();
    }
    const std::string latest = latestDistCheckpoint(config.checkpointDir);
    if (latest.empty())
        throw TrainError(TrainErrorKind::Config, "--resume: no complete distributed checkpoint (step_*/" + std::string(kManifest)
                                                     + ") in " + config.checkpointDir
                                                     + "; give --checkpoint-dir of the run or --resume=DIR");
    return latest;
}

void checkDistManifest(const std::string& stepDir, const TrainConfig& config, int worldSize)
{
    const Json manifest = readManifest(stepDir);
    std::string differs, was, now, flags;
    for (const LayoutField& f : layoutOf(config, worldSize)) {
        // Checkpoints from before stage-layers split evenly.
        const Json* v = manifest.find(f.key);
        const std::string stored = !v && std::string(f.key) == "stage_layers" ? "even" : fieldText(v);
        was += std::string(was.empty() ? "" : ", ") + f.key + " " + stored;
        now += std::string(now.empty() ? "" : ", ") + f.key + " " + f.value;
        if (stored == f.value) continue;
        differs += std::string(differs.empty() ? "" : ", ") + f.key;
        if (f.flag) flags += std::string(flags.empty() ? "" : " ") + f.flag + " " + stored;
    }
    if (!differs.empty())
        throw TrainError(TrainErrorKind::Config, "--resume: checkpoint " + stepDir + " was written by a run with " + was
                         + "; this run has " + now + " (" + differs + " differ" + (differs.find(',') == std::string::npos ? "s" : "")
                         + "): resume with " + (flags.empty() ? std::string() : flags + " on ")
                         + fieldText(manifest.find("world_size")) + " ranks (meshwork-cli run --nproc "
                         + fieldText(manifest.find("world_size")) + "), or start a new run with another --checkpoint-dir");
    const Json* params = manifest.find("parameters");
    const int64_t expected = config.model.allocatedParameterCount();
    if (!params || !params->isNumber() || static_cast<int64_t>(params->asNumber()) != expected)
        throw TrainError(TrainErrorKind::Config, "--resume: checkpoint " + stepDir + " holds a model of "
                         + fieldText(params) + " parameters, this run's has " + std::to_string(expected)
                         + ": resume with the same --model and dimensions");
}

LoopState loadDistCheckpoint(const std::string& stepDir, const TrainConfig& config, Mesh& mesh, int rank,
                             DistCheckpointPart& part)
{
    // The manifest is the same file for every rank: a mismatch throws on all of them alike.
    checkDistManifest(stepDir, config, mesh.world().size());
    const int64_t manifestStep = static_cast<int64_t>(readManifest(stepDir).find("step")->asNumber());
    LoopState s;
    std::string error;
    TrainErrorKind kind = TrainErrorKind::Io;
    try {
        const std::string path = rankFile(stepDir, rank);
        CheckpointReader reader(path);
        reader.read(part.tensors);
        s.step = static_cast<int64_t>(reader.number("step"));
        if (s.step != manifestStep)
            throw TrainError(TrainErrorKind::Io, "checkpoint " + path + " is of step " + std::to_string(s.step)
                                                     + ", its manifest of step " + std::to_string(manifestStep));
        s.trainPosition = static_cast<int64_t>(reader.number("train_position"));
        s.lossScale = reader.number("loss_scale");
        s.goodSteps = static_cast<int64_t>(reader.number("good_steps"));
        if (const Json* id = reader.header().find("run_id"); id && id->isString()) s.runId = id->asString();
        part.optimizerStep = static_cast<int64_t>(reader.number("optimizer_step"));
    } catch (const TrainError& e) {
        error = e.what();
        kind = e.kind();
    }
    if (const int failed = failedRanks(mesh, !error.empty(), deviceOf(part), "resume agreement")) {
        if (!error.empty()) throw TrainError(kind, error);
        throw TrainError(TrainErrorKind::Io, std::to_string(failed) + " other rank(s) could not read their part of "
                                                 + stepDir + " (their error events say why)");
    }
    return s;
}

} // namespace meshwork
