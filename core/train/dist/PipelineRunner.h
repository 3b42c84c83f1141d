// Executes a PipelineSchedule on this pipeline rank: forward and backward passes of the model
// chunks it holds over the step's micro-batches, activations and their gradients sent
// point-to-point (c10d send/recv) to the neighbouring stages. Sends are asynchronous and
// waited for at the end of the step; receives block, which the schedule's order makes safe
// (tst_pipelineschedule checks that it drains under exactly these rules).
#pragma once

#include "core/spec/Plan.h"
#include "core/train/dist/PipelineSchedule.h"

#include <ATen/core/Tensor.h>

#include <vector>

namespace meshwork {

class Mesh;
class ParallelModel;

struct MicroBatch {
    at::Tensor inputs, targets; // int64 [B, T] on the device
};

// One training step's passes. Returns the sum of the micro-batch losses on the rank holding
// the last virtual stage, zero elsewhere (a [1] fp32 tensor). Gradients accumulate in the
// model's flat buffer, each loss scaled by lossScale / micro-batches (lossScale: fp16's dynamic
// loss scale, LossScale.h; the gradients sent between stages carry it).
at::Tensor runPipelineStep(ParallelModel& model, Mesh& mesh, const PipelineSchedule& schedule,
                           const std::vector<MicroBatch>& batches, Precision precision, double lossScale = 1.0);

// Forward only, one micro-batch through every virtual stage (evaluation): the loss on the
// last stage's rank, zero elsewhere.
at::Tensor pipelineForwardLoss(ParallelModel& model, Mesh& mesh, const MicroBatch& batch, int vpp, Precision precision);

} // namespace meshwork
