#include "core/train/dist/TpNormSum.h"

#include "core/train/dist/Mesh.h"
#include "core/train/dist/ParallelModel.h"
#include "core/train/dist/TpOps.h"

#include <ATen/ATen.h>

namespace meshwork {

FlatOptimizer::NormReducer tpNormSum(Mesh& mesh, CommGroup& tp, const ParameterLayout& layout, const ModelSpec& spec)
{
    if (tp.trivial()) return {};
    std::vector<float> counted;
    for (const ParamInfo& p : layout.params)
        counted.push_back(tpSplitOf(p, spec) != TpSplit::Replicated || tp.index == 0 ? 1.0f : 0.0f);
    const at::Tensor weights = at::tensor(counted, at::TensorOptions().dtype(at::kFloat));
    return [&mesh, &tp, weights, device = at::Tensor()](at::Tensor& squaredNorms) mutable {
        if (!device.defined() || device.device() != squaredNorms.device()) device = weights.to(squaredNorms.device());
        squaredNorms.mul_(device);
        allReduceInPlace(mesh, tp, squaredNorms, "per-tensor norm all-reduce (LAMB/LARS over tp shards)");
    };
}

} // namespace meshwork
