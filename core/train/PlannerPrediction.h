// The planner's estimate for the run this trainer is doing (Target::Meshwork mirrors this
// trainer's buffers), written into run_start as "predicted" so that every run carries the
// estimate it is measured against: the run store computes the error, the live charts draw it as
// a reference line, and the GPU benchmarks print it beside the measurement.
#pragma once

#include "core/json/Json.h"
#include "core/spec/GpuSpec.h"

#include <c10/core/Device.h>

namespace meshwork {

struct TrainConfig;

// One node of worldSize GPUs of this process's card. A card the catalog does not know gets the
// first catalog entry's speeds with this card's name and capacity (memory terms do not depend
// on speed, throughput then does not mean much: knownCard says which).
struct LocalCluster {
    ClusterSpec cluster;
    bool knownCard = false;
};
LocalCluster localCluster(c10::Device device, int worldSize);

// {"tokens_per_s" (whole run), "tflops" (per GPU), "mfu", "mem_gib" (this rank's pipeline stage,
// as the allocator's peak: comparable with mem_peak_gib), "mem_total_gib" (the card's whole use:
// with CUDA context and fragmentation reserve), "mem_stages_gib" (every pipeline stage, when
// pp > 1), "gpu", "stage", "source"}. Null on the CPU (the
// planner models GPUs) or when the planner cannot estimate the plan.
Json plannerPrediction(const TrainConfig& config, int worldSize, int pipelineRank, c10::Device device);
// The same for a given cluster (no device needed: what the GPU runs use, testable on the CPU).
Json plannerPrediction(const TrainConfig& config, const LocalCluster& local, int pipelineRank);

} // namespace meshwork
