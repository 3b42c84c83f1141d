// ZeRO stages 1 and 2 (Rajbhandari et al. 2020) over the flat buffers: data-parallel rank r of
// d owns the slice ShardRange::of(N, r, d) of the parameters and keeps optimizer states for it
// alone (4N/d bytes per state instead of 4N), updates only its slice from the averaged
// gradients, then every rank's slice is all-gathered so all ranks hold the full parameters.
//
// Optimizer-state offload (Colossal-AI Gemini, ZeRO-Offload): the last --offload-fraction of
// the slice keeps its fp32 master weights and states in (pinned) host memory and is updated by
// the CPU: gradients go device-to-host, the updated weights host-to-device.
//
// The gather of the updated slices either waits at the end of step() (one all-gather), or,
// with overlapGather(), runs while the next forward does (as Megatron's distributed optimizer
// with --overlap-param-gather and DeepSpeed's ZeRO-3 prefetch): the buffer is cut into pieces
// (gatherPieces), each broadcast from the rank that owns it in the order the forward reads them,
// and enter(u) of the model's unit hooks waits only for the pieces unit u reads (with NCCL the
// compute stream waits, the host runs on). A piece is broadcast from its owner, not all-gathered:
// an all-gather takes an equal part from every rank, and the embeddings that the forward reads
// first lie in the first ranks' shards alone.
//
// LAMB and LARS scale by norms of whole tensors, which a slice cuts: each part computes the
// squared norms of its pieces, they are summed per tensor of the layout over the parts and
// the data-parallel group (then over tp by setNormSum's hook), and every piece takes its
// tensor's sum (You et al. 2020 compute the trust ratio per layer; a shard's own ratio would
// be another optimizer).
#pragma once

#include "core/train/Checkpoint.h"
#include "core/train/Model.h"
#include "core/train/Optimizer.h"
#include "core/train/ParameterLayout.h"
#include "core/train/dist/GradientSync.h"

#include <ATen/core/Tensor.h>

#include <deque>
#include <memory>
#include <utility>
#include <vector>

namespace meshwork {

class Mesh;
struct CommGroup;

// The layout of the elements [begin, end) of a flat buffer: every parameter cut to the part
// inside, as a 1-D tensor at an offset relative to begin; the decaying prefix follows.
ParameterLayout sliceLayout(const ParameterLayout& full, int64_t begin, int64_t end);

// LAMB and LARS over slices of tensors (ZeRO-1/2 slices, ZeRO-3 unit shards, their offloaded
// parts): one optimizer per slice, and for each of its pieces the index of its whole tensor
// among `tensors` (on the device of the sums).
struct NormPiece {
    FlatOptimizer* optimizer;
    at::Tensor tensorIds;
};
// Each piece's squared norms (beginStep) are added at its tensors' indices of a [2, tensors]
// sum, which is summed over the group (every rank takes part, one without a piece of a tensor
// with zeros) and then by `more` (tp ranks) if set; every piece is then updated with its whole
// tensors' norms (finishStep), a host piece with a copy on the host.
void stepWithWholeTensorNorms(const std::vector<NormPiece>& pieces, int64_t tensors, const at::TensorOptions& sums,
                              Mesh& mesh, CommGroup& group, const FlatOptimizer::NormReducer& more, double lr,
                              const char* what);

// A piece of the overlapped gather: [begin, end) of the flat buffer inside the shard of the
// group's rank `owner`, and the first unit of the forward (parameterUnit) that reads any of it.
struct GatherPiece {
    int64_t begin = 0, end = 0;
    int owner = 0;
    int need = 0;
};
// The buffer of `layout` in pieces, in the order they are broadcast: the runs of each unit's
// matrices and the tail of norms and biases (which the first layer reads), cut at the shard
// boundaries of `ranks` ranks (ShardRange::of) and ordered by need, then by offset; a piece
// takes the runs after it that its owner holds next to it, until it has minElements and as
// many as all the pieces before it (few collectives, small ones first).
std::vector<GatherPiece> gatherPieces(const ParameterLayout& layout, int64_t layers, int ranks, int64_t minElements);

class ShardedOptimizer final : public ParameterUnitHooks {
public:
    // flatGrads: the whole flat gradient buffer, or (gradsBegin = the shard's begin) ZeRO-2's
    // buffer of the shard alone (GradientSync::Mode::Partitioned).
    ShardedOptimizer(const OptimizerConfig& config, const ParameterLayout& layout, at::Tensor flatParams,
                     at::Tensor flatGrads, Mesh& mesh, CommGroup& group, double offloadFraction,
                     int64_t gradsBegin = 0);
    ~ShardedOptimizer();

    // Updates this rank's slice, then all-gathers the parameters, or with overlapGather() starts
    // broadcasting them.
    void step(double lr);
    // From the next step on, the updated slices travel during the next forward, whose unit
    // hooks this must be (setUnitHooks of TransformerModel or ParallelModel); a model of
    // `layers` layers.
    void overlapGather(const ParameterLayout& layout, int64_t layers, int64_t minPieceElements);
    // Waits for every piece still in flight: before anything reads all the parameters outside
    // a forward (a checkpoint, the parameter dump).
    void finishGather();
    // ParameterUnitHooks: enter() waits for the pieces the unit reads; the parameters stay.
    void enter(int unit) override;
    at::Tensor leave(int, const at::Tensor& out) override { return out; }
    int gatherPieceCount() const { return static_cast<int>(m_pieces.size()); }
    // LAMB, LARS: after the per-tensor squared norms ([2, P], P the tensors of the layout) are
    // summed over the parts and the group, sums them over further ranks (tensor parallelism).
    void setNormSum(FlatOptimizer::NormReducer sum) { m_normSum = std::move(sum); }

    // For checkpoints: the slice's named states (device part then host part, so the offload
    // fraction may change between runs), the step count, and their restore (which also
    // refreshes the host master weights from the parameters).
    NamedTensors states() const;
    void loadStates(const NamedTensors& states);
    int64_t stepCount() const;
    void setStepCount(int64_t t);

    const ShardRange& shard() const { return m_shard; }
    int64_t deviceElements() const { return m_deviceEnd - m_shard.begin; }
    int64_t hostElements() const { return m_shard.end - m_deviceEnd; }
    // Bytes of optimizer states (and host master weights) on the device and on the host.
    int64_t deviceStateBytes() const;
    int64_t hostStateBytes() const;

private:
    void gatherParameters();
    void startGather();
    void stepWithWholeTensorNorms(double lr);

    Mesh& m_mesh;
    CommGroup& m_group;
    at::Tensor m_params, m_grads;
    int64_t m_gradsBegin = 0;                   // the layout's element at m_grads[0]
    ShardRange m_shard;
    int64_t m_deviceEnd = 0;                    // [begin, m_deviceEnd) on the device, the rest on the host
    int m_statesPerParam = 2;
    std::unique_ptr<FlatOptimizer> m_device;    // over the device part
    std::unique_ptr<FlatOptimizer> m_host;      // over the host part
    at::Tensor m_hostParams, m_hostGrads;       // pinned when the device is a GPU
    bool m_needsNorms = false;                  // LAMB, LARS
    int64_t m_tensors = 0;                      // tensors in the layout
    at::Tensor m_deviceTensorIds, m_hostTensorIds; // each part's segment -> its tensor in the layout
    FlatOptimizer::NormReducer m_normSum;
    std::vector<GatherPiece> m_pieces;          // overlapGather(): broadcast in this order
    std::deque<std::pair<int, c10::intrusive_ptr<c10d::Work>>> m_inFlight; // need, broadcast
};

} // namespace meshwork
