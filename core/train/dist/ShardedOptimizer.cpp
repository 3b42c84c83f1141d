#include "core/train/dist/ShardedOptimizer.h"

#include "core/train/dist/Mesh.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>

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

ShardedOptimizer::ShardedOptimizer(const OptimizerConfig& config, const ParameterLayout& layout, at::Tensor flatParams,
                                   at::Tensor flatGrads, Mesh& mesh, CommGroup& group, double offloadFraction)
    : m_mesh(mesh), m_group(group), m_params(std::move(flatParams)), m_grads(std::move(flatGrads)),
      m_statesPerParam(optimizerStatesPerParameter(config.kind))
{
    m_shard = ShardRange::of(layout.totalElements, group.index, group.size());
    const int64_t hostCount = static_cast<int64_t>(std::llround(offloadFraction * static_cast<double>(m_shard.numel())));
    m_deviceEnd = m_shard.end - std::clamp<int64_t>(hostCount, 0, m_shard.numel());
    if (m_deviceEnd > m_shard.begin) {
        m_device = std::make_unique<FlatOptimizer>(config, sliceLayout(layout, m_shard.begin, m_deviceEnd),
                                                   m_params.narrow(0, m_shard.begin, m_deviceEnd - m_shard.begin),
                                                   m_grads.narrow(0, m_shard.begin, m_deviceEnd - m_shard.begin));
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
}

ShardedOptimizer::~ShardedOptimizer() = default;

int64_t ShardedOptimizer::deviceStateBytes() const { return 4 * m_statesPerParam * deviceElements(); }
int64_t ShardedOptimizer::hostStateBytes() const { return 4 * (m_statesPerParam + 2) * hostElements(); }

void ShardedOptimizer::step(double lr)
{
    at::NoGradGuard noGrad;
    if (m_device) m_device->step(lr);
    if (m_host) {
        const int64_t n = m_shard.end - m_deviceEnd;
        m_hostGrads.copy_(m_grads.narrow(0, m_deviceEnd, n));
        m_host->step(lr);
        m_params.narrow(0, m_deviceEnd, n).copy_(m_hostParams, /*non_blocking=*/true);
    }
    gatherParameters();
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

} // namespace meshwork
