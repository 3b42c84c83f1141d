// `--dump-reference DIR` (testing): the initial weights, one batch, and the loss and gradients
// the trainer computes for them, so that tests/core/train/reference_check.py can recompute
// both with an independent PyTorch model. Files in DIR, all little-endian:
//   index.json    model spec, the parameter layout (name, shape, offset), B, T, loss
//   params.f32    the flat fp32 parameters      grads.f32   the flat fp32 gradients
//   inputs.i32    int32 [B, T] token ids         targets.i32 int32 [B, T]
//   loss.f32      the loss (one fp32)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace meshwork {

class TransformerModel;

// Computes the loss and gradients of (inputs, targets) in fp32 and writes DIR. Returns the loss.
double dumpReference(const std::string& dir, TransformerModel& model, const std::vector<int32_t>& inputs,
                     const std::vector<int32_t>& targets, int64_t B, int64_t T);

} // namespace meshwork
