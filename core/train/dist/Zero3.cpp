#include "core/train/dist/Zero3.h"

#include "core/train/TrainError.h"
#include "core/train/dist/GradientSync.h"
#include "core/train/dist/Mesh.h"
#include "core/train/dist/ShardedOptimizer.h"
#include "core/train/dist/TpOps.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/StorageImpl.h>
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace meshwork {

void resizeStorage(const at::Tensor& t, size_t bytes)
{
    c10::StorageImpl* s = t.storage().unsafeGetStorageImpl();
    if (s->nbytes() == bytes) return;
    if (bytes == 0)
        s->set_data_ptr_noswap(at::DataPtr(nullptr, s->device()));
    else
        s->set_data_ptr_noswap(s->allocator()->allocate(bytes));
    s->set_nbytes(bytes);
}

namespace {

std::vector<int64_t> contiguousStrides(const std::vector<int64_t>& shape)
{
    std::vector<int64_t> strides(shape.size(), 1);
    for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
        strides[static_cast<size_t>(i)] = strides[static_cast<size_t>(i + 1)] * shape[static_cast<size_t>(i + 1)];
    return strides;
}

} // namespace

Zero3::Zero3(TransformerModel& model, Mesh& mesh, CommGroup& group, const OptimizerConfig& config,
             double offloadFraction, bool offloadParams, at::ScalarType reduceType)
    : m_mesh(mesh), m_group(group), m_model(model), m_offloadParams(offloadParams), m_reduceType(reduceType),
      m_statesPerParam(optimizerStatesPerParameter(config.kind)),
      m_needsNorms(config.kind == Optimizer::Lamb || config.kind == Optimizer::Lars)
{
    at::NoGradGuard noGrad;
    const ParameterLayout& layout = model.layout();
    const std::vector<at::Tensor>& params = model.parameters();
    const int64_t L = model.spec().layers;
    const int d = group.size(), r = group.index;
    const at::Tensor flat = model.flatParams();
    const auto opts = flat.options();

    m_units.resize(static_cast<size_t>(L + 2));
    for (size_t i = 0; i < layout.params.size(); ++i) {
        const int u = parameterUnit(layout.params[i].name, L);
        m_unitOf.push_back(u);
        m_units[static_cast<size_t>(u)].params.push_back(i);
    }
    if (model.spec().tiedEmbeddings) m_units.back().with.push_back(0); // the head reads wte

    int64_t local = 0;
    for (Unit& u : m_units) {
        // Decaying tensors first, so each rank's slice is a decaying prefix and the rest.
        std::stable_partition(u.params.begin(), u.params.end(), [&](size_t i) { return layout.params[i].decays(); });
        int64_t n = 0;
        for (size_t i : u.params) {
            ParamInfo p = layout.params[i];
            p.offset = n;
            u.offsets.push_back(n);
            n += p.numel();
            if (p.decays()) u.layout.decayElements = n;
            u.layout.params.push_back(std::move(p));
        }
        u.layout.totalElements = n;
        u.stride = ShardRange::stride(n, d);
        u.local = local;
        local += u.stride;
    }

    // This rank's slices of the initial parameters, then the unit buffers the model's tensors view.
    at::Tensor shard = at::zeros({local}, opts);
    for (Unit& u : m_units) {
        u.full = at::zeros({u.stride * d}, opts);
        u.fullGrad = at::zeros({u.stride * d}, opts);
        for (size_t k = 0; k < u.params.size(); ++k) {
            const ParamInfo& info = layout.params[u.params[k]];
            u.full.narrow(0, u.offsets[k], info.numel()).copy_(flat.narrow(0, info.offset, info.numel()));
        }
        shard.narrow(0, u.local, u.stride).copy_(u.full.narrow(0, r * u.stride, u.stride));
        for (size_t k = 0; k < u.params.size(); ++k) {
            const at::Tensor& p = params[u.params[k]];
            const std::vector<int64_t>& shape = layout.params[u.params[k]].shape;
            const std::vector<int64_t> strides = contiguousStrides(shape);
            // The same TensorImpl (the model's Layer fields share it) now views the unit buffer.
            p.set_(u.full.storage(), u.offsets[k], shape, strides);
            p.mutable_grad() = at::empty({0}, opts).set_(u.fullGrad.storage(), u.offsets[k], shape, strides);
        }
    }
    model.flatParams() = at::Tensor(); // nothing views the full buffers any more: freed
    model.flatGrads() = at::Tensor();

    const int64_t hostCount = std::clamp<int64_t>(
        static_cast<int64_t>(std::llround(offloadFraction * static_cast<double>(local))), 0, local);
    m_hostBegin = local - hostCount;
    m_grads = at::zeros({local}, opts);
    m_params = offloadParams ? shard.narrow(0, 0, m_hostBegin).clone() : shard;
    if (hostCount > 0) {
        auto host = at::TensorOptions().dtype(at::kFloat).device(at::kCPU).pinned_memory(opts.device().is_cuda());
        m_hostParams = at::empty({hostCount}, host);
        m_hostParams.copy_(shard.narrow(0, m_hostBegin, hostCount));
        m_hostGrads = at::zeros({hostCount}, host);
    }
    shard = at::Tensor();

    for (Unit& u : m_units) {
        const int64_t a = u.local, b = u.local + u.stride, base = r * u.stride;
        if (const int64_t n = std::min(b, m_hostBegin) - a; n > 0)
        {
            m_deviceOpt.push_back(std::make_unique<FlatOptimizer>(config, sliceLayout(u.layout, base, base + n),
                                                                  m_params.narrow(0, a, n), m_grads.narrow(0, a, n)));
            m_deviceTensorIds.push_back(tensorIdsOf(u, base, base + n, opts.device()));
        }
        if (const int64_t h = std::max(a, m_hostBegin); b > h) {
            m_hostOpt.push_back(std::make_unique<FlatOptimizer>(
                config, sliceLayout(u.layout, base + (h - a), base + u.stride),
                m_hostParams.narrow(0, h - m_hostBegin, b - h), m_hostGrads.narrow(0, h - m_hostBegin, b - h)));
            m_hostTensorIds.push_back(tensorIdsOf(u, base + (h - a), base + u.stride, opts.device()));
        }
        resizeStorage(u.full, 0);
        resizeStorage(u.fullGrad, 0);
    }

    for (size_t i = 0; i < params.size(); ++i) {
        auto acc = torch::autograd::impl::grad_accumulator(params[i]);
        acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
            [this, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
                Unit& u = m_units[static_cast<size_t>(m_unitOf[i])];
                if (!u.gradsLive)
                    throw TrainError(TrainErrorKind::Internal, "ZeRO-3: a gradient arrived for a unit whose backward had not started");
                if (--u.pending == 0) reduce(m_unitOf[i]);
                return outputs;
            }));
        m_accumulators.push_back(std::move(acc));
    }
}

Zero3::~Zero3()
{
    m_model.setUnitHooks(nullptr);
}

int64_t Zero3::unitBytes(int unit) const
{
    const Unit& u = m_units.at(static_cast<size_t>(unit));
    return u.stride * m_group.size() * 4;
}

int64_t Zero3::deviceStateBytes() const { return 4 * m_statesPerParam * m_hostBegin; }

int64_t Zero3::hostStateBytes() const
{
    // States, master weights and the gradient copy of the offloaded part.
    return 4 * (m_statesPerParam + 2) * (localElements() - m_hostBegin);
}

void Zero3::account(int64_t bytes)
{
    m_resident += bytes;
    m_peakResident = std::max(m_peakResident, m_resident);
}

at::Tensor Zero3::shardInput(const Unit& u) const
{
    if (u.local + u.stride <= m_hostBegin || !m_offloadParams) return m_params.narrow(0, u.local, u.stride);
    // Optimizer+params offload: the part past m_hostBegin comes up from (pinned) host memory.
    at::Tensor out = at::empty({u.stride}, u.full.options());
    const int64_t onDevice = std::clamp<int64_t>(m_hostBegin - u.local, 0, u.stride);
    if (onDevice > 0) out.narrow(0, 0, onDevice).copy_(m_params.narrow(0, u.local, onDevice));
    out.narrow(0, onDevice, u.stride - onDevice)
        .copy_(m_hostParams.narrow(0, u.local + onDevice - m_hostBegin, u.stride - onDevice), /*non_blocking=*/true);
    return out;
}

void Zero3::gather(Unit& u)
{
    startGather(u);
    finishGather(u);
}

void Zero3::startGather(Unit& u)
{
    if (u.gathered) return;
    at::NoGradGuard noGrad;
    resizeStorage(u.full, static_cast<size_t>(u.full.numel()) * 4);
    account(u.full.numel() * 4);
    u.gathered = true;
    at::Tensor input = shardInput(u);
    if (m_group.trivial()) {
        u.full.copy_(input);
        return;
    }
    c10d::AllgatherOptions opts;
    opts.timeout = m_mesh.timeout();
    u.staging = input;
    u.inflight = m_group.backend->_allgather_base(u.full, input, opts);
}

void Zero3::finishGather(Unit& u)
{
    if (!u.inflight) return;
    auto work = std::move(u.inflight);
    u.inflight.reset();
    m_mesh.wait(work, m_group, "ZeRO-3 parameter all-gather");
    u.staging = at::Tensor();
}

void Zero3::release(Unit& u)
{
    if (!u.gathered) return;
    finishGather(u); // never free a buffer a collective still writes
    resizeStorage(u.full, 0);
    account(-u.full.numel() * 4);
    u.gathered = false;
}

void Zero3::enter(int unit)
{
    Unit& u = m_units.at(static_cast<size_t>(unit));
    gather(u);
    for (int w : u.with) gather(m_units[static_cast<size_t>(w)]);
    // Forward prefetch: units run in order, so the next one's gather overlaps this one's compute.
    if (static_cast<size_t>(unit) + 1 < m_units.size()) startGather(m_units[static_cast<size_t>(unit) + 1]);
}

at::Tensor Zero3::leave(int unit, const at::Tensor& out)
{
    Unit& u = m_units.at(static_cast<size_t>(unit));
    release(u);
    for (int w : u.with) release(m_units[static_cast<size_t>(w)]);
    // The hook runs when out's gradient is complete, before out's grad_fn: before any of the
    // unit's backward, which lies upstream of out.
    if (out.requires_grad() && at::GradMode::is_enabled()) out.register_hook([this, unit](const at::TensorBase&) { prepareBackward(unit); });
    return out;
}

bool Zero3::neededNext(int unit) const
{
    if (m_backwardNext < 0) return false;
    const std::vector<int>& with = m_units[static_cast<size_t>(m_backwardNext)].with;
    return unit == m_backwardNext || std::find(with.begin(), with.end(), unit) != with.end();
}

void Zero3::prepareBackward(int unit)
{
    Unit& u = m_units.at(static_cast<size_t>(unit));
    if (u.reducing) completeReductions(); // the previous micro-batch's, should any be left
    gather(u);
    for (int w : u.with) gather(m_units[static_cast<size_t>(w)]);
    // Backward prefetch: units run backward in reverse order, so the one before this one is
    // gathered during this one's backward.
    m_backwardNext = unit - 1;
    if (m_backwardNext >= 0) {
        Unit& next = m_units[static_cast<size_t>(m_backwardNext)];
        startGather(next);
        for (int w : next.with) startGather(m_units[static_cast<size_t>(w)]);
    }
    if (!m_endOfBackwardQueued) {
        // The last reduction completes when this backward pass ends (we are inside it: a hook).
        torch::autograd::Engine::get_default_engine().queue_callback([this] {
            m_endOfBackwardQueued = false;
            completeReductions();
        });
        m_endOfBackwardQueued = true;
    }
    if (u.gradsLive) return;
    at::NoGradGuard noGrad;
    resizeStorage(u.fullGrad, static_cast<size_t>(u.fullGrad.numel()) * 4);
    account(u.fullGrad.numel() * 4);
    u.fullGrad.zero_();
    u.gradsLive = true;
    u.pending = static_cast<int>(u.params.size());
}

void Zero3::reduce(int unit)
{
    Unit& u = m_units[static_cast<size_t>(unit)];
    // The oldest reduction completes first: with NCCL its wait is queued behind the backward
    // kernels of the unit that ran while it did, and the gradient buffers held stay bounded.
    while (m_reductions.size() >= static_cast<size_t>(kReductionsInFlight)) completeReduction();
    at::NoGradGuard noGrad;
    Reduction r;
    r.unit = unit;
    if (!m_group.trivial()) {
        r.sent = m_reduceType == u.fullGrad.scalar_type() ? u.fullGrad : u.fullGrad.to(m_reduceType);
        r.output = at::empty({u.stride}, r.sent.options());
        c10d::ReduceScatterOptions opts;
        opts.reduceOp = c10d::ReduceOp::SUM;
        opts.timeout = m_mesh.timeout();
        try {
            r.work = m_group.backend->_reduce_scatter_base(r.output, r.sent, opts);
        } catch (const c10::Error&) {
            // Backends without reduce-scatter (older Gloo): an all-reduce gives the same sums.
            std::vector<at::Tensor> t{r.sent};
            c10d::AllreduceOptions ar;
            ar.timeout = m_mesh.timeout();
            r.output = at::Tensor();
            r.work = m_group.backend->allreduce(t, ar);
        }
    }
    m_reductions.push_back(std::move(r));
    u.gradsLive = false;
    u.reducing = true;
    u.pending = 0;
    // Every gradient of the unit is in, so its backward no longer reads the parameters (the
    // reduction reads only fullGrad). The prefetched unit stays, as does a unit gathered with
    // this one whose own backward has begun.
    if (!neededNext(unit)) release(u);
    for (int w : u.with)
        if (!neededNext(w) && !m_units[static_cast<size_t>(w)].gradsLive) release(m_units[static_cast<size_t>(w)]);
}

void Zero3::completeReduction()
{
    Reduction r = std::move(m_reductions.front());
    m_reductions.pop_front();
    Unit& u = m_units[static_cast<size_t>(r.unit)];
    at::NoGradGuard noGrad;
    at::Tensor mine = m_grads.narrow(0, u.local, u.stride);
    if (!r.work) {
        mine.add_(u.fullGrad); // a group of one
    } else if (r.output.defined()) {
        m_mesh.wait(r.work, m_group, "ZeRO-3 gradient reduce-scatter");
        mine.add_(r.output, 1.0 / m_group.size());
    } else {
        m_mesh.wait(r.work, m_group, "ZeRO-3 gradient all-reduce (reduce-scatter fallback)");
        mine.add_(r.sent.narrow(0, u.stride * m_group.index, u.stride), 1.0 / m_group.size());
    }
    r.sent = at::Tensor();
    // Only after the wait: the collective reads (or, falling back, writes) fullGrad.
    resizeStorage(u.fullGrad, 0);
    account(-u.fullGrad.numel() * 4);
    u.reducing = false;
}

void Zero3::completeReductions()
{
    while (!m_reductions.empty()) completeReduction();
}

void Zero3::finishBackward()
{
    m_backwardNext = -1;
    for (size_t i = 0; i < m_units.size(); ++i)
        if (m_units[i].gradsLive) reduce(static_cast<int>(i));
    completeReductions();
    m_endOfBackwardQueued = false;
    for (Unit& u : m_units) release(u);
}

at::Tensor Zero3::tensorIdsOf(const Unit& u, int64_t begin, int64_t end, c10::Device device) const
{
    // The model's index of every piece of sliceLayout(u.layout, begin, end), in its order.
    std::vector<int64_t> ids;
    for (size_t k = 0; k < u.params.size(); ++k) {
        const int64_t b = u.offsets[k], e = b + u.layout.params[k].numel();
        if (std::max(begin, b) < std::min(end, e)) ids.push_back(static_cast<int64_t>(u.params[k]));
    }
    return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).to(device);
}

void Zero3::stepWithWholeTensorNorms(double lr)
{
    const int64_t n = localElements() - m_hostBegin;
    if (!m_hostOpt.empty()) m_hostGrads.copy_(m_grads.narrow(0, m_hostBegin, n));
    std::vector<NormPiece> pieces;
    for (size_t k = 0; k < m_deviceOpt.size(); ++k) pieces.push_back({m_deviceOpt[k].get(), m_deviceTensorIds[k]});
    for (size_t k = 0; k < m_hostOpt.size(); ++k) pieces.push_back({m_hostOpt[k].get(), m_hostTensorIds[k]});
    meshwork::stepWithWholeTensorNorms(pieces, static_cast<int64_t>(m_unitOf.size()), m_grads.options(), m_mesh, m_group,
                                       {}, lr, "per-tensor norm all-reduce (LAMB/LARS over ZeRO-3 shards)");
    if (!m_hostOpt.empty() && !m_offloadParams)
        m_params.narrow(0, m_hostBegin, n).copy_(m_hostParams, /*non_blocking=*/true);
}

void Zero3::step(double lr)
{
    at::NoGradGuard noGrad;
    if (m_needsNorms) {
        stepWithWholeTensorNorms(lr);
        return;
    }
    for (auto& o : m_deviceOpt) o->step(lr);
    if (m_hostOpt.empty()) return;
    const int64_t n = localElements() - m_hostBegin;
    m_hostGrads.copy_(m_grads.narrow(0, m_hostBegin, n));
    for (auto& o : m_hostOpt) o->step(lr);
    if (!m_offloadParams) m_params.narrow(0, m_hostBegin, n).copy_(m_hostParams, /*non_blocking=*/true);
}

std::vector<std::pair<std::string, at::Tensor>> Zero3::checkpointTensors() const
{
    std::vector<std::pair<std::string, at::Tensor>> out;
    out.emplace_back("params", m_params);
    if (m_hostParams.defined()) out.emplace_back("host_params", m_hostParams);
    auto add = [&](const char* where, const std::vector<std::unique_ptr<FlatOptimizer>>& opts) {
        for (size_t k = 0; k < opts.size(); ++k)
            for (auto& [name, t] : opts[k]->states()) out.emplace_back(where + std::to_string(k) + "." + name, t);
    };
    add("device", m_deviceOpt);
    add("host", m_hostOpt);
    return out;
}

int64_t Zero3::stepCount() const
{
    return !m_deviceOpt.empty() ? m_deviceOpt.front()->stepCount() : m_hostOpt.front()->stepCount();
}

void Zero3::setStepCount(int64_t t)
{
    for (auto& o : m_deviceOpt) o->setStepCount(t);
    for (auto& o : m_hostOpt) o->setStepCount(t);
}

at::Tensor Zero3::gatherFullParameters()
{
    at::NoGradGuard noGrad;
    const ParameterLayout& layout = m_model.layout();
    at::Tensor out = at::empty({layout.totalElements}, at::TensorOptions().dtype(at::kFloat));
    for (Unit& u : m_units) {
        const bool was = u.gathered;
        gather(u);
        for (size_t k = 0; k < u.params.size(); ++k) {
            const ParamInfo& info = layout.params[u.params[k]];
            out.narrow(0, info.offset, info.numel()).copy_(u.full.narrow(0, u.offsets[k], info.numel()));
        }
        if (!was) release(u);
    }
    return out;
}

} // namespace meshwork
