// Every valid plan for a model and a cluster, ranked by throughput, with the Pareto front
// of throughput against memory headroom.
#pragma once

#include "core/planner/Estimate.h"

#include <functional>
#include <vector>

namespace meshwork {

struct SearchOptions {
    Target target = Target::Meshwork;
    EstimateOptions estimateOptions;
    // The base plan fixes what the search does not vary: seq, global batch, precision,
    // optimizer. Degrees, ZeRO, recompute, micro-batch, vpp, sp and offload are varied.
    Plan base;
    bool includeOffload = true;
    bool includeInvalid = false;    // keep plans that do not fit (marked), for display
    // Pipelines take the layers per stage that even the stages' time (StageBalance.h), where
    // that split fits in memory and is faster; otherwise L / (pp vpp) each.
    bool balanceStages = true;
    // Called now and then with progress in [0, 1]; return false to cancel.
    std::function<bool(double)> progress;
};

struct SearchResult {
    Plan plan;
    Estimate estimate;
    double headroomGiB = 0;  // capacity - fullest GPU
    bool pareto = false;     // on the front of tokens/s against headroom
};

struct SearchOutcome {
    std::vector<SearchResult> results;  // best throughput first
    size_t considered = 0;              // plans looked at
    bool cancelled = false;
};

SearchOutcome searchPlans(const ModelSpec& model, const ClusterSpec& cluster, const SearchOptions& options);

} // namespace meshwork
