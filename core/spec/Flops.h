// Model FLOPs: one function used by the planner's estimates and the trainer's TFLOPS/MFU,
// so that estimate and measurement are counted the same way.
#pragma once

#include <cstdint>

namespace meshwork {

struct ModelSpec;

// Parameters that take part in matrix products per token: every linear in the blocks and
// the output head (embedding lookups and norms excluded; a tied head still counts once).
int64_t matmulParameters(const ModelSpec& model);

// Training FLOPs per token, forward + backward, without recomputation (model FLOPs):
//   6 * matmulParameters + 12 * L * C * T
// The attention term counts QK^T and AV in full (no causal halving), as nanoGPT, llm.c and
// Narayanan et al. 2021 (eq. 3: 72 B s l h^2 (1 + s/6h + V/12lh) per iteration for GPT) do.
double trainingFlopsPerToken(const ModelSpec& model, int64_t seq);

} // namespace meshwork
