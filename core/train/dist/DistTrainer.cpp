#include "core/train/dist/DistTrainer.h"

#include "core/train/RunFailure.h"
#include "core/train/StepMetrics.h"
#include "core/train/StepProfile.h"
#include "core/events/EventWriter.h"
#include "core/json/Json.h"
#include "core/spec/Flops.h"
#include "core/train/Device.h"
#include "core/train/Fp16Step.h"
#include "core/train/LrSchedule.h"
#include "core/train/Model.h"
#include "core/train/Optimizer.h"
#include "core/train/ParameterLayout.h"
#include "core/planner/TrainerSupport.h"
#include "core/train/PlannerPrediction.h"
#include "core/train/TokenData.h"
#include "core/train/dist/DistCheckpoint.h"
#include "core/train/dist/EmbeddingRowSync.h"
#include "core/train/dist/GradientSync.h"
#include "core/train/dist/TpNormSum.h"
#include "core/train/dist/Mesh.h"
#include "core/train/dist/ShardedOptimizer.h"
#include "core/train/dist/Zero3.h"
#include "core/train/dist/ParallelModel.h"
#include "core/train/dist/PipelineRunner.h"
#include "core/train/dist/PipelineSchedule.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <new>

#include <unistd.h>

namespace meshwork {

DistTrainer::DistTrainer(const TrainConfig& config, const DistConfig& dist, const TrainContext& context,
                         EventWriter& events)
    : m_config(config), m_dist(dist), m_context(context), m_events(events)
{
}

RunResult DistTrainer::run()
{
    try {
        return runUnguarded();
    } catch (...) {
        const RunFailure f = describeCurrentFailure(m_config, m_dist.worldSize, m_context.groups.localRank);
        RunResult failed;
        failed.status = RunStatus::Failed;
        failed.errorKind = f.kind;
        failed.steps = m_stepsDone;
        m_events.error(toString(f.kind), "rank " + std::to_string(m_dist.rank) + ": " + f.message, f.extra);
        m_events.runEnd("failed", m_stepsDone);
        return failed;
    }
}

namespace {

// Sum over a group, in place (a no-op for a group of one).
void allReduceSum(Mesh& mesh, CommGroup& group, at::Tensor& t, const char* what)
{
    if (group.trivial()) return;
    std::vector<at::Tensor> v{t};
    c10d::AllreduceOptions opts;
    opts.timeout = mesh.timeout();
    mesh.wait(group.backend->allreduce(v, opts), group, what);
}

// Every pipeline stage's allocator peak (the largest over the stage's ranks), for rank 0's
// step events: each rank puts its own figure at its stage's index, a MAX all-reduce fills the rest.
std::vector<double> stagePeakMemory(Mesh& mesh, double mine, c10::Device device)
{
    CommGroup& world = mesh.world();
    at::Tensor v = at::zeros({mesh.group(Axis::Pp).size()}, at::TensorOptions().dtype(at::kDouble).device(device));
    v[mesh.index(Axis::Pp)].fill_(mine);
    if (!world.trivial()) {
        std::vector<at::Tensor> t{v};
        c10d::AllreduceOptions opts;
        opts.reduceOp = c10d::ReduceOp::MAX;
        opts.timeout = mesh.timeout();
        mesh.wait(world.backend->allreduce(t, opts), world, "stage memory all-reduce");
    }
    const at::Tensor host = v.to(at::kCPU);
    return {host.data_ptr<double>(), host.data_ptr<double>() + host.numel()};
}

} // namespace

void writeRawParameters(const std::string& path, const at::Tensor& flat)
{
    const at::Tensor host = flat.detach().to(at::kCPU, at::kFloat).contiguous();
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw TrainError(TrainErrorKind::Io, "--dump-params: cannot create " + tmp);
    const size_t n = static_cast<size_t>(host.numel());
    const bool ok = std::fwrite(host.data_ptr<float>(), 4, n, f) == n;
    if (std::fclose(f) != 0 || !ok) throw TrainError(TrainErrorKind::Io, "--dump-params: writing " + tmp + " failed");
    std::filesystem::rename(tmp, path);
}

RunResult DistTrainer::runUnguarded()
{
    const TrainConfig& c = m_config;
    const Plan& plan = c.plan;
    if (c.threads > 0) at::set_num_threads(c.threads);

    const c10::Device device = selectDevice(c.device, m_dist.localRank);
    Mesh mesh(plan, m_dist, device.is_cuda() ? CommDevice::Cuda : CommDevice::Cpu);
    const ProcessGroups g = mesh.processGroups();
    const DeviceInfo info = describeDevice(device);
    const int64_t B = plan.microBatch, T = plan.seq;
    const int64_t microBatches = plan.microBatches();
    CommGroup& dpGroup = mesh.zeroGroup();

    TokenDataset data = loadDataset(c.data, c.model.vocab, c.seed, c.valFraction);
    TokenLoader trainLoader(data.train, B, T, g.dpRank, g.dpSize, "training");
    TokenLoader valLoader(data.val, B, T, g.dpRank, g.dpSize, "validation");

    // Every rank builds the same initial weights from the seed (generated on the CPU). With
    // tp > 1 or pp > 1 each rank keeps its shard of them (ParallelModel).
    std::unique_ptr<TransformerModel> whole;
    std::unique_ptr<ParallelModel> split;
    if (plan.tp > 1 || plan.pp > 1) {
        split = std::make_unique<ParallelModel>(c.model, plan, mesh, device, c.seed);
    } else {
        whole = std::make_unique<TransformerModel>(c.model, plan.recompute, device);
        whole->initialize(c.seed);
    }
    at::Tensor flatParams = split ? split->flatParams() : whole->flatParams();
    at::Tensor flatGrads = split ? split->flatGrads() : whole->flatGrads();
    const ParameterLayout& layout = split ? split->layout() : whole->layout();
    const std::vector<at::Tensor>& params = split ? split->parameters() : whole->parameters();
    auto modelLoss = [&](const at::Tensor& x, const at::Tensor& y) { return split ? split->loss(x, y) : whole->loss(x, y); };
    CommGroup& tpGroup = mesh.group(Axis::Tp);
    CommGroup& ppGroup = mesh.group(Axis::Pp);
    const bool pipelined = plan.pp > 1;
    const PipelineSchedule pipeSchedule = pipelineSchedule(plan.pp, plan.vpp, static_cast<int>(microBatches));

    OptimizerConfig oc;
    oc.kind = plan.optimizer;
    oc.beta1 = c.beta1;
    oc.beta2 = c.beta2;
    oc.eps = c.eps;
    oc.weightDecay = c.weightDecay;
    oc.momentum = c.momentum;
    oc.larsTrust = c.larsTrust;
    const bool zero = plan.zero >= 1 && !dpGroup.trivial();
    const bool zero3 = zero && plan.zero >= 3;
    const double offloadFraction = plan.offload == Offload::Optimizer ? plan.offloadFraction : 0.0;
    std::unique_ptr<FlatOptimizer> replicated;
    std::unique_ptr<ShardedOptimizer> sharded;
    std::unique_ptr<Zero3> zero3Units; // ZeRO-3: the model's parameters live sharded in it
    const at::ScalarType reduceType = plan.gradReduce == Precision::Bf16 ? at::kBFloat16 : at::kFloat;
    const bool partitionedGrads = partitionsGradients(plan); // ZeRO-2 without a pipeline
    const ShardRange zeroShard = ShardRange::of(layout.totalElements, dpGroup.index, dpGroup.size());
    const int64_t gradsBegin = partitionedGrads ? zeroShard.begin : 0; // the layout's element at flatGrads[0]
    if (zero3) {
        zero3Units = std::make_unique<Zero3>(*whole, mesh, dpGroup, oc,
                                             plan.offload != Offload::None ? plan.offloadFraction : 0.0,
                                             plan.offload == Offload::OptimizerParams, reduceType);
        whole->setUnitHooks(zero3Units.get());
        flatParams = zero3Units->localParams();
        flatGrads = zero3Units->localGrads();
    } else if (zero) {
        // ZeRO-2 keeps the gradients of its shard alone (GradientSync's Mode::Partitioned);
        // under a pipeline it keeps the whole buffer, as ZeRO-1 does.
        if (partitionedGrads) {
            if (whole)
                whole->releaseGradients();
            else
                split->releaseGradients();
            flatGrads = at::zeros({zeroShard.numel()}, flatParams.options());
        }
        sharded = std::make_unique<ShardedOptimizer>(oc, layout, flatParams, flatGrads, mesh, dpGroup, offloadFraction,
                                                     gradsBegin);
    } else
        replicated = std::make_unique<FlatOptimizer>(oc, layout, flatParams, flatGrads);
    if (sharded && overlapsParameterGather(plan) && m_dist.paramGather == "overlap") {
        // The updated shards travel during the next forward, in pieces of at least a gradient bucket.
        sharded->overlapGather(layout, c.model.layers, static_cast<int64_t>(m_dist.bucketMb * 1024 * 1024 / 4));
        if (whole)
            whole->setUnitHooks(sharded.get());
        else
            split->setUnitHooks(sharded.get());
    }
    // Under ZeRO (`zero`: stages 1-3 over several ranks) each rank needs the averaged gradients
    // of its shard alone: stages 1 and 2 reduce each bucket to its shard's owner (DeepSpeed's
    // stages 1 and 2 share that path), a reduce-scatter's bytes instead of an all-reduce's.
    // ZeRO-3 reduce-scatters each unit's gradients itself: the sync gets a group of one.
    CommGroup unsynced;
    unsynced.ranks = {g.rank};
    // The token embedding's lookup gradient as gathered rows (EmbeddingRowSync.h): data
    // parallelism over the whole model whose gradients GradientSync reduces (ZeRO 0-2).
    std::unique_ptr<EmbeddingRowSync> rowSync;
    std::vector<bool> reducedElsewhere(params.size(), false);
    if (whole && !zero3 && !dpGroup.trivial() && m_dist.embeddingGrad != "dense") {
        const ParamInfo* wte = layout.find("wte");
        // auto: where they are fewer bytes, as the planner models it (TrainerSupport.h).
        if (m_dist.embeddingGrad == "rows" || gathersEmbeddingRows(plan, wte->shape[0])) {
            if (partitionedGrads) {
                // The part of wte inside this rank's shard (none: an empty part).
                const int64_t b = std::max(wte->offset, zeroShard.begin);
                const int64_t e = std::max(b, std::min(wte->offset + wte->numel(), zeroShard.end));
                rowSync = std::make_unique<EmbeddingRowSync>(
                    mesh, dpGroup, e > b ? flatGrads.narrow(0, b - gradsBegin, e - b) : flatGrads.narrow(0, 0, 0),
                    e > b ? b - wte->offset : 0, wte->shape[1]);
            } else {
                rowSync = std::make_unique<EmbeddingRowSync>(mesh, dpGroup,
                                                             flatGrads.narrow(0, wte->offset, wte->numel()).view(wte->shape));
            }
            whole->setLookupSink(rowSync.get());
            // Untied, nothing else gives wte a gradient: its rows are all there is to reduce.
            if (!c.model.tiedEmbeddings)
                for (size_t i = 0; i < params.size(); ++i) reducedElsewhere[i] = layout.params[i].name == "wte";
        }
    }
    GradientSync sync(mesh, zero3 ? unsynced : dpGroup, flatGrads, params, layout, m_dist.bucketMb,
                      partitionedGrads ? GradientSync::Mode::Partitioned
                      : zero           ? GradientSync::Mode::ReduceToOwners
                                       : GradientSync::Mode::AllReduce,
                      reduceType, reducedElsewhere);
    const ShardRange shard = sharded       ? sharded->shard()
                             : zero3Units ? ShardRange{0, zero3Units->localElements()}
                                          : ShardRange{0, layout.totalElements};
    if (split) {
        // Buckets without a gradient that finishBackward() rewrites reduce during backward.
        sync.holdBack(split->rewrittenByFinishBackward());
        // LAMB, LARS: whole-tensor norms over tp shards (TpNormSum.h); ZeRO slices are summed
        // over dp inside ShardedOptimizer first.
        if (auto sum = tpNormSum(mesh, tpGroup, layout, c.model)) {
            if (sharded) sharded->setNormSum(sum);
            if (replicated) replicated->setNormReducer(sum);
        }
    }

    // Checkpoints (DistCheckpoint.h): this rank's local parameters and optimizer states.
    auto checkpointPart = [&]() {
        DistCheckpointPart part;
        if (zero3Units) {
            part.tensors = zero3Units->checkpointTensors();
            part.optimizerStep = zero3Units->stepCount();
            return part;
        }
        if (sharded) sharded->finishGather();
        part.tensors.emplace_back("params", flatParams);
        for (auto& s : sharded ? sharded->states() : replicated->states()) part.tensors.push_back(std::move(s));
        part.optimizerStep = sharded ? sharded->stepCount() : replicated->stepCount();
        return part;
    };
    const bool fp16 = plan.precision == Precision::Fp16;
    LoopState state;
    state.runId = c.runId.empty() ? std::string("run") : c.runId;
    state.lossScale = fp16 ? 65536.0 : 1.0; // as the single-process trainer (Trainer.cpp)
    std::string resumedFrom;
    if (c.resume) {
        resumedFrom = distResumeDirectory(c);
        DistCheckpointPart part = checkpointPart();
        state = loadDistCheckpoint(resumedFrom, c, mesh, g.rank, part);
        if (!c.runId.empty()) state.runId = c.runId;
        if (sharded) {
            sharded->loadStates(NamedTensors(part.tensors.begin() + 1, part.tensors.end()));
            sharded->setStepCount(part.optimizerStep);
        } else if (zero3Units) {
            zero3Units->setStepCount(part.optimizerStep); // shards and states were read in place
        } else {
            replicated->setStepCount(part.optimizerStep); // states were read in place
        }
        trainLoader.setPosition(state.trainPosition);
        m_stepsDone = state.step;
    }

    const double flopsPerToken = trainingFlopsPerToken(c.model, T);
    Json planJson = plan.toJson();
    planJson.set("model", c.model.toJson()).set("training", c.toJson());
    Json start = Json::object();
    start.set("run_id", c.runId.empty() ? std::string("run") : c.runId).set("plan", planJson);
    start.set("world_size", g.worldSize).set("rank", g.rank).set("local_rank", g.localRank);
    start.set("hosts", Json::array()); start["hosts"].push(hostName());
    start.set("devices", Json::array()); start["devices"].push(info.name);
    start.set("torch", torchVersion()).set("cuda", cudaVersion()).set("nccl", ncclVersion());
    start.set("trainer", kTrainerVersion).set("parameters", c.model.allocatedParameterCount());
    start.set("local_parameters", zero3Units ? zero3Units->localElements() : layout.totalElements);
    start.set("flops_per_token", flopsPerToken).set("data", data.description);
    start.set("rendezvous", m_dist.source).set("gradient_buckets", sync.bucketCount());
    start.set("gradient_elements", flatGrads.numel()); // this rank's gradient buffer (ZeRO-2: its shard)
    Json coord = Json::object();
    for (Axis a : {Axis::Tp, Axis::Cp, Axis::Dp, Axis::Pp}) coord.set(toString(a), mesh.index(a));
    start.set("mesh_coord", coord);
    if (zero3Units) {
        start.set("zero3_units", zero3Units->unitCount());
        start.set("optimizer_device_gib", zero3Units->deviceStateBytes() / 1073741824.0);
        start.set("optimizer_host_gib", zero3Units->hostStateBytes() / 1073741824.0);
    }
    if (sharded) {
        start.set("zero_shard", Json::object().set("begin", shard.begin).set("end", shard.end));
        start.set("param_gather_pieces", sharded->gatherPieceCount()); // 0: one all-gather after the step
        start.set("optimizer_device_gib", sharded->deviceStateBytes() / 1073741824.0);
        start.set("optimizer_host_gib", sharded->hostStateBytes() / 1073741824.0);
    }
    if (Json predicted = plannerPrediction(c, g.worldSize, mesh.index(Axis::Pp), device); !predicted.isNull())
        start.set("predicted", predicted);
    if (!resumedFrom.empty()) start.set("resumed_from", resumedFrom).set("resumed_step", state.step);
    m_events.write("run_start", start);
    auto checkpoint = [&]() {
        state.step = m_stepsDone;
        state.trainPosition = trainLoader.position();
        const std::string path = saveDistCheckpoint(c.checkpointDir, state, c, mesh, g.rank, checkpointPart());
        m_events.checkpoint(m_stepsDone, path);
    };

    const LrSchedule schedule{c.lr, c.effectiveMinLr(), c.warmup, std::max<int64_t>(1, c.steps)};
    const double peak = info.gpu ? info.gpu->peakTflops(plan.precision) : 0.0;
    const int64_t tokensPerStep = plan.tokensPerStep();
    std::vector<int32_t> inputs(static_cast<size_t>(B * T)), targets(static_cast<size_t>(B * T));

    auto evaluate = [&](int64_t step) {
        at::NoGradGuard noGrad;
        valLoader.setPosition(0);
        at::Tensor sum = at::zeros({1}, at::TensorOptions().dtype(at::kFloat).device(device));
        for (int64_t i = 0; i < c.evalBatches; ++i) {
            valLoader.next(inputs.data(), targets.data());
            const MicroBatch mb{tokensToDevice(inputs.data(), B, T, device), tokensToDevice(targets.data(), B, T, device)};
            if (pipelined) {
                sum += pipelineForwardLoss(*split, mesh, mb, plan.vpp, plan.precision);
            } else {
                AutocastScope autocast(device, plan.precision);
                sum += modelLoss(mb.inputs, mb.targets).detach().to(at::kFloat);
            }
        }
        if (pipelined) allReduceSum(mesh, ppGroup, sum, "validation loss all-reduce");
        allReduceSum(mesh, dpGroup, sum, "validation loss all-reduce");
        const double v = sum.item<double>() / static_cast<double>(c.evalBatches * dpGroup.size());
        m_events.eval(step, v);
        return v;
    };

    RunResult result;
    resetPeakMemory(device);
    synchronize(device);
    auto last = std::chrono::steady_clock::now();
    StepProfile profile(c.profilePath, g.rank, state.step + 1, c.steps, device);
    for (int64_t step = state.step + 1; step <= c.steps; ++step) {
        profile.beginStep(step);
        // Ranks agree on stopping (the launcher signals them at slightly different times), so
        // all end `cancelled` after the same step instead of some waiting in a collective. The
        // vote is read with the step's loss (one host sync per step, not two): a stop asked
        // for now ends the run after this step.
        at::Tensor stop = at::full({1}, m_context.stopping() ? 1.0f : 0.0f, at::TensorOptions().device(device));
        allReduceSum(mesh, mesh.world(), stop, "stop agreement");
        flatGrads.zero_();
        at::Tensor lossSum = at::zeros({1}, at::TensorOptions().dtype(at::kFloat).device(device));
        if (pipelined) {
            // Every pipeline rank reads the step's micro-batches (the first stage needs the
            // inputs, the last the targets); the loss lives on the last stage.
            std::vector<MicroBatch> batches;
            for (int64_t mb = 0; mb < microBatches; ++mb) {
                trainLoader.next(inputs.data(), targets.data());
                batches.push_back({tokensToDevice(inputs.data(), B, T, device), tokensToDevice(targets.data(), B, T, device)});
            }
            // The schedule interleaves the micro-batches' backward passes: a parameter's
            // gradient is final after its last one, and its buckets start then.
            sync.armFor(static_cast<int>(microBatches));
            lossSum = runPipelineStep(*split, mesh, pipeSchedule, batches, plan.precision,
                                      (fp16 ? state.lossScale : 1.0) * sync.gradientScale());
            allReduceSum(mesh, ppGroup, lossSum, "loss gather over pipeline stages");
        } else {
            for (int64_t mb = 0; mb < microBatches; ++mb) {
                trainLoader.next(inputs.data(), targets.data());
                const at::Tensor x = tokensToDevice(inputs.data(), B, T, device), y = tokensToDevice(targets.data(), B, T, device);
                at::Tensor loss;
                {
                    AutocastScope autocast(device, plan.precision);
                    loss = modelLoss(x, y);
                }
                lossSum += loss.detach().to(at::kFloat);
                sync.arm(mb == microBatches - 1);
                if (rowSync) rowSync->arm(mb == microBatches - 1);
                (loss * ((fp16 ? state.lossScale : 1.0) * sync.gradientScale() / static_cast<double>(microBatches))).backward();
                // Partitioned gradients are reduced after each backward (the next arm() or
                // finish()): the sp-partial ones are summed over tp before, every micro-batch.
                if (split && partitionedGrads) split->finishBackward();
            }
        }
        // Before the dp reduction (ZeRO reduces only to shard owners).
        if (split && !partitionedGrads) split->finishBackward();
        sync.finish();
        if (rowSync) rowSync->finish(); // after the dense part of a tied wte is summed
        if (step == state.step + 1 && sync.bucketCount() > 0) {
            // How much of the dp reduction overlapped the backward pass (tested for split models).
            Json overlap = Json::object();
            overlap.set("level", "info").set("gradient_buckets", sync.bucketCount());
            overlap.set("buckets_started_during_backward", sync.bucketsStartedDuringBackward());
            overlap.set("gradient_collectives", sync.collectivesLastStep());
            overlap.set("embedding_rows_gathered", rowSync ? rowSync->rowsLastStep() : 0);
            if (partitionedGrads) overlap.set("gradient_elements_in_flight_peak", sync.peakInFlightLastStep());
            overlap.set("message", std::to_string(sync.bucketsStartedDuringBackward()) + " of "
                                       + std::to_string(sync.bucketCount())
                                       + " gradient buckets started their reduction during backward ("
                                       + std::to_string(sync.collectivesLastStep())
                                       + " collectives: buckets ready together go as one)");
            m_events.write("log", overlap);
        }
        if (zero3Units) zero3Units->finishBackward();
        // Loss: the mean over the global batch (tp ranks of a replica compute the same one).
        // Squared gradient norm: each element counted once over the mesh. Under ZeRO 1-3 a rank
        // holds only its shard of the averaged gradients (summed over dp); tp-replicated
        // parameters are weighted 1/t (summed over tp).
        at::Tensor lossMean = lossSum / static_cast<double>(microBatches);
        allReduceSum(mesh, dpGroup, lossMean, "loss all-reduce");
        at::Tensor normSq;
        {
            at::NoGradGuard noGrad;
            const int64_t begin = zero ? shard.begin : 0, end = zero ? shard.end : layout.totalElements;
            normSq = split ? split->squaredGradNorm(flatGrads, begin, end, gradsBegin)
                           : at::linalg_vector_norm(flatGrads.narrow(0, begin - gradsBegin, end - begin), 2).square();
            normSq = normSq.reshape({1}).to(at::kFloat);
            if (zero) allReduceSum(mesh, dpGroup, normSq, "gradient norm all-reduce");
            allReduceSum(mesh, tpGroup, normSq, "gradient norm all-reduce");
            allReduceSum(mesh, ppGroup, normSq, "gradient norm all-reduce");
        }
        const auto waitFrom = std::chrono::steady_clock::now();
        const at::Tensor host = at::cat({lossMean, normSq, stop}).to(at::kCPU, at::kDouble);
        const double hostWaitMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - waitFrom).count();
        const double lossValue = host[0].item<double>() / dpGroup.size();
        double gradNorm = std::sqrt(host[1].item<double>());
        const bool stopAgreed = host[2].item<double>() > 0;
        m_stepsDone = step;

        bool skip = false;
        if (fp16) skip = finishFp16Step(state, flatGrads, gradNorm, step, m_events); // same norm on every rank
        if (!std::isfinite(lossValue) || (!fp16 && !std::isfinite(gradNorm))) {
            const std::string what = std::string(!std::isfinite(lossValue) ? "loss" : "gradient norm")
                                   + " is not finite at step " + std::to_string(step);
            if (!c.skipNonfinite)
                throw TrainError(TrainErrorKind::Nan, what + "; lower --lr, raise --warmup, or pass --skip-nonfinite");
            m_events.log("warning", what + "; step skipped (--skip-nonfinite)");
            skip = true;
        }
        const double lr = schedule.at(step);
        if (!skip) {
            if (c.gradClip > 0 && gradNorm > c.gradClip) {
                at::NoGradGuard noGrad;
                flatGrads.mul_(c.gradClip / (gradNorm + 1e-6));
            }
            if (zero3Units)
                zero3Units->step(lr);
            else if (sharded)
                sharded->step(lr);
            else
                replicated->step(lr);
        }

        const auto now = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(now - last).count();
        last = now;
        if (std::isfinite(lossValue)) {
            const StepTiming timing{tokensPerStep, seconds, flopsPerToken, g.worldSize, peak};
            StepEvent event = makeStepEvent(step, lossValue, lr, gradNorm, timing, peakMemoryGiB(device));
            if (device.is_cuda()) event.hostWaitMs = hostWaitMs; // on the CPU nothing runs ahead to wait for
            if (pipelined) event.memStagesGiB = stagePeakMemory(mesh, event.memPeakGiB, device);
            m_events.step(event);
            result.lastLoss = lossValue;
        }
        if (profile.endStep(step)) last = std::chrono::steady_clock::now(); // the trace's save is no step's time
        if (c.evalEvery > 0 && step % c.evalEvery == 0) {
            result.lastValLoss = evaluate(step);
            synchronize(device);
            last = std::chrono::steady_clock::now();
        }
        if (c.checkpointEvery > 0 && step % c.checkpointEvery == 0) {
            checkpoint();
            last = std::chrono::steady_clock::now();
        }
        if (stopAgreed) {
            if (c.checkpointEvery == 0 || step % c.checkpointEvery != 0) checkpoint(); // all ranks take part
            return endCancelled(m_events, m_stepsDone);
        }
    }
    if (sharded) sharded->finishGather();
    if (c.steps > 0 && (c.evalEvery == 0 || c.steps % c.evalEvery != 0)) result.lastValLoss = evaluate(m_stepsDone);
    if (!m_dist.dumpParams.empty()) {
        const at::Tensor full = split        ? split->gatherFullParameters()
                                : zero3Units ? zero3Units->gatherFullParameters()
                                             : flatParams;
        if (g.rank == 0) {
            writeRawParameters(m_dist.dumpParams, full);
            // The index beside it: name, shape and offset of every tensor (single-process layout).
            Json index = Json::array();
            for (const ParamInfo& p : parameterLayout(c.model).params) {
                Json shape = Json::array();
                for (int64_t d : p.shape) shape.push(d);
                index.push(Json::object().set("name", p.name).set("offset", p.offset).set("shape", shape));
            }
            std::FILE* f = std::fopen((m_dist.dumpParams + ".json").c_str(), "w");
            if (f) {
                const std::string text = index.dump();
                std::fwrite(text.data(), 1, text.size(), f);
                std::fclose(f);
            }
        }
    }
    m_events.runEnd("completed", m_stepsDone);
    result.status = RunStatus::Completed;
    result.steps = m_stepsDone;
    return result;
}

} // namespace meshwork
