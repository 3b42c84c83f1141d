// Activation recomputation (Chen et al. 2016, "Training deep nets with sublinear memory
// cost"; Korthikanti et al. 2022 for the selective form): a custom autograd function that
// runs `fn` without keeping its intermediate activations and, in backward, reruns it with
// gradients on to get them back. Parameters used inside fn must be passed among `inputs`
// so that their gradients flow out of this node.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace meshwork {

using RecomputeFn = std::function<at::Tensor(const std::vector<at::Tensor>& inputs)>;

// Returns fn(inputs); stores only the inputs for backward. The autocast state (on or off, and
// its type) at the call is restored for the recomputation, which also bypasses the autocast
// weight-cast cache (its keys would outlive the recomputation's temporary tensors).
at::Tensor recompute(RecomputeFn fn, const std::vector<at::Tensor>& inputs);

} // namespace meshwork
