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
    : m_mesh(mesh), m_group(group), m_grads(std::move(flatGrads)), m_mode(mode), m_reduceType(reduceType)
{
    if (group.trivial()) return;
    auto elsewhere = [&](size_t i) { return i < reducedElsewhere.size() && reducedElsewhere[i]; };
    if (mode == Mode::AllReduce) {
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
    }
    m_bucketsOfParam.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
        if (elsewhere(i)) continue;
        const int64_t begin = layout.params[i].offset, end = begin + layout.params[i].numel();
        for (size_t k = 0; k < m_buckets.size(); ++k)
            if (m_buckets[k].begin < end && begin < m_buckets[k].end) {
                m_bucketsOfParam[i].push_back(k);
                ++m_buckets[k].params;
            }
        if (mode != Mode::AllReduce) continue;
        auto acc = torch::autograd::impl::grad_accumulator(params[i]);
        acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
            [this, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
                onAccumulated(i);
                return outputs;
            }));
        m_accumulators.push_back(std::move(acc));
    }
}

GradientSync::~GradientSync() = default;

void GradientSync::armFor(int backwards)
{
    m_armedBackwards = backwards;
    m_startedEarly = 0;
    m_accumulationsLeft.assign(m_bucketsOfParam.size(), backwards);
    for (auto& b : m_buckets) {
        b.pending = b.params;
        b.started = false;
    }
    m_flights.clear();
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
}

void GradientSync::startRuns(const std::vector<size_t>& ready)
{
    at::NoGradGuard noGrad;
    for (size_t i = 0; i < ready.size();) {
        size_t j = i;
        while (j + 1 < ready.size() && ready[j + 1] == ready[j] + 1
               && m_buckets[ready[j]].end == m_buckets[ready[j + 1]].begin)
            ++j;
        Flight f;
        f.first = ready[i];
        f.last = ready[j];
        for (size_t k = f.first; k <= f.last; ++k) m_buckets[k].started = true;
        const int64_t begin = m_buckets[f.first].begin, end = m_buckets[f.last].end;
        const at::Tensor part = m_grads.narrow(0, begin, end - begin);
        f.sent = m_reduceType == part.scalar_type() ? part : part.to(m_reduceType);
        std::vector<at::Tensor> t{f.sent};
        c10d::AllreduceOptions opts;
        opts.reduceOp = c10d::ReduceOp::SUM;
        opts.timeout = m_mesh.timeout();
        f.work = m_group.backend->allreduce(t, opts);
        m_flights.push_back(std::move(f));
        i = j + 1;
    }
}

double GradientSync::gradientScale() const
{
    return m_group.trivial() ? 1.0 : 1.0 / m_group.size();
}

void GradientSync::finish()
{
    if (m_group.trivial()) return;
    at::NoGradGuard noGrad;
    if (m_mode == Mode::AllReduce) {
        std::vector<size_t> left;
        for (size_t k = 0; k < m_buckets.size(); ++k)
            if (!m_buckets[k].started) left.push_back(k);
        startRuns(left);
        for (Flight& f : m_flights) {
            m_mesh.wait(f.work, m_group, "gradient all-reduce");
            if (f.sent.scalar_type() != m_grads.scalar_type()) {
                const int64_t begin = m_buckets[f.first].begin, end = m_buckets[f.last].end;
                m_grads.narrow(0, begin, end - begin).copy_(f.sent);
            }
        }
        m_collectivesLastStep = static_cast<int>(m_flights.size());
        m_flights.clear();
        m_armedBackwards = 0;
        return;
    }
    // ZeRO-2: reduce-scatter into this rank's shard. The input is padded to size x stride so
    // every rank's part has the same length (what reduce_scatter_tensor requires).
    const int64_t total = m_grads.numel();
    const int64_t stride = ShardRange::stride(total, m_group.size());
    const ShardRange mine = ShardRange::of(total, m_group.index, m_group.size());
    const auto type = m_grads.options().dtype(m_reduceType);
    at::Tensor input = m_reduceType == m_grads.scalar_type() ? m_grads : m_grads.to(m_reduceType);
    if (stride * m_group.size() != total) {
        at::Tensor padded = at::zeros({stride * m_group.size()}, type);
        padded.narrow(0, 0, total).copy_(input);
        input = padded;
    }
    at::Tensor output = at::empty({stride}, type);
    c10d::ReduceScatterOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    opts.timeout = m_mesh.timeout();
    try {
        m_mesh.wait(m_group.backend->_reduce_scatter_base(output, input, opts), m_group, "gradient reduce-scatter");
    } catch (const c10::Error&) {
        // Backends without reduce-scatter (older Gloo): an all-reduce gives the same sums.
        std::vector<at::Tensor> t{input};
        c10d::AllreduceOptions ar;
        ar.timeout = m_mesh.timeout();
        m_mesh.wait(m_group.backend->allreduce(t, ar), m_group, "gradient all-reduce (reduce-scatter fallback)");
        output.copy_(input.narrow(0, stride * m_group.index, stride));
    }
    if (mine.numel() > 0) m_grads.narrow(0, mine.begin, mine.numel()).copy_(output.narrow(0, 0, mine.numel()));
    m_armedBackwards = 0;
}

} // namespace meshwork
