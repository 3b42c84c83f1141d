// Published, measured training runs that the planner's megatron target is checked against
// (test_validation.cpp; the table in docs/validation.md is written from these). Each run
// states what its source states; what a source leaves open (micro-batch size, interleaving)
// the test lets the planner choose, as the authors tuned it: the fastest option that fits.
#pragma once

#include "core/planner/Estimate.h"
#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"

#include <string>
#include <vector>

namespace meshwork::validation {

enum class Measure {
    HardwareTflops, // TFLOP/s per GPU counting the recomputed forward (Narayanan et al. 2021 eq. 3)
    ModelTflops,    // TFLOP/s per GPU of model FLOPs
    Mfu,            // model FLOPs utilisation
    StepSeconds,    // seconds per iteration
};

struct Run {
    std::string name;
    std::string source;
    ModelSpec model;
    std::string gpu;           // catalog id
    int nodes = 1;
    double interNodeGBps = 0;  // 0: the catalog's figure
    Plan plan;                 // stated layout; microBatch/vpp are searched when not stated
    // The layers of each pipeline rank where the source splits them unevenly (empty: L / pp),
    // spread over the chunks of whichever vpp (StageLayers.h: stageLayersOfRanks).
    std::vector<int64_t> rankLayers;
    bool microBatchStated = false;
    bool vppStated = false;
    bool recomputeStated = true;
    // 2021-22 Megatron-LM materialised the attention scores; Llama 3 used flash attention.
    AttentionKernel attention = AttentionKernel::Materialized;
    Measure measure = Measure::HardwareTflops;
    double measured = 0;       // in the unit of `measure` (MFU as a fraction)
    std::string note;
    // Shown in the table but outside the test's bounds, with the reason (a different framework).
    std::string outsideBounds;
};

std::vector<Run> publishedRuns();

} // namespace meshwork::validation
