#include "core/planner/ModelStates.h"

namespace meshwork {

StateBytes stateBytes(Target target, Precision precision, Optimizer optimizer)
{
    const bool mixed = precision != Precision::Fp32;
    const double states = (optimizer == Optimizer::AdamW || optimizer == Optimizer::Lamb) ? 8 : 4;
    StateBytes b;
    if (target == Target::Meshwork) {
        b.weights = 4;
        b.autocastCopy = mixed ? 2 : 0;
        b.gradients = 4;
        b.optimizer = states;
        b.master = 0;
        b.weightComm = 4;
        b.gradComm = 4;
    } else {
        b.weights = mixed ? 2 : 4;
        b.gradients = 4;
        b.optimizer = states;
        b.master = mixed ? 4 : 0;
        b.weightComm = b.weights;
        b.gradComm = 4;
    }
    return b;
}

StateBytes stateBytes(Target target, const Plan& plan)
{
    StateBytes b = stateBytes(target, plan.precision, plan.optimizer);
    if (plan.gradReduce == Precision::Bf16) b.gradComm = 2;
    return b;
}

ModelStateMemory modelStateMemory(const StateBytes& sb, double params, double matmulParams,
                                  double layerParams, double layerMatmulParams, const Plan& plan)
{
    const double dp = plan.dp > 0 ? plan.dp : 1;
    const int zero = plan.zero;
    ModelStateMemory m;
    // ZeRO (Rajbhandari et al. 2020): stage 1 shards optimizer states (and masters) over dp,
    // stage 2 also gradients, stage 3 also parameters.
    const double weightShard = zero >= 3 ? 1 / dp : 1;
    const double gradShard = zero >= 2 ? 1 / dp : 1;
    const double optShard = zero >= 1 ? 1 / dp : 1;
    m.weights = params * sb.weights * weightShard;
    m.gradients = params * sb.gradients * gradShard;
    m.optimizer = params * (sb.optimizer + sb.master) * optShard;
    if (zero >= 3) {
        // Parameters live sharded; each layer is gathered for use, with the next prefetched.
        m.gatherBuffer = 2 * (layerParams * sb.weights + layerMatmulParams * sb.autocastCopy);
    } else {
        // The autocast copy of every matmul weight of the stage: LibTorch's autocast cache
        // keeps each cast weight until the forward pass ends (torch.autocast cache_enabled).
        m.weights += matmulParams * sb.autocastCopy;
    }
    const double f = plan.offloadFraction < 0 ? 0 : (plan.offloadFraction > 1 ? 1 : plan.offloadFraction);
    if (plan.offload != Offload::None) {
        // ZeRO-Offload (Ren et al. 2021): optimizer states and masters live on the host, the
        // CPU runs the update, and the gradient shard is copied down into pinned host memory.
        const double moved = m.optimizer * f;
        m.optimizer -= moved;
        m.host += moved + params * sb.gradients * gradShard * f;
        if (plan.offload == Offload::OptimizerParams) {
            // ZeRO-Infinity style parameter offload: the resident shard goes to the host too.
            const double shard = params * sb.weights * weightShard * f;
            m.weights -= shard;
            m.host += shard;
        }
    }
    return m;
}

} // namespace meshwork
