#include "core/planner/Activations.h"

#include <algorithm>

namespace meshwork {

ActivationShape activationShape(const ModelSpec& m, const Plan& plan)
{
    ActivationShape x;
    const int cp = plan.cp > 0 ? plan.cp : 1;
    x.s = double(plan.seq) / cp;
    x.b = double(plan.microBatch);
    x.h = double(m.hidden);
    x.f = double(m.ffn);
    x.kv = double(m.kvDim());
    x.kvSaved = m.kvHeads != m.heads ? double(m.hidden) : x.kv;
    x.a = double(m.heads);
    x.t = plan.tp > 0 ? plan.tp : 1;
    x.sp = plan.sp && plan.tp > 1;
    x.swiglu = m.ffnKind == FfnKind::SwiGlu;
    return x;
}

double layerActivationBytes(Target target, const ActivationShape& x, Precision precision, Recompute recompute,
                            bool flash)
{
    const double sb = x.s * x.b, sbh = sb * x.h, t = x.t;
    const double repDiv = x.sp ? t : 1; // replicated terms, split by sequence parallelism
    if (target == Target::Megatron) {
        if (recompute == Recompute::Full) return 2 * sbh / repDiv;
        const double replicated = 10 * sbh;
        const double mlp = (x.swiglu ? 6 : 4) * sb * x.f;
        const double split = 2 * sbh + 4 * sb * x.kv + 2 * sbh + mlp;
        const double core = flash ? 4 * x.a * x.s * x.b : 5 * x.a * x.s * x.s * x.b;
        double bytes = replicated / repDiv + split / t;
        if (recompute == Recompute::None) bytes += core / t;
        return bytes;
    }
    const double e = precision == Precision::Fp32 ? 4 : 2, r = 4;
    if (recompute == Recompute::Full) return r * sbh / repDiv;
    const double replicated = (2 * r + 2 * e) * sbh;
    // q; k and v as SDPA receives them: expanded to every query head under GQA.
    double split = e * (sbh + 2 * sb * x.kvSaved);
    split += e * sbh;                                    // y = o^T made contiguous for the projection
    split += (x.swiglu ? 4 : 2) * e * sb * x.f;          // the MLP's activation function
    if (recompute == Recompute::None) {
        split += e * sbh;                                // SDPA output o
        split += flash ? 4 * x.a * x.s * x.b             // logsumexp (fp32)
                       : 2 * e * x.a * x.s * x.s * x.b;  // math path: scores and probabilities
    }
    return replicated / repDiv + split / t;
}

double inFlightMicroBatches(int pp, int vpp, int64_t microBatches, int stage)
{
    if (pp < 1) pp = 1;
    if (vpp < 1) vpp = 1;
    const double m = double(std::max<int64_t>(microBatches, 1));
    if (pp == 1) return 1;
    if (vpp == 1) return std::min(double(pp - stage), m);
    const double chunks = 2.0 * (pp - stage - 1) + double(vpp - 1) * pp + 1;
    return std::min(chunks, m * vpp) / vpp;
}

} // namespace meshwork
