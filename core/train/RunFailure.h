// What a failed run's `error` event says, from the exception that ended it: one mapping for
// every trainer loop (single process and distributed), so the same failure reads the same.
#pragma once

#include "core/json/Json.h"
#include "core/train/TrainError.h"

#include <string>

namespace meshwork {

struct TrainConfig;

struct RunFailure {
    TrainErrorKind kind = TrainErrorKind::Internal;
    std::string message;   // what happened and what to change
    Json extra;            // out of memory: the allocator's figures and the planner's breakdown
};

// Call inside a catch block: describes the exception in flight. CUDA out-of-memory errors
// carry outOfMemoryDetails() for the GPU at localRank; collective failures are `comm`.
RunFailure describeCurrentFailure(const TrainConfig& config, int worldSize, int localRank);

// This machine's host name, for run_start's `hosts`.
std::string hostName();

} // namespace meshwork
