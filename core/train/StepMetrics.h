// One step's `step` event from its timing, counted the same way by every trainer loop:
// tokens/s over all ranks, model TFLOPS per GPU (core/spec/Flops.h) and MFU.
#pragma once

#include "core/events/EventWriter.h"

#include <cstdint>

namespace meshwork {

struct StepTiming {
    int64_t tokensPerStep = 0;  // all ranks
    double seconds = 0;         // wall time of the step
    double flopsPerToken = 0;   // trainingFlopsPerToken
    int worldSize = 1;
    double peakTflops = 0;      // of the GPU in the plan's precision; 0 on CPU (MFU 0)
};

StepEvent makeStepEvent(int64_t step, double loss, double lr, double gradNorm, const StepTiming& timing,
                        double memPeakGiB);

} // namespace meshwork
