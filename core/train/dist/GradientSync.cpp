#include "core/train/dist/GradientSync.h"

#include "core/train/TrainError.h"
#include "core/train/dist/Mesh.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>

namespace meshwork {

namespace {

const char* flightName(GradientSync::Mode mode)
{
    return mode == GradientSync::Mode::AllReduce ? "gradient all-reduce" : "gradient reduce to the shard's owner";
}

} // namespace

ShardRange ShardRange::of(int64_t total, int index, int size)
{
    const int64_t s = stride(total, size);
    ShardRange r;
    r.begin = std::min(total, s * index);
    r.end = std::min(total, s * (index + 1));
    return r;
}

GradientSync::GradientSync(Mesh& mesh, CommGroup& group, at::Tensor flatGrads, const std::vector<at::Tensor>& params,
                           const ParameterLayout& layout, double bucketMb, Mode mode, at::ScalarType reduceType,
                           const std::vector<bool>& reducedElsewhere)
    : m_mesh(mesh), m_group(group), m_grads(std::move(flatGrads)), m_mode(mode), m_reduceType(reduceType),
      m_total(layout.totalElements)
{
    if (group.trivial()) return;
    auto elsewhere = [&](size_t i) { return i < reducedElsewhere.size() && reducedElsewhere[i]; };
    // Buckets of bucketMb over each run of consecutive parameters reduced here.
    const int64_t per = std::max<int64_t>(1, static_cast<int64_t>(bucketMb * 1024 * 1024 / 4));
    for (size_t i = 0; i < params.size();) {
        if (elsewhere(i)) {
            ++i;
            continue;
        }
        const int64_t begin = layout.params[i].offset;
        while (i < params.size() && !elsewhere(i)) ++i;
        const int64_t end = layout.params[i - 1].offset + layout.params[i - 1].numel();
        for (int64_t b = begin; b < end; b += per) m_buckets.push_back(Bucket{b, std::min(end, b + per)});
    }
    m_bucketsOfParam.resize(params.size());
    m_paramsOfBucket.resize(m_buckets.size());
    for (size_t i = 0; i < params.size(); ++i) {
        if (elsewhere(i)) continue;
        const int64_t begin = layout.params[i].offset, end = begin + layout.params[i].numel();
        for (size_t k = 0; k < m_buckets.size(); ++k)
            if (m_buckets[k].begin < end && begin < m_buckets[k].end) {
                m_bucketsOfParam[i].push_back(k);
                m_paramsOfBucket[k].push_back(i);
                ++m_buckets[k].params;
            }
        auto acc = torch::autograd::impl::grad_accumulator(params[i]);
        acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
            [this, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
                onAccumulated(i);
                return outputs;
            }));
        m_accumulators.push_back(std::move(acc));
    }
    if (m_mode == Mode::Partitioned) {
        m_params = params;
        m_shard = ShardRange::of(layout.totalElements, group.index, group.size());
        TORCH_CHECK(m_grads.numel() == m_shard.numel(), "GradientSync: a partitioned gradient buffer holds the shard alone");
        int64_t largest = 0;
        for (size_t i = 0; i < params.size(); ++i) {
            m_paramBegin.push_back(layout.params[i].offset);
            largest = std::max(largest, layout.params[i].numel());
        }
        // The largest tensor (a head's gradient, reduced at the start of the backward) and what
        // the backward produces while it travels (llama-1b, 2 x H200: 1 GB reduces in about
        // 4 ms, when the backward makes 11 buckets): a smaller window stalls the backward.
        m_windowElements = std::max(4 * per, largest + 16 * per);
    }
}

GradientSync::~GradientSync() = default;

void GradientSync::armFor(int backwards)
{
    if (m_mode == Mode::Partitioned) {
        TORCH_CHECK(backwards <= 1, "GradientSync: partitioned gradients reduce after each backward");
        // What the previous backward left unstarted goes now, and its reductions are retired
        // before the next forward: held on, they would stand beside its activations (2 x H200,
        // 4 micro-batches: a window's worth above the peak of one, 1.4 GiB for llama-1b).
        if (m_armedBackwards > 0) {
            at::NoGradGuard noGrad;
            startUnstarted();
            while (!m_flights.empty()) retireOldest(flightName(m_mode));
        }
        m_bucketsToStart.clear();
        for (const auto& buckets : m_bucketsOfParam) m_bucketsToStart.push_back(static_cast<int>(buckets.size()));
    } else {
        m_flights.clear();
    }
    m_startedEarly = 0;
    m_collectivesThisStep = 0;
    m_armedBackwards = backwards;
    m_accumulationsLeft.assign(m_bucketsOfParam.size(), backwards);
    for (auto& b : m_buckets) {
        b.pending = b.params;
        b.started = false;
    }
}

void GradientSync::holdBack(const std::vector<bool>& rewrittenAfterBackward)
{
    for (size_t i = 0; i < rewrittenAfterBackward.size() && i < m_bucketsOfParam.size(); ++i)
        if (rewrittenAfterBackward[i])
            for (size_t k : m_bucketsOfParam[i]) m_buckets[k].heldBack = true;
}

void GradientSync::onAccumulated(size_t param)
{
    if (m_armedBackwards == 0 || --m_accumulationsLeft[param] != 0) return;
    std::vector<size_t> ready;
    for (size_t k : m_bucketsOfParam[param]) {
        Bucket& b = m_buckets[k];
        if (--b.pending == 0 && !b.started && !b.heldBack) ready.push_back(k);
    }
    m_startedEarly += static_cast<int>(ready.size());
    startRuns(ready);
    if (m_mode == Mode::Partitioned) retireDone();
}

void GradientSync::startUnstarted()
{
    std::vector<size_t> left;
    for (size_t k = 0; k < m_buckets.size(); ++k)
        if (!m_buckets[k].started) left.push_back(k);
    startRuns(left);
}

void GradientSync::startRuns(const std::vector<size_t>& ready)
{
    at::NoGradGuard noGrad;
    const int64_t stride = ShardRange::stride(m_total, m_group.size());
    for (size_t i = 0; i < ready.size();) {
        size_t j = i;
        while (j + 1 < ready.size() && ready[j + 1] == ready[j] + 1
               && m_buckets[ready[j]].end == m_buckets[ready[j + 1]].begin)
            ++j;
        for (size_t k = ready[i]; k <= ready[j]; ++k) m_buckets[k].started = true;
        const int64_t begin = m_buckets[ready[i]].begin, end = m_buckets[ready[j]].end;
        if (m_mode == Mode::AllReduce) {
            startFlight(begin, end, -1);
        } else {
            // ZeRO-1/2: each part goes to the rank whose shard holds it.
            for (int64_t r = begin / stride; r * stride < end; ++r)
                startFlight(std::max(begin, r * stride), std::min(end, (r + 1) * stride), static_cast<int>(r));
        }
        i = j + 1;
    }
    if (m_mode != Mode::Partitioned) return;
    // A parameter whose buckets have all gone drops its gradient (a flight may still view it).
    for (size_t k : ready)
        for (size_t p : m_paramsOfBucket[k])
            if (--m_bucketsToStart[p] == 0) m_params[p].mutable_grad().reset();
}

at::Tensor GradientSync::sendBuffer(int64_t begin, int64_t end) const
{
    std::vector<at::Tensor> pieces;
    // The last parameter starting at or before `begin`, then those after it inside [begin, end).
    size_t i = static_cast<size_t>(std::upper_bound(m_paramBegin.begin(), m_paramBegin.end(), begin) - m_paramBegin.begin()) - 1;
    for (; i < m_params.size() && m_paramBegin[i] < end; ++i) {
        const int64_t pBegin = m_paramBegin[i], pEnd = pBegin + m_params[i].numel();
        const int64_t b = std::max(begin, pBegin), e = std::min(end, pEnd);
        if (b >= e) continue;
        const at::Tensor& g = m_params[i].grad();
        // A parameter the backward did not reach has a zero gradient.
        pieces.push_back(g.defined() ? g.reshape({-1}).narrow(0, b - pBegin, e - b)
                                     : at::zeros({e - b}, m_params[i].options()));
    }
    if (pieces.size() == 1 && pieces[0].scalar_type() == m_reduceType) return pieces[0];
    at::Tensor whole = pieces.size() == 1 ? pieces[0] : at::cat(pieces);
    return whole.scalar_type() == m_reduceType ? whole : whole.to(m_reduceType);
}

void GradientSync::startFlight(int64_t begin, int64_t end, int root)
{
    Flight f;
    f.begin = begin;
    f.end = end;
    f.root = root;
    if (m_mode == Mode::Partitioned) {
        f.sent = sendBuffer(begin, end);
        m_inFlight += end - begin;
        m_peakInFlight = std::max(m_peakInFlight, m_inFlight);
    } else {
        const at::Tensor part = m_grads.narrow(0, begin, end - begin);
        f.sent = m_reduceType == part.scalar_type() ? part : part.to(m_reduceType);
    }
    std::vector<at::Tensor> t{f.sent};
    if (root < 0) {
        c10d::AllreduceOptions opts;
        opts.reduceOp = c10d::ReduceOp::SUM;
        opts.timeout = m_mesh.timeout();
        f.work = m_group.backend->allreduce(t, opts);
    } else {
        c10d::ReduceOptions opts;
        opts.reduceOp = c10d::ReduceOp::SUM;
        opts.rootRank = root;
        opts.timeout = m_mesh.timeout();
        f.work = m_group.backend->reduce(t, opts);
    }
    m_flights.push_back(std::move(f));
    ++m_collectivesThisStep;
}

void GradientSync::retireOldest(const char* what)
{
    Flight& f = m_flights.front();
    m_mesh.wait(f.work, m_group, what);
    if (m_mode == Mode::Partitioned) {
        // The owner adds the sums into its shard; the send buffer (or the gradient it viewed) goes.
        if (f.root == m_group.index) m_grads.narrow(0, f.begin - m_shard.begin, f.end - f.begin).add_(f.sent);
        m_inFlight -= f.end - f.begin;
    } else if (f.sent.scalar_type() != m_grads.scalar_type() && (f.root < 0 || f.root == m_group.index)) {
        // The sums land everywhere (all-reduce) or on the part's owner (reduce).
        m_grads.narrow(0, f.begin, f.end - f.begin).copy_(f.sent);
    }
    m_flights.pop_front();
}

void GradientSync::retireDone()
{
    at::NoGradGuard noGrad;
    while (!m_flights.empty() && (m_flights.front().work->isCompleted() || m_inFlight > m_windowElements))
        retireOldest(flightName(m_mode));
}

double GradientSync::gradientScale() const
{
    return m_group.trivial() ? 1.0 : 1.0 / m_group.size();
}

void GradientSync::finish()
{
    if (m_group.trivial()) return;
    at::NoGradGuard noGrad;
    startUnstarted();
    while (!m_flights.empty()) retireOldest(flightName(m_mode));
    m_collectivesLastStep = m_collectivesThisStep;
    m_collectivesThisStep = 0;
    m_peakInFlightLastStep = m_peakInFlight;
    m_peakInFlight = 0;
    m_armedBackwards = 0;
}

} // namespace meshwork
