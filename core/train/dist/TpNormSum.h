// LAMB and LARS under tensor parallelism: the trust ratio needs the norm of each whole tensor,
// and a tp-split tensor (ParallelModel.h: qkv, fc, proj, embeddings) is spread over the tp
// group, so its squared norms are summed over the group. A replicated tensor (norm gains and
// biases, row-parallel biases, wpe) is the same on every tp rank and is counted once: tp rank
// 0's copy, the others contribute zero. (Colossal-AI's DistributedLamb and Megatron's
// multi-tensor norms sum shards over the model-parallel group the same way.)
#pragma once

#include "core/spec/ModelSpec.h"
#include "core/train/Optimizer.h"
#include "core/train/ParameterLayout.h"

namespace meshwork {

class Mesh;
struct CommGroup;

// The reducer for a FlatOptimizer (or ShardedOptimizer::setNormSum) over `layout`, this rank's
// local layout, whose [2, P] squared norms are indexed by the layout's tensors. Empty (no
// reduction) when the tp group is a single rank.
FlatOptimizer::NormReducer tpNormSum(Mesh& mesh, CommGroup& tp, const ParameterLayout& layout, const ModelSpec& spec);

} // namespace meshwork
