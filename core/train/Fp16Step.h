// The fp16 end of a training step, shared by the single-process and the distributed loops:
// the loss was multiplied by state.lossScale before backward (LossScale.h). A non-finite
// gradient norm means the scaled gradients overflowed: the step is skipped and the scale
// lowered (logged as a warning); otherwise the gradients and their norm are unscaled in place,
// before clipping and the optimizer. In a distributed run every rank passes the same
// all-reduced norm, so all ranks skip an overflowed step together.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace meshwork {

class EventWriter;
struct LoopState;

// Returns true when the step must be skipped.
bool finishFp16Step(LoopState& state, at::Tensor& grads, double& gradNorm, int64_t step, EventWriter& events);

} // namespace meshwork
