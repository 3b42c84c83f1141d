// What data parallelism adds to a step, against one replica alone, and how accumulation hides
// it. meshwork-train reduces the gradients once a step under ZeRO 0 and 1 (ZeRO-2 of a whole
// model reduces after every micro-batch, ZeRO-3 gathers and reduces every micro-batch): the
// all-reduce that the backward does not hide and the host work that issues it are a cost per
// step, not per token, so more micro-batches a step spread it. On 4 H200s (docs/bench
// gpu-h200x4-layouts-token-batch.txt) GPT-2 124M under dp 4 kept 85.7-91.5% of one GPU's
// tokens/s with one micro-batch of 8 x 1024 a step and 97.7-100.9% with 16; LLaMA-1B 90.8-93.2%
// with one of 2 x 2048 and 98.4-98.6% with 32.
#pragma once

#include "core/planner/Estimate.h"

#include <optional>
#include <string>

namespace meshwork {

// The share of the plan's step that data parallelism adds: 1 - (the step of one replica, the
// plan with dp 1 and the same micro-batches a step) / (the plan's step). 0 without dp.
double dataParallelCost(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target,
                        bool flash);

// For the meshwork target where data parallelism costs more than 5% of the step: the fewest
// micro-batches a step (the plan's times a power of 2, up to 64) that bring it under 3%, with
// the global batch that takes (none where the bytes move every micro-batch): "data parallelism costs 12% of each step ...
// 16 micro-batches a step (global batch 512) bring that to 0.3%". nullopt otherwise.
std::optional<std::string> dataParallelHint(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan,
                                            Target target, bool flash);

} // namespace meshwork
