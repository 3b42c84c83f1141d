#include "core/train/StepMetrics.h"

#include <cmath>

namespace meshwork {

StepEvent makeStepEvent(int64_t step, double loss, double lr, double gradNorm, const StepTiming& t,
                        double memPeakGiB)
{
    StepEvent e;
    e.step = step;
    e.loss = loss;
    e.lr = lr;
    e.gradNorm = std::isfinite(gradNorm) ? gradNorm : -1;
    e.tokens = step * t.tokensPerStep;
    e.tokensPerS = t.seconds > 0 ? static_cast<double>(t.tokensPerStep) / t.seconds : 0;
    e.tflops = t.flopsPerToken * e.tokensPerS / static_cast<double>(t.worldSize) / 1e12;
    e.mfu = t.peakTflops > 0 ? e.tflops / t.peakTflops : 0;
    e.stepMs = t.seconds * 1000.0;
    e.memPeakGiB = memPeakGiB;
    return e;
}

} // namespace meshwork
