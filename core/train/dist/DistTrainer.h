// The training loop of a distributed run (world size > 1): the single-process loop of
// Trainer.cpp with the mesh woven in. Data parallelism reduces gradients in buckets during the
// backward pass (GradientSync), ZeRO-1/2 shard the optimizer (ShardedOptimizer), and every rank
// writes its own events (memory per rank); rank 0's losses are the global means, so they equal
// the single-process run's.
#pragma once

#include "core/train/TrainContext.h"
#include "core/train/TrainOptions.h"
#include "core/train/Trainer.h"
#include "core/train/dist/DistOptions.h"

#include <ATen/core/Tensor.h>

#include <string>

namespace meshwork {

class EventWriter;

class DistTrainer {
public:
    DistTrainer(const TrainConfig& config, const DistConfig& dist, const TrainContext& context, EventWriter& events);
    // Same contract as Trainer::run: every failure becomes an `error` event (kind comm for a
    // collective that timed out or lost a peer) and `run_end` failed.
    RunResult run();

private:
    RunResult runUnguarded();

    const TrainConfig& m_config;
    const DistConfig& m_dist;
    const TrainContext& m_context;
    EventWriter& m_events;
    int64_t m_stepsDone = 0;
};

// Writes the flat fp32 parameters, raw little-endian, to path (written to path.tmp, renamed).
void writeRawParameters(const std::string& path, const at::Tensor& flat);

} // namespace meshwork
