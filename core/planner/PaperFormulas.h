// The published closed forms the planner is checked against, written exactly as the papers
// state them so that tests can reproduce the papers' numbers. The planner's own models
// (MemoryModel, Activations, TimeModel) generalise these; tests show they agree where the
// papers' assumptions hold.
#pragma once

#include <cstdint>

namespace meshwork::paper {

// Rajbhandari et al. 2020 (ZeRO), Section 5 / Figure 1: model-state bytes per GPU for
// Psi parameters trained with mixed-precision Adam (K = 12 bytes of optimizer state per
// parameter: fp32 master, momentum, variance) over Nd data-parallel ranks:
//   stage 0: (2 + 2 + K) Psi            stage 1 (P_os):  2 Psi + 2 Psi + K Psi / Nd
//   stage 2 (P_os+g): 2 Psi + (2 + K) Psi / Nd   stage 3 (P_os+g+p): (2 + 2 + K) Psi / Nd
double zeroModelStateBytes(double psi, double k, int nd, int stage);

// Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models",
// Table 2: activation bytes of one transformer layer (16-bit activations, GPT layer with
// a 4h MLP and dropout), s sequence, b micro-batch, h hidden, a heads, t tensor parallel.
//   no parallelism, no recompute:       sbh (34 + 5as/h)
//   tensor parallel, no SP:             sbh (10 + 24/t + 5as/(ht))
//   tensor + sequence parallel:         sbh/t (34 + 5as/h)
//   selective recompute, no SP:         sbh (10 + 24/t)
//   selective recompute with SP:        sbh (34/t)
//   full recompute:                     2sbh (only each layer's input; /t with SP)
enum class PaperRecompute { None, Selective, Full };
double korthikantiLayerActivationBytes(double s, double b, double h, double a, double t, bool sp,
                                       PaperRecompute recompute);

// Narayanan et al. 2021 (Megatron-LM at scale), Section 5.1 eq. 3: FLOPs of one iteration
// of a GPT model with l layers, hidden h, vocabulary V, batch B, sequence s:
//   model FLOPs (no recompute):   72 B s l h^2 (1 + s/(6h) + V/(12 l h))
//   with full recompute (as the paper reports hardware FLOPs): 96 B s l h^2 (1 + s/(6h) + V/(16 l h))
double narayananIterationFlops(double B, double s, double l, double h, double V, bool fullRecompute);

} // namespace meshwork::paper
