// Step time of one plan, each term shown (TimeEstimate), from the per-GPU work of the
// slowest pipeline stage and the collectives each parallel axis needs.
#pragma once

#include "core/planner/Estimate.h"

#include <string>
#include <vector>

namespace meshwork {

// Efficiency of one M x N x K GEMM as a fraction of the dense peak (Calibration.h).
double matmulEfficiency(double M, double N, double K, double peakTflops);

// Seconds of one forward+backward of one micro-batch on pipeline rank `stage`, by term.
struct MicroBatchTime {
    double compute = 0, attention = 0, memoryBound = 0, recompute = 0, tpComm = 0, cpComm = 0;
    // What the GPU waits for the host beyond its own work (our trainer's eager ops, Calibration.h).
    double host = 0;
    double device() const { return compute + attention + memoryBound + recompute + tpComm + cpComm; }
    double total() const { return device() + host; }
};
MicroBatchTime microBatchTime(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan,
                              Target target, int stage, bool flash);

// Seconds of one forward+backward of one micro-batch on a virtual stage of n layers: n x
// perLayer, plus `embedding` on the first virtual stage and `head` (final norm, output head,
// loss) on the last, on the device; the host needs n x hostPerLayer to issue it, and the
// longer of the two sets the stage's pace. What StageBalance.h balances.
struct StageCost {
    double perLayer = 0, embedding = 0, head = 0;
    double hostPerLayer = 0, hostEmbedding = 0, hostHead = 0;
};
StageCost stageCost(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target, bool flash);

// The whole step. Appends warnings (TP across nodes, ...) when `warnings` is given.
TimeEstimate timeEstimate(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan,
                          Target target, bool flash, std::vector<std::string>* warnings = nullptr);

// Hardware FLOPs per token: model FLOPs (core/spec/Flops.h) plus the recomputed forward work.
// Full recompute repeats every layer's forward: + 2 x layer matmul params + 4 L C T, which
// turns Narayanan et al. 2021's 72 B s l h^2 (1 + s/6h + V/12lh) into 96 B s l h^2 (1 + s/6h
// + V/16lh); selective recompute repeats the attention core: + 4 L C T.
double hardwareFlopsPerToken(const ModelSpec& model, int64_t seq, Recompute recompute);

} // namespace meshwork
