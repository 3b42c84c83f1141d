#include "core/train/dist/ShardedOptimizer.h"

#include "core/train/dist/Mesh.h"
#include "core/train/dist/TpOps.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace meshwork {

ParameterLayout sliceLayout(const ParameterLayout& full, int64_t begin, int64_t end)
{
    ParameterLayout out;
    for (const auto& p : full.params) {
        const int64_t b = std::max(begin, p.offset), e = std::min(end, p.offset + p.numel());
        if (b >= e) continue;
        ParamInfo piece = p;
        piece.shape = {e - b};
        piece.offset = b - begin;
        if (piece.decays()) out.decayElements = piece.offset + piece.numel();
        out.params.push_back(std::move(piece));
    }
    out.totalElements = std::max<int64_t>(0, end - begin);
    return out;
}

std::vector<GatherPiece> gatherPieces(const ParameterLayout& layout, int64_t layers, int ranks, int64_t minElements)
{
    // Runs of one unit's decaying tensors (the buffer's prefix, in the forward's order), and the
    // tail of undecayed ones (norms and biases of every unit: small) as one run, each cut at the
    // shard boundaries.
    std::vector<GatherPiece> runs;
    auto addRun = [&](int64_t begin, int64_t end, int need) {
        for (int r = 0; r < ranks; ++r) {
            const ShardRange shard = ShardRange::of(layout.totalElements, r, ranks);
            const int64_t b = std::max(begin, shard.begin), e = std::min(end, shard.end);
            if (b < e) runs.push_back({b, e, r, need});
        }
    };
    int64_t runBegin = 0;
    int runUnit = -1, tailNeed = static_cast<int>(layers) + 1;
    for (const ParamInfo& p : layout.params) {
        const int u = parameterUnit(p.name, layers);
        if (!p.decays()) {
            tailNeed = std::min(tailNeed, u);
            continue;
        }
        if (u != runUnit) {
            if (runUnit >= 0) addRun(runBegin, p.offset, runUnit);
            runBegin = p.offset;
            runUnit = u;
        }
    }
    if (runUnit >= 0) addRun(runBegin, layout.decayElements, runUnit);
    addRun(layout.decayElements, layout.totalElements, tailNeed);
    std::stable_sort(runs.begin(), runs.end(), [](const GatherPiece& a, const GatherPiece& b) { return a.need < b.need; });

    // A piece takes the runs after it (same owner, adjacent in the buffer) until it holds
    // minElements and as many as all the pieces before it: the first units, which the forward
    // waits for, come in small pieces, the later ones in few large ones (each collective costs
    // host time).
    std::vector<GatherPiece> pieces;
    int64_t issued = 0; // elements in the pieces before the last one
    for (const GatherPiece& run : runs) {
        if (!pieces.empty()) {
            GatherPiece& last = pieces.back();
            const int64_t size = last.end - last.begin;
            if (last.owner == run.owner && last.end == run.begin && size < std::max(minElements, issued)) {
                last.end = run.end;
                continue;
            }
            issued += size;
        }
        pieces.push_back(run);
    }
    return pieces;
}

namespace {

// The index in `full` of each piece of sliceLayout(full, begin, end), in its order.
at::Tensor tensorIdsOf(const ParameterLayout& full, int64_t begin, int64_t end, c10::Device device)
{
    std::vector<int64_t> ids;
    for (size_t i = 0; i < full.params.size(); ++i) {
        const ParamInfo& p = full.params[i];
        if (std::max(begin, p.offset) < std::min(end, p.offset + p.numel())) ids.push_back(static_cast<int64_t>(i));
    }
    return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).to(device);
}

} // namespace

void stepWithWholeTensorNorms(const std::vector<NormPiece>& pieces, int64_t tensors, const at::TensorOptions& options,
                              Mesh& mesh, CommGroup& group, const FlatOptimizer::NormReducer& more, double lr,
                              const char* what)
{
    at::Tensor sums = at::zeros({2, tensors}, options);
    std::vector<c10::Device> where;
    for (const NormPiece& p : pieces) {
        const at::Tensor part = p.optimizer->beginStep();
        where.push_back(part.device());
        sums.index_add_(1, p.tensorIds, part.to(sums.device()));
    }
    allReduceInPlace(mesh, group, sums, what);
    if (more) more(sums);
    for (size_t k = 0; k < pieces.size(); ++k)
        pieces[k].optimizer->finishStep(lr, sums.index_select(1, pieces[k].tensorIds).to(where[k]));
}

ShardedOptimizer::ShardedOptimizer(const OptimizerConfig& config, const ParameterLayout& layout, at::Tensor flatParams,
                                   at::Tensor flatGrads, Mesh& mesh, CommGroup& group, double offloadFraction,
                                   int64_t gradsBegin)
    : m_mesh(mesh), m_group(group), m_params(std::move(flatParams)), m_grads(std::move(flatGrads)), m_gradsBegin(gradsBegin),
      m_statesPerParam(optimizerStatesPerParameter(config.kind))
{
    m_shard = ShardRange::of(layout.totalElements, group.index, group.size());
    const int64_t hostCount = static_cast<int64_t>(std::llround(offloadFraction * static_cast<double>(m_shard.numel())));
    m_deviceEnd = m_shard.end - std::clamp<int64_t>(hostCount, 0, m_shard.numel());
    if (m_deviceEnd > m_shard.begin) {
        m_device = std::make_unique<FlatOptimizer>(config, sliceLayout(layout, m_shard.begin, m_deviceEnd),
                                                   m_params.narrow(0, m_shard.begin, m_deviceEnd - m_shard.begin),
                                                   m_grads.narrow(0, m_shard.begin - m_gradsBegin, m_deviceEnd - m_shard.begin));
    }
    if (m_shard.end > m_deviceEnd) {
        const int64_t n = m_shard.end - m_deviceEnd;
        auto opts = at::TensorOptions().dtype(at::kFloat).device(at::kCPU).pinned_memory(m_params.is_cuda());
        m_hostParams = at::empty({n}, opts);
        m_hostParams.copy_(m_params.narrow(0, m_deviceEnd, n));
        m_hostGrads = at::empty({n}, opts);
        m_host = std::make_unique<FlatOptimizer>(config, sliceLayout(layout, m_deviceEnd, m_shard.end), m_hostParams,
                                                 m_hostGrads);
    }
    m_needsNorms = config.kind == Optimizer::Lamb || config.kind == Optimizer::Lars;
    m_tensors = static_cast<int64_t>(layout.params.size());
    if (m_device) m_deviceTensorIds = tensorIdsOf(layout, m_shard.begin, m_deviceEnd, m_params.device());
    if (m_host) m_hostTensorIds = tensorIdsOf(layout, m_deviceEnd, m_shard.end, m_params.device());
}

ShardedOptimizer::~ShardedOptimizer() = default;

int64_t ShardedOptimizer::deviceStateBytes() const { return 4 * m_statesPerParam * deviceElements(); }
int64_t ShardedOptimizer::hostStateBytes() const { return 4 * (m_statesPerParam + 2) * hostElements(); }

void ShardedOptimizer::step(double lr)
{
    at::NoGradGuard noGrad;
    finishGather(); // the previous step's pieces (a forward in between has waited for them)
    if (m_needsNorms) {
        stepWithWholeTensorNorms(lr);
        m_pieces.empty() ? gatherParameters() : startGather();
        return;
    }
    if (m_device) m_device->step(lr);
    if (m_host) {
        const int64_t n = m_shard.end - m_deviceEnd;
        m_hostGrads.copy_(m_grads.narrow(0, m_deviceEnd - m_gradsBegin, n));
        m_host->step(lr);
        m_params.narrow(0, m_deviceEnd, n).copy_(m_hostParams, /*non_blocking=*/true);
    }
    m_pieces.empty() ? gatherParameters() : startGather();
}

void ShardedOptimizer::stepWithWholeTensorNorms(double lr)
{
    const int64_t n = m_shard.end - m_deviceEnd;
    if (m_host) m_hostGrads.copy_(m_grads.narrow(0, m_deviceEnd - m_gradsBegin, n));
    std::vector<NormPiece> pieces;
    if (m_device) pieces.push_back({m_device.get(), m_deviceTensorIds});
    if (m_host) pieces.push_back({m_host.get(), m_hostTensorIds});
    meshwork::stepWithWholeTensorNorms(pieces, m_tensors, m_params.options(), m_mesh, m_group, m_normSum, lr,
                                       "per-tensor norm all-reduce (LAMB/LARS over ZeRO slices)");
    if (m_host) m_params.narrow(0, m_deviceEnd, n).copy_(m_hostParams, /*non_blocking=*/true);
}

NamedTensors ShardedOptimizer::states() const
{
    NamedTensors out;
    const FlatOptimizer* any = m_device ? m_device.get() : m_host.get();
    if (!any) return out;
    const auto deviceStates = m_device ? m_device->states() : NamedTensors{};
    const auto hostStates = m_host ? m_host->states() : NamedTensors{};
    for (size_t k = 0; k < any->states().size(); ++k) {
        std::vector<at::Tensor> parts;
        if (m_device) parts.push_back(deviceStates[k].second);
        if (m_host) parts.push_back(hostStates[k].second.to(m_params.device()));
        out.emplace_back(any->states()[k].first, parts.size() == 1 ? parts[0].clone() : at::cat(parts));
    }
    return out;
}

void ShardedOptimizer::loadStates(const NamedTensors& states)
{
    at::NoGradGuard noGrad;
    finishGather();
    const auto deviceStates = m_device ? m_device->states() : NamedTensors{};
    const auto hostStates = m_host ? m_host->states() : NamedTensors{};
    const int64_t d = m_deviceEnd - m_shard.begin;
    for (size_t k = 0; k < states.size(); ++k) {
        if (m_device) deviceStates.at(k).second.copy_(states[k].second.narrow(0, 0, d));
        if (m_host) hostStates.at(k).second.copy_(states[k].second.narrow(0, d, m_shard.end - m_deviceEnd));
    }
    if (m_host) m_hostParams.copy_(m_params.narrow(0, m_deviceEnd, m_shard.end - m_deviceEnd));
}

int64_t ShardedOptimizer::stepCount() const
{
    return m_device ? m_device->stepCount() : m_host ? m_host->stepCount() : 0;
}

void ShardedOptimizer::setStepCount(int64_t t)
{
    if (m_device) m_device->setStepCount(t);
    if (m_host) m_host->setStepCount(t);
}

void ShardedOptimizer::gatherParameters()
{
    if (m_group.trivial()) return;
    const int64_t total = m_params.numel();
    const int64_t stride = ShardRange::stride(total, m_group.size());
    // all_gather_into_tensor needs equal parts: pad when N is not a multiple of the group size.
    const bool exact = stride * m_group.size() == total;
    at::Tensor output = exact ? m_params : at::empty({stride * m_group.size()}, m_params.options());
    at::Tensor input = at::zeros({stride}, m_params.options());
    input.narrow(0, 0, m_shard.numel()).copy_(m_params.narrow(0, m_shard.begin, m_shard.numel()));
    c10d::AllgatherOptions opts;
    opts.timeout = m_mesh.timeout();
    m_mesh.wait(m_group.backend->_allgather_base(output, input, opts), m_group, "parameter all-gather");
    if (!exact) m_params.copy_(output.narrow(0, 0, total));
}

void ShardedOptimizer::overlapGather(const ParameterLayout& layout, int64_t layers, int64_t minPieceElements)
{
    finishGather();
    m_pieces = m_group.trivial() ? std::vector<GatherPiece>{} : gatherPieces(layout, layers, m_group.size(), minPieceElements);
}

void ShardedOptimizer::startGather()
{
    // Every rank issues the same broadcasts in the same order; each is waited for by the first
    // unit that reads it (enter) or by finishGather().
    for (const GatherPiece& p : m_pieces) {
        std::vector<at::Tensor> tensors{m_params.narrow(0, p.begin, p.end - p.begin)};
        c10d::BroadcastOptions opts;
        opts.rootRank = p.owner;
        opts.timeout = m_mesh.timeout();
        m_inFlight.emplace_back(p.need, m_group.backend->broadcast(tensors, opts));
    }
}

void ShardedOptimizer::enter(int unit)
{
    // Pieces go in order of need, so the ones this unit reads are at the front.
    while (!m_inFlight.empty() && m_inFlight.front().first <= unit) {
        m_mesh.wait(m_inFlight.front().second, m_group, "parameter broadcast (ZeRO-1/2 gather)");
        m_inFlight.pop_front();
    }
}

void ShardedOptimizer::finishGather()
{
    enter(std::numeric_limits<int>::max());
}

} // namespace meshwork
