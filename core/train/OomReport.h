// What an out-of-memory `error` event carries: the allocator's own figures beside the
// planner's predicted breakdown for the same plan (Target::Meshwork mirrors this trainer),
// so the user sees which term the estimate got wrong, or how far over the card the plan is.
#pragma once

#include "core/json/Json.h"

#include <c10/core/Device.h>

namespace meshwork {

struct TrainConfig;

// {"allocator": {...}, "planner_estimate": {memory per stage in GiB, total_gib, capacity}}.
// worldSize: the ranks of the run (one node of that many GPUs for the estimate).
Json outOfMemoryDetails(const TrainConfig& config, int worldSize, c10::Device device);

} // namespace meshwork
