// ZeRO stage 3 (Rajbhandari et al. 2020; the FSDP form of Zhao et al. 2023, "PyTorch FSDP"):
// parameters, gradients and optimizer states all sharded over the data-parallel group.
//
// The model's parameters are grouped into units (TransformerModel's: the embeddings, each
// layer, the final norm and head). A unit's tensors are views into one unit buffer of N_u
// elements, decaying tensors first, padded to d x ceil(N_u / d); data-parallel rank r of d
// keeps only the slice [r s, (r+1) s) of it (s = ceil(N_u / d)), with the matching slices of
// the gradients and optimizer states, in flat local buffers. The unit buffer's storage is
// empty except while the unit is in use:
//   forward:  enter(u) all-gathers the unit (and starts the next unit's gather, which runs
//             during u's forward: FSDP's forward prefetch), leave(u) frees it and hooks the
//             unit's output;
//   backward: the hook (which runs before the output's grad_fn) gathers the unit again (or
//             waits for its prefetch), allocates its gradient buffer and starts gathering
//             u - 1, the unit whose backward runs next, so that it runs during u's backward
//             (FSDP's backward prefetch). Once every parameter of the unit has accumulated its
//             gradient (AccumulateGrad post-hooks, as GradientSync) the unit's parameters are
//             freed and the reduce-scatter of its gradients starts without a wait. A started
//             reduction completes (wait, add averaged over d into the local gradient shard,
//             free the gradient buffer) when the next one starts, so it runs during the next
//             unit's backward and at most kReductionsInFlight = 1 is in flight; the last one
//             completes when the backward pass ends (an autograd final callback, as FSDP's),
//             those of units whose gradients did not all arrive in finishBackward(). Every
//             rank issues and completes them in the same order.
//             With NCCL a wait only makes the compute stream wait for the collective (behind
//             the backward kernels already queued), and a buffer is freed after its wait: the
//             caching allocator reuses it in the compute stream's order, after the collective.
// Resident at once, with P(u) a unit's gathered parameters and G(u) its gradients (the same
// fp32 bytes), at the start of u's forward and of its backward:
//   forward:  P(u) + P(u+1)
//   backward: P(u) + G(u) + P(u-1) (prefetched) + G(u+1) (in flight)
// plus P(0) for the tied head, which reads wte (and the 1/d output slice of the reduction in
// flight, which residentBytes() leaves out): a layer's backward holds one layer's parameters
// and one unit's gradients more than without the overlap (MemoryModel.cpp adds the same), and
// the peak is at most 4 x the largest unit, plus the embeddings when tied.
//
// FSDP frees with a storage resize to 0 and re-allocates into the same StorageImpl, so the
// parameter tensors and the views autograd saved stay valid: resizeStorage() does that with
// the storage's own allocator (CPU, or the CUDA caching allocator).
//
// The optimizer runs on the local shard, one FlatOptimizer per unit slice (each slice is a
// decaying prefix and the rest, so the AdamW maths is FlatOptimizer's). Offload as ZeRO-Offload
// (Ren et al. 2021): the last --offload-fraction of the local shard keeps its optimizer states
// and master weights in (pinned) host memory and is updated by the CPU; with optimizer+params
// that part of the parameter shard lives only on the host and is copied up per gather.
// LAMB and LARS scale by whole-tensor norms: each slice's squared norms are summed per tensor
// over the group before the update (as ShardedOptimizer does for ZeRO-1/2).
//
// Data parallelism alone (tp = pp = 1): unsupportedParallelism() says so for other plans.
#pragma once

#include "core/train/Model.h"
#include "core/train/Optimizer.h"
#include "core/train/ParameterLayout.h"

#include <ATen/core/Tensor.h>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace torch::autograd {
struct Node;
}

namespace meshwork {

class Mesh;
struct CommGroup;

class Zero3 final : public ParameterUnitHooks {
public:
    // Takes the model's (initialized) parameters: keeps this rank's shard of them, repoints the
    // model's tensors into the unit buffers and releases the model's flat buffers.
    // reduceType: what gradients travel as (at::kBFloat16 for --grad-reduce bf16: a bf16 copy
    // of each unit's gradients is reduce-scattered, the shard stays fp32).
    Zero3(TransformerModel& model, Mesh& mesh, CommGroup& group, const OptimizerConfig& config,
          double offloadFraction, bool offloadParams, at::ScalarType reduceType = at::kFloat);
    ~Zero3() override;

    void enter(int unit) override;
    at::Tensor leave(int unit, const at::Tensor& out) override;
    // A unit's gradient buffers are allocated when its backward begins (prepareBackward).
    bool gradientBuffersLive() const override { return false; }

    // After the backward pass: reduces the units whose gradients did not all arrive (a
    // parameter without a gradient), in unit order on every rank, and completes every
    // reduction still in flight.
    void finishBackward();
    // Updates the local shard from its (averaged, clipped) gradients.
    void step(double lr);
    // For checkpoints (DistCheckpoint.h): this rank's parameter shard (device and host parts)
    // and the states of every optimizer piece, in a fixed order; a resume reads into them.
    std::vector<std::pair<std::string, at::Tensor>> checkpointTensors() const;
    int64_t stepCount() const;
    void setStepCount(int64_t t);
    // Every unit gathered in turn into the single-process layout (a collective), on the CPU.
    at::Tensor gatherFullParameters();

    // The local shards: parameters on the device (its first deviceParamElements() elements
    // under optimizer+params offload) and gradients on the device.
    const at::Tensor& localParams() const { return m_params; }
    const at::Tensor& localGrads() const { return m_grads; }
    int64_t localElements() const { return m_grads.numel(); }
    int unitCount() const { return static_cast<int>(m_units.size()); }
    // Bytes of gathered parameters and unit gradients held now, and the most held at once.
    int64_t residentBytes() const { return m_resident; }
    int64_t peakResidentBytes() const { return m_peakResident; }
    // Gradient reductions started and not yet completed (at most kReductionsInFlight).
    int reductionsInFlight() const { return static_cast<int>(m_reductions.size()); }
    static constexpr int kReductionsInFlight = 1;
    int64_t unitBytes(int unit) const;  // one unit's gathered parameters
    int64_t deviceStateBytes() const;   // optimizer states on the device
    int64_t hostStateBytes() const;     // optimizer states, masters and gradient copies on the host

private:
    struct Unit {
        std::vector<size_t> params;      // indices into the model's parameters, decaying first
        std::vector<int64_t> offsets;    // of each, within the unit buffer
        ParameterLayout layout;          // the unit buffer's layout
        int64_t stride = 0;              // ceil(N_u / d): each rank's slice
        int64_t local = 0;               // offset of this rank's slice in the local buffers
        at::Tensor full, fullGrad;       // d x stride elements; storage empty when not in use
        bool gathered = false;
        bool gradsLive = false;          // gradients accumulating in fullGrad
        bool reducing = false;           // fullGrad's reduction started, not yet completed
        c10::intrusive_ptr<c10d::Work> inflight; // a prefetch not yet waited for
        at::Tensor staging;                      // its input, alive until then
        int pending = 0;                 // parameters yet to accumulate in this backward
        std::vector<int> with;           // units gathered together with this one (tied head)
    };
    void gather(Unit& u);
    void startGather(Unit& u);  // allocates and starts the all-gather
    void finishGather(Unit& u); // waits for a started one
    void release(Unit& u);
    void prepareBackward(int unit);
    void reduce(int unit);         // starts the unit's reduction (completing the oldest first)
    void completeReduction();      // the oldest started one
    void completeReductions();     // all, oldest first
    bool neededNext(int unit) const; // the backward prefetch (or a unit gathered with it)
    at::Tensor shardInput(const Unit& u) const; // this rank's parameter slice, on the device
    void account(int64_t bytes);
    at::Tensor tensorIdsOf(const Unit& u, int64_t begin, int64_t end, c10::Device device) const;
    void stepWithWholeTensorNorms(double lr);

    Mesh& m_mesh;
    CommGroup& m_group;
    TransformerModel& m_model;
    std::vector<Unit> m_units;
    std::vector<int> m_unitOf;           // per model parameter
    at::Tensor m_params, m_grads;        // local shards on the device
    int64_t m_hostBegin = 0;             // [m_hostBegin, end) of the local shard on the host
    bool m_offloadParams = false;
    at::ScalarType m_reduceType = at::kFloat;
    at::Tensor m_hostParams, m_hostGrads;
    std::vector<std::unique_ptr<FlatOptimizer>> m_deviceOpt, m_hostOpt;
    int m_statesPerParam = 2;
    bool m_needsNorms = false;           // LAMB, LARS: whole-tensor norms over the shards
    std::vector<at::Tensor> m_deviceTensorIds, m_hostTensorIds; // each optimizer's pieces -> model tensor
    std::vector<std::shared_ptr<torch::autograd::Node>> m_accumulators;
    // A gradient reduction in flight: its Work (none for a group of one), what it sends
    // (fullGrad, or its bf16 copy) and the reduce-scatter's output (undefined under the
    // all-reduce fallback, which sums in `sent`).
    struct Reduction {
        int unit = 0;
        c10::intrusive_ptr<c10d::Work> work;
        at::Tensor sent, output;
    };
    std::deque<Reduction> m_reductions;  // oldest first
    int m_backwardNext = -1;             // the unit the backward prefetch gathers
    bool m_endOfBackwardQueued = false;  // the final callback of this backward pass
    int64_t m_resident = 0, m_peakResident = 0;
};

// Sets the byte size of a storage in place, keeping the StorageImpl (and so every tensor
// viewing it): 0 frees, anything else allocates anew (contents undefined).
void resizeStorage(const at::Tensor& t, size_t bytes);

} // namespace meshwork
