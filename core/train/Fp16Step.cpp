#include "core/train/Fp16Step.h"

#include "core/events/EventWriter.h"
#include "core/json/Json.h"
#include "core/train/Checkpoint.h"
#include "core/train/LossScale.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <string>

namespace meshwork {

bool finishFp16Step(LoopState& state, at::Tensor& grads, double& gradNorm, int64_t step, EventWriter& events)
{
    const double usedScale = state.lossScale;
    if (!updateLossScale(state.lossScale, state.goodSteps, std::isfinite(gradNorm))) {
        events.log("warning", "step " + std::to_string(step) + ": fp16 gradients overflowed; loss scale now "
                                  + formatJsonNumber(state.lossScale));
        return true;
    }
    at::NoGradGuard noGrad;
    grads.mul_(1.0 / usedScale);
    gradNorm /= usedScale;
    return false;
}

} // namespace meshwork
