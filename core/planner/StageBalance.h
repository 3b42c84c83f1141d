// Pipeline stages of equal time rather than equal layers. The last stage also runs the final
// norm, the output head and the loss (for GPT-2 124M about 5 layers' worth of GEMMs over its
// 50,257-word vocabulary), the first the embedding; with L / pp layers each, the last stage
// sets the pipeline's pace and the others wait. Megatron moves layers off it by hand
// (--decoder-last-pipeline-num-layers), torchtitan counts the head as layers when it splits.
#pragma once

#include "core/planner/Estimate.h"
#include "core/planner/TimeModel.h"

#include <optional>
#include <string>
#include <vector>

namespace meshwork {

// The layers of each virtual stage (pp x vpp values, Plan::stageLayers) that make the slowest
// pipeline rank's time per micro-batch (its chunks together, the time model's StageCost and
// pace) the least: every chunk gets one layer, each further layer goes to the rank that is
// fastest with it (ties to the earlier rank), and a rank's layers spread over its chunks as
// evenly as they go. Empty for pp = 1 or a model with fewer layers than virtual stages.
std::vector<int> balancedStageLayers(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan,
                                     Target target, bool flash);

// The slowest pipeline rank's seconds per micro-batch (all its chunks) under the plan's split.
double slowestStageSeconds(const ModelSpec& model, const StageCost& cost, const Plan& plan);

// A hint when balancing would make the slowest stage at least 5% faster: "pipeline stages are
// uneven: the last stage takes 41% longer per micro-batch than the first ... --stage-layers
// 9,3 ...". nullopt when the plan is balanced enough, or has no pipeline.
std::optional<std::string> stageBalanceHint(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan,
                                            Target target, bool flash);

} // namespace meshwork
