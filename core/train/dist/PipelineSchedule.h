// The order in which each pipeline rank runs forward and backward passes over micro-batches:
// a pure function, tested without devices, shared by the trainer (which executes it) and the
// tests (which check it against the planner's in-flight assumption, Activations.h).
//
// 1F1B (PipeDream-Flush, Narayanan et al. 2021 Section 2.2): rank i runs
// w_i = min(pp - i - 1, m) warm-up forwards, then alternates one forward and one backward, then
// drains the w_i outstanding backwards; at most pp - i micro-batches are in flight on rank i.
//
// Interleaved 1F1B (Section 2.2.2, Megatron's forward_backward_pipelining_with_interleaving):
// rank i holds vpp model chunks (chunk c on rank i is virtual stage c * pp + i). Forwards run
// micro-batches in groups of pp: virtual micro-batch k is micro-batch (k / (pp vpp)) pp + k % pp
// on chunk (k / pp) % vpp; backwards the same with the chunks reversed. Warm-up is
// (pp - i - 1) * 2 + (vpp - 1) * pp virtual micro-batches (capped at m vpp); needs m % pp == 0.
#pragma once

#include <string>
#include <vector>

namespace meshwork {

struct PipeOp {
    enum Kind { Forward, Backward };
    Kind kind = Forward;
    int microBatch = 0;
    int chunk = 0;          // model chunk on this rank, 0 .. vpp-1
    bool operator==(const PipeOp&) const = default;
};

struct PipelineSchedule {
    int pp = 1, vpp = 1, microBatches = 1;
    std::vector<std::vector<PipeOp>> ranks; // ranks[i]: rank i's ops in order
    std::vector<int> warmups;               // warm-up forwards of each rank (before the 1F1B phase)
    int warmup(int rank) const { return warmups.at(rank); }
    // The most (micro-batch, chunk) activations rank holds at once (forwards not yet backwarded).
    int maxInFlight(int rank) const;
};

// Throws std::invalid_argument for pp, vpp or m below 1, or vpp > 1 with m not a multiple of pp.
PipelineSchedule pipelineSchedule(int pp, int vpp, int microBatches);

// "F3.1" style listing, one line per rank (for logs and test failures).
std::string describe(const PipelineSchedule& s);

} // namespace meshwork
