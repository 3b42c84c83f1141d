// Memory per GPU of every pipeline stage: model states (ModelStates), activations
// (Activations), the logits buffer, communication buffers, CUDA context, allocator reserve.
#pragma once

#include "core/planner/Estimate.h"

namespace meshwork {

// Fills one StageMemory (GiB) for pipeline rank `stage`.
StageMemory stageMemory(const ModelSpec& model, const Plan& plan, Target target, int stage, bool flash);

// GiB of the fullest GPU (stage 0 or the last), without building every stage: the search's test.
double fullestStageGiB(const ModelSpec& model, const Plan& plan, Target target, bool flash);

// Every stage, the fullest, and the capacity of the cluster's GPU.
MemoryEstimate memoryEstimate(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target,
                              bool flash);

inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

} // namespace meshwork
