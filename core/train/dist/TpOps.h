// The communication operators of Megatron-LM's tensor parallelism (Shoeybi et al. 2019,
// Section 3; Korthikanti et al. 2022 for sequence parallelism) as autograd functions over a
// tensor-parallel group of t ranks:
//   f  copyToTp:        forward identity,           backward all-reduce  (input of a column-parallel linear)
//   g  reduceFromTp:    forward all-reduce,         backward identity    (output of a row-parallel linear)
//   g' scatterSeq:      forward reduce-scatter,     backward all-gather  (SP: row-parallel output to sequence shards)
//   f' gatherSeq:       forward all-gather,         backward reduce-scatter (SP: sequence shards to a column-parallel input)
// f and g are conjugate: the backward of one is the forward of the other. The sequence
// dimension is dim 1 of [B, T, C] activations.
#pragma once

#include <ATen/core/Tensor.h>

namespace meshwork {

class Mesh;
struct CommGroup;

at::Tensor copyToTp(const at::Tensor& x, Mesh& mesh, CommGroup& tp);
at::Tensor reduceFromTp(const at::Tensor& x, Mesh& mesh, CommGroup& tp);
at::Tensor scatterSeq(const at::Tensor& x, Mesh& mesh, CommGroup& tp);
at::Tensor gatherSeq(const at::Tensor& x, Mesh& mesh, CommGroup& tp);

// Cross-entropy over logits whose vocabulary is split across the group (Megatron's
// vocab_parallel_cross_entropy): rank j holds columns [vocabStart, vocabStart + Vl) of
// logits [N, Vl] (fp32). loss = mean(log sum_v exp(l_v - m) - (l_target - m)) with m the global
// row maximum; the sums and the target logit are all-reduced (g), so each rank's backward
// gives softmax - onehot on its own columns only.
at::Tensor vocabParallelCrossEntropy(const at::Tensor& localLogits, const at::Tensor& targets, int64_t vocabStart,
                                     Mesh& mesh, CommGroup& tp);

// Plain (non-autograd) collectives used by the operators and the trainer.
void allReduceInPlace(Mesh& mesh, CommGroup& group, at::Tensor& t, const char* what, bool max = false);
at::Tensor allGatherDim0(Mesh& mesh, CommGroup& group, const at::Tensor& x);      // [n, ...] -> [t n, ...]
at::Tensor reduceScatterDim0(Mesh& mesh, CommGroup& group, const at::Tensor& x);  // [t n, ...] -> [n, ...], summed

} // namespace meshwork
