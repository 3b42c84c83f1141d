// Dynamic loss scaling for fp16 (Micikevicius et al. 2018, "Mixed Precision Training"):
// the loss is multiplied by `scale` before backward so small fp16 gradients do not flush to
// zero; a step whose gradients overflowed is skipped and the scale halved (not below 1);
// after `growthInterval` clean steps in a row the scale doubles.
#pragma once

#include <cstdint>

namespace meshwork {

// Updates scale and goodSteps after a step; returns true when that step's gradients are
// usable (finite), false when the step must be skipped.
inline bool updateLossScale(double& scale, int64_t& goodSteps, bool gradientsFinite, int64_t growthInterval = 2000)
{
    if (!gradientsFinite) {
        scale = scale / 2 < 1.0 ? 1.0 : scale / 2;
        goodSteps = 0;
        return false;
    }
    if (++goodSteps >= growthInterval) {
        scale *= 2;
        goodSteps = 0;
    }
    return true;
}

} // namespace meshwork
