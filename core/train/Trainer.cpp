#include "core/train/Trainer.h"

#include "core/train/Fp16Step.h"
#include "core/train/RunFailure.h"
#include "core/train/StepMetrics.h"
#include "core/train/StepProfile.h"

#include "core/events/EventWriter.h"
#include "core/json/Json.h"
#include "core/spec/Flops.h"
#include "core/train/Checkpoint.h"
#include "core/train/Device.h"
#include "core/train/LrSchedule.h"
#include "core/train/Model.h"
#include "core/train/Optimizer.h"
#include "core/train/PlannerPrediction.h"
#include "core/train/ParameterLayout.h"
#include "core/train/ReferenceDump.h"
#include "core/train/TokenData.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <new>

#include <unistd.h>

namespace meshwork {

int exitCode(const RunResult& r)
{
    switch (r.status) {
    case RunStatus::Completed: return 0;
    case RunStatus::Cancelled: return 3;
    case RunStatus::Failed: return r.errorKind == TrainErrorKind::Config ? 2 : 1;
    }
    return 1;
}

RunResult endCancelled(EventWriter& events, int64_t stepsDone)
{
    events.log("info", "stop requested: checkpointed at step " + std::to_string(stepsDone));
    events.runEnd("cancelled", stepsDone);
    RunResult result;
    result.status = RunStatus::Cancelled;
    result.steps = stepsDone;
    return result;
}

Trainer::Trainer(const TrainConfig& config, const TrainContext& context, EventWriter& events)
    : m_config(config), m_context(context), m_events(events)
{
}

RunResult Trainer::run()
{
    try {
        return runUnguarded();
    } catch (...) {
        const RunFailure f = describeCurrentFailure(m_config, m_context.groups.worldSize, m_context.groups.localRank);
        RunResult failed;
        failed.status = RunStatus::Failed;
        failed.errorKind = f.kind;
        failed.steps = m_stepsDone;
        m_events.error(toString(f.kind), f.message, f.extra);
        m_events.runEnd("failed", m_stepsDone);
        return failed;
    }
}

namespace {

std::string defaultRunId()
{
    char buf[64];
    const std::time_t now = std::time(nullptr);
    std::strftime(buf, sizeof buf, "run-%Y%m%d-%H%M%S", std::gmtime(&now));
    return buf;
}

} // namespace

RunResult Trainer::runUnguarded()
{
    const TrainConfig& c = m_config;
    const ProcessGroups& g = m_context.groups;
    const Plan& plan = c.plan;
    if (c.threads > 0) at::set_num_threads(c.threads);

    const c10::Device device = selectDevice(c.device, g.localRank);
    const DeviceInfo info = describeDevice(device);
    const int64_t B = plan.microBatch, T = plan.seq;
    const int64_t microBatches = plan.microBatches();

    TokenDataset data = loadDataset(c.data, c.model.vocab, c.seed, c.valFraction);
    auto loader = [&](const std::vector<int32_t>& tokens, const char* split) {
        try {
            return TokenLoader(tokens, B, T, g.dpRank, g.dpSize, split);
        } catch (const TrainError& e) {
            throw TrainError(e.kind(), data.description + ": " + e.what()); // name the file too
        }
    };
    TokenLoader trainLoader = loader(data.train, "training");
    TokenLoader valLoader = loader(data.val, "validation");

    TransformerModel model(c.model, plan.recompute, device);
    const int64_t expected = c.model.allocatedParameterCount();
    if (model.parameterCount() != expected)
        throw TrainError(TrainErrorKind::Internal, "the model allocates " + std::to_string(model.parameterCount())
                         + " parameters, the planner counts " + std::to_string(expected));
    model.initialize(c.seed);

    std::vector<int32_t> inputs(static_cast<size_t>(B * T)), targets(static_cast<size_t>(B * T));
    if (!c.dumpReference.empty()) {
        trainLoader.next(inputs.data(), targets.data());
        const double loss = dumpReference(c.dumpReference, model, inputs, targets, B, T);
        m_events.log("info", "wrote the reference dump to " + c.dumpReference + " (loss "
                                 + formatJsonNumber(loss) + ")");
        m_events.runEnd("completed", 0);
        return RunResult{RunStatus::Completed, 0, TrainErrorKind::Internal, loss, -1};
    }

    OptimizerConfig oc;
    oc.kind = plan.optimizer;
    oc.beta1 = c.beta1;
    oc.beta2 = c.beta2;
    oc.eps = c.eps;
    oc.weightDecay = c.weightDecay;
    oc.momentum = c.momentum;
    oc.larsTrust = c.larsTrust;
    FlatOptimizer optimizer(oc, model.layout(), model.flatParams(), model.flatGrads());

    LoopState state;
    state.runId = c.runId.empty() ? defaultRunId() : c.runId;
    state.lossScale = plan.precision == Precision::Fp16 ? 65536.0 : 1.0;
    std::string resumedFrom;
    if (c.resume) {
        resumedFrom = c.resumeFrom.empty() ? latestCheckpoint(c.checkpointDir) : c.resumeFrom;
        if (resumedFrom.empty())
            throw TrainError(TrainErrorKind::Config, "--resume: no checkpoint (step_*.ckpt) in " + c.checkpointDir
                             + "; give --checkpoint-dir of the run or --resume=FILE");
        const std::string id = state.runId;
        state = loadCheckpoint(resumedFrom, model, optimizer);
        if (!c.runId.empty()) state.runId = id;
        trainLoader.setPosition(state.trainPosition);
    }
    m_stepsDone = state.step;

    // run_start: the plan with every option (same names as the CLI), the environment.
    const double flopsPerToken = trainingFlopsPerToken(c.model, T);
    const TrainBuffers buffers = trainBuffers(c.model, plan);
    Json planJson = plan.toJson();
    planJson.set("model", c.model.toJson()).set("training", c.toJson());
    Json start = Json::object();
    start.set("run_id", state.runId).set("plan", planJson).set("world_size", g.worldSize);
    start.set("hosts", Json::array()); start["hosts"].push(hostName());
    start.set("devices", Json::array()); start["devices"].push(info.name);
    start.set("torch", torchVersion()).set("cuda", cudaVersion()).set("nccl", ncclVersion());
    start.set("trainer", kTrainerVersion).set("parameters", model.parameterCount());
    start.set("flops_per_token", flopsPerToken).set("data", data.description);
    start.set("gpu", info.gpu ? Json(info.gpu->id) : Json());
    start.set("buffers_gib", static_cast<double>(buffers.totalBytes()) / (1024.0 * 1024.0 * 1024.0));
    if (!resumedFrom.empty()) start.set("resumed_from", resumedFrom).set("resumed_step", state.step);
    if (Json predicted = plannerPrediction(c, g.worldSize, 0, device); !predicted.isNull()) start.set("predicted", predicted);
    m_events.write("run_start", start);

    const LrSchedule schedule{c.lr, c.effectiveMinLr(), c.warmup, std::max<int64_t>(1, c.steps)};
    const double peak = info.gpu ? info.gpu->peakTflops(plan.precision) : 0.0;
    const int64_t tokensPerStep = plan.tokensPerStep();
    const bool fp16 = plan.precision == Precision::Fp16;

    auto evaluate = [&](int64_t step) {
        at::NoGradGuard noGrad;
        valLoader.setPosition(0); // the same held-out batches every time
        at::Tensor sum = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device));
        for (int64_t i = 0; i < c.evalBatches; ++i) {
            valLoader.next(inputs.data(), targets.data());
            AutocastScope autocast(device, plan.precision);
            const at::Tensor x = tokensToDevice(inputs.data(), B, T, device), y = tokensToDevice(targets.data(), B, T, device);
            sum += model.loss(x, y).detach().to(at::kFloat);
        }
        const double v = sum.item<double>() / static_cast<double>(c.evalBatches);
        m_events.eval(step, v);
        return v;
    };
    auto checkpoint = [&]() {
        state.step = m_stepsDone;
        state.trainPosition = trainLoader.position();
        const std::string path = saveCheckpoint(c.checkpointDir, state, model, optimizer);
        m_events.checkpoint(m_stepsDone, path);
    };

    RunResult result;
    int64_t lastEval = -1;
    synchronize(device);
    auto last = std::chrono::steady_clock::now();
    StepProfile profile(c.profilePath, 0, state.step + 1, c.steps, device);
    for (int64_t step = state.step + 1; step <= c.steps; ++step) {
        profile.beginStep(step);
        if (m_context.stopping()) {
            checkpoint();
            return endCancelled(m_events, m_stepsDone);
        }

        // Forward and backward over the micro-batches; gradients accumulate in the flat buffer.
        model.zeroGrad();
        at::Tensor lossSum = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device));
        for (int64_t mb = 0; mb < microBatches; ++mb) {
            trainLoader.next(inputs.data(), targets.data());
            const at::Tensor x = tokensToDevice(inputs.data(), B, T, device), y = tokensToDevice(targets.data(), B, T, device);
            at::Tensor loss;
            {
                AutocastScope autocast(device, plan.precision);
                loss = model.loss(x, y);
            }
            lossSum += loss.detach();
            at::Tensor scaled = loss / static_cast<double>(microBatches);
            if (fp16) scaled = scaled * state.lossScale;
            scaled.backward();
        }
        // The one host sync of the step: loss and gradient norm in a single transfer.
        const at::Tensor norm = model.flatGrads().norm();
        const auto waitFrom = std::chrono::steady_clock::now();
        const at::Tensor both = at::stack({lossSum / static_cast<double>(microBatches), norm}).to(at::kCPU);
        const double hostWaitMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - waitFrom).count();
        const double lossValue = both[0].item<double>();
        double gradNorm = both[1].item<double>();
        m_stepsDone = step;

        bool skip = false;
        if (fp16) skip = finishFp16Step(state, model.flatGrads(), gradNorm, step, m_events);
        if (!std::isfinite(lossValue) || (!fp16 && !std::isfinite(gradNorm))) {
            const std::string what = std::string(!std::isfinite(lossValue) ? "loss" : "gradient norm") + " is "
                + (std::isnan(!std::isfinite(lossValue) ? lossValue : gradNorm) ? "NaN" : "infinite")
                + " at step " + std::to_string(step);
            if (!c.skipNonfinite)
                throw TrainError(TrainErrorKind::Nan, what + "; lower --lr, raise --warmup, use --precision bf16, "
                                 "or pass --skip-nonfinite to skip such steps");
            m_events.log("warning", what + "; step skipped (--skip-nonfinite)");
            skip = true;
        }
        const double lr = schedule.at(step);
        if (!skip) {
            if (c.gradClip > 0 && gradNorm > c.gradClip) {
                at::NoGradGuard noGrad;
                model.flatGrads().mul_(c.gradClip / (gradNorm + 1e-6));
            }
            optimizer.step(lr);
        }

        const auto now = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(now - last).count();
        last = now;
        if (std::isfinite(lossValue)) {
            const StepTiming timing{tokensPerStep, seconds, flopsPerToken, g.worldSize, peak};
            StepEvent event = makeStepEvent(step, lossValue, lr, gradNorm, timing, peakMemoryGiB(device));
            if (device.is_cuda()) event.hostWaitMs = hostWaitMs; // on the CPU nothing runs ahead to wait for
            m_events.step(event);
            result.lastLoss = lossValue;
        }
        if (profile.endStep(step)) last = std::chrono::steady_clock::now(); // the trace's save is no step's time
        if (c.evalEvery > 0 && step % c.evalEvery == 0) {
            result.lastValLoss = evaluate(step);
            lastEval = step;
            synchronize(device);
            last = std::chrono::steady_clock::now(); // evaluation time is not step time
        }
        if (c.checkpointEvery > 0 && step % c.checkpointEvery == 0) {
            checkpoint();
            last = std::chrono::steady_clock::now();
        }
    }
    if (lastEval != m_stepsDone && c.steps > 0) result.lastValLoss = evaluate(m_stepsDone);
    m_events.runEnd("completed", m_stepsDone);
    result.status = RunStatus::Completed;
    result.steps = m_stepsDone;
    return result;
}

} // namespace meshwork
