#include "core/train/dist/PipelineSchedule.h"

#include <algorithm>
#include <stdexcept>

namespace meshwork {

namespace {

PipeOp virtualOp(PipeOp::Kind kind, int k, int pp, int vpp)
{
    PipeOp op;
    op.kind = kind;
    const int group = k / (pp * vpp);
    op.microBatch = group * pp + k % pp;
    const int chunk = (k / pp) % vpp;
    op.chunk = kind == PipeOp::Forward ? chunk : vpp - 1 - chunk;
    return op;
}

} // namespace

PipelineSchedule pipelineSchedule(int pp, int vpp, int m)
{
    if (pp < 1 || vpp < 1 || m < 1)
        throw std::invalid_argument("pipeline schedule needs pp, vpp and micro-batches of at least 1 (got pp "
                                    + std::to_string(pp) + ", vpp " + std::to_string(vpp) + ", m " + std::to_string(m) + ")");
    if (vpp > 1 && m % pp != 0)
        throw std::invalid_argument("the interleaved schedule needs micro-batches (" + std::to_string(m)
                                    + ") to be a multiple of pp (" + std::to_string(pp) + ")");
    PipelineSchedule s;
    s.pp = pp, s.vpp = vpp, s.microBatches = m;
    s.ranks.resize(pp);
    s.warmups.resize(pp);
    const int total = m * vpp;
    for (int i = 0; i < pp; ++i) {
        const int warm = vpp == 1 ? std::min(pp - i - 1, m) : std::min((pp - i - 1) * 2 + (vpp - 1) * pp, total);
        s.warmups[i] = warm;
        auto& ops = s.ranks[i];
        int f = 0, b = 0;
        auto fwd = [&] { ops.push_back(virtualOp(PipeOp::Forward, f++, pp, vpp)); };
        auto bwd = [&] { ops.push_back(virtualOp(PipeOp::Backward, b++, pp, vpp)); };
        for (int k = 0; k < warm; ++k) fwd();
        for (int k = 0; k < total - warm; ++k) fwd(), bwd();
        while (b < total) bwd();
    }
    return s;
}

int PipelineSchedule::maxInFlight(int rank) const
{
    int live = 0, peak = 0;
    for (const auto& op : ranks.at(rank)) {
        live += op.kind == PipeOp::Forward ? 1 : -1;
        peak = std::max(peak, live);
    }
    return peak;
}

std::string describe(const PipelineSchedule& s)
{
    std::string out;
    for (size_t i = 0; i < s.ranks.size(); ++i) {
        out += "rank " + std::to_string(i) + ":";
        for (const auto& op : s.ranks[i])
            out += std::string(" ") + (op.kind == PipeOp::Forward ? "F" : "B") + std::to_string(op.microBatch) + "."
                 + std::to_string(op.chunk);
        out += "\n";
    }
    return out;
}

} // namespace meshwork
