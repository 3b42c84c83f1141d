// Who this process is in the run: passed explicitly to every part of the trainer (no global
// process groups; CONVENTIONS.md, Megatron's ProcessGroupCollection). Single-process runs use
// the defaults; the distributed launcher (issue #4) fills in ranks and, later, communicators.
#pragma once

#include <atomic>
#include <string>

namespace meshwork {

struct ProcessGroups {
    int rank = 0;        // global rank
    int worldSize = 1;
    int localRank = 0;   // rank on this host: picks the GPU
    int dpRank = 0;      // position on the data-parallel axis: picks the data shard
    int dpSize = 1;
    bool isRankZero() const { return rank == 0; }
};

struct TrainContext {
    ProcessGroups groups;
    // Set from a signal handler (SIGTERM, SIGINT): the loop checkpoints and ends `cancelled`.
    const std::atomic<bool>* stopRequested = nullptr;
    bool stopping() const { return stopRequested && stopRequested->load(std::memory_order_relaxed); }
};

} // namespace meshwork
