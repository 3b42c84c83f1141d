// Data-parallel gradient reduction over the flat gradient buffer (ParameterLayout.h), as
// PyTorch DDP does it (Li et al. 2020, "PyTorch Distributed"): the buffer is cut into buckets
// of --bucket-mb; a post-hook on each parameter's AccumulateGrad node counts the parameters of
// every bucket it overlaps, and a bucket whose parameters are all accumulated starts its
// asynchronous all-reduce while the backward pass goes on; finish() waits. The caller scales
// the loss by gradientScale() (1 / group size) before backward, so the summed gradients are
// the mean over data-parallel ranks without another pass over the buffer (DDP divides in its
// comm hook); with the loss divided by the local micro-batches too, that is the
// single-process mean over the global batch.
//
// --grad-reduce bf16: every bucket travels as a bf16 copy that is summed in bf16 and written
// back into the fp32 buffer (PyTorch DDP's bf16_compress_hook): half the bytes on the wire,
// the gradients and the optimizer stay fp32. The copies live from a bucket's start to finish().
//
// ZeRO-1 and 2 (Rajbhandari et al. 2020): each rank needs only the sums of its own shard (ShardRange).
// Mode::ReduceToOwners (ZeRO-1, and ZeRO-2 under a pipeline) leaves the rest of its buffer as the
// local gradient. As DeepSpeed's overlap_comm does it, a
// ready bucket is reduced to the rank whose shard holds it (one reduce per shard it overlaps),
// during the backward like the all-reduces: the same bytes as one reduce-scatter of the whole
// buffer after the backward, which the backward could not hide.
//
// ZeRO-2 (Mode::Partitioned, without a pipeline): a rank keeps the gradients of its shard
// alone, as DeepSpeed's stage 2 does. The parameters have no gradient buffer: autograd gives each
// its own tensor, a ready bucket's pieces are copied into one send buffer (a view of the
// gradient itself when the bucket lies in one tensor and travels fp32) and reduced to the
// shard's owner, and a parameter's gradient is dropped once all its buckets have gone. The owner
// adds the sums into its shard buffer when the reduction is retired: as soon as it has
// completed, when the gradients in flight exceed a window (the largest tensor and 16 buckets),
// which bounds the memory, and at the latest before the next micro-batch's forward (arm()) or
// in finish(). Every backward reduces (DeepSpeed's stage 2 under gradient accumulation too), so
// micro-batches cost one reduction each.
//
// Buckets that become ready together go as one collective: those of one large parameter
// (GPT-2's tied embedding: 154 MB, six 25 MB buckets) or the buckets left for finish(). One
// 154 MB all-reduce takes about 0.75 ms on 4 H200s where six 25 MB ones take 1.1 ms. Where the
// embedding's lookup gradient goes to EmbeddingRowSync, the tied embedding is final after the
// head's backward, at the start of the pass; where it does not (tp, pp, ZeRO-3, --embedding-grad
// dense) it is final only when the backward ends, and its reduction is the exposed tail.
//
// Split models: ParallelModel::finishBackward() rewrites some gradients after the backward
// passes (sp-partial replicated parameters summed over tp, the tied embedding's copies over
// pp). Those parameters are held back (holdBack()): a bucket holding one starts in finish(),
// after the rewrite; every other bucket still starts as soon as its parameters are final.
#pragma once

#include "core/train/ParameterLayout.h"

#include <ATen/core/Tensor.h>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <deque>
#include <memory>
#include <vector>

namespace torch::autograd {
struct Node;
}

namespace meshwork {

class Mesh;
struct CommGroup;

// The contiguous slice [begin, end) of the flat buffers that rank `index` of a group of `size`
// owns under ZeRO: ceil(N / size) elements each, the last one shorter.
struct ShardRange {
    int64_t begin = 0, end = 0;
    int64_t numel() const { return end - begin; }
    static ShardRange of(int64_t total, int index, int size);
    static int64_t stride(int64_t total, int size) { return (total + size - 1) / size; }
};

class GradientSync {
public:
    enum class Mode { AllReduce, ReduceToOwners, Partitioned };

    // reduceType: at::kFloat, or at::kBFloat16 to reduce bf16 copies.
    // flatGrads: the flat gradient buffer of the layout; under Mode::Partitioned the buffer of
    // this rank's shard alone (ShardRange::of(layout.totalElements, index, size)), and the
    // parameters' .grad undefined (TransformerModel::releaseGradients()).
    // reducedElsewhere: per parameter, whether another path reduces its gradient (an untied
    // embedding whose lookup rows EmbeddingRowSync gathers): no bucket holds it.
    GradientSync(Mesh& mesh, CommGroup& group, at::Tensor flatGrads, const std::vector<at::Tensor>& params,
                 const ParameterLayout& layout, double bucketMb, Mode mode, at::ScalarType reduceType = at::kFloat,
                 const std::vector<bool>& reducedElsewhere = {});
    ~GradientSync();

    // Whether the coming backward pass reduces (only the last micro-batch of a step does:
    // DDP's no_sync for the others, so gradients accumulate locally first). Partitioned: every
    // backward reduces whatever this says (the local gradients are not kept).
    void arm(bool reduceInThisBackward) { armFor(reduceInThisBackward || m_mode == Mode::Partitioned ? 1 : 0); }
    // The coming `backwards` backward passes reduce: a parameter is final after its gradient
    // was accumulated that many times (a pipeline step runs every micro-batch's backward
    // interleaved with others, so the whole step is armed with the micro-batch count). 0: off.
    void armFor(int backwards);
    // Parameters whose gradients are rewritten after backward: their buckets wait for finish().
    void holdBack(const std::vector<bool>& rewrittenAfterBackward);
    // Starts what the hooks have not started and waits for everything.
    void finish();
    // What the loss is multiplied by before backward so the reduced sums are means.
    double gradientScale() const;

    int bucketCount() const { return static_cast<int>(m_buckets.size()); }
    int bucketsStartedDuringBackward() const { return m_startedEarly; }
    // Collectives the step's reducing backward took, the last one's where each reduces
    // (buckets ready together go as one).
    int collectivesLastStep() const { return m_collectivesLastStep; }
    // Partitioned: the most gradient elements in flight at once in the last step (the window
    // after which the oldest reduction is waited for: the largest tensor and 16 buckets).
    int64_t peakInFlightLastStep() const { return m_peakInFlightLastStep; }

private:
    struct Bucket {
        int64_t begin = 0, end = 0;
        int params = 0;      // parameters overlapping the bucket
        int pending = 0;     // of those, not yet final in this step
        bool heldBack = false; // holds a parameter rewritten after backward
        bool started = false;
    };
    // One collective in flight over the elements [begin, end) of consecutive buckets: an
    // all-reduce (root -1), or under ZeRO-1/2 a reduce to the rank `root` whose shard holds them.
    struct Flight {
        int64_t begin = 0, end = 0;
        int root = -1;
        c10::intrusive_ptr<c10d::Work> work;
        at::Tensor sent; // what travels: a view of the buffer, or its bf16 copy
    };
    void onAccumulated(size_t param);
    // Partitioned: [begin, end) of the parameters' own gradients in one tensor of reduceType.
    at::Tensor sendBuffer(int64_t begin, int64_t end) const;
    // Waits for the oldest flight and takes its sums (partitioned: adds them into the shard).
    void retireOldest(const char* what);
    // Partitioned: retires the flights that have completed, then the oldest while too much is in flight.
    void retireDone();
    // Starts the buckets nothing has started (finish(); partitioned: the next arm()).
    void startUnstarted();
    // Starts the buckets in `ready` (ascending), one collective per run of consecutive ones
    // (under ZeRO-1/2 one per shard the run overlaps).
    void startRuns(const std::vector<size_t>& ready);
    void startFlight(int64_t begin, int64_t end, int root);

    Mesh& m_mesh;
    CommGroup& m_group;
    at::Tensor m_grads;
    Mode m_mode;
    at::ScalarType m_reduceType;
    int64_t m_total = 0; // elements of the layout
    std::vector<Bucket> m_buckets;
    std::deque<Flight> m_flights;
    std::vector<std::vector<size_t>> m_bucketsOfParam, m_paramsOfBucket;
    std::vector<int> m_accumulationsLeft; // per parameter, in the armed backward passes
    std::vector<std::shared_ptr<torch::autograd::Node>> m_accumulators; // keeps the hooked nodes alive
    int m_armedBackwards = 0;
    int m_startedEarly = 0;
    int m_collectivesLastStep = 0;
    int m_collectivesThisStep = 0;
    // Partitioned:
    std::vector<at::Tensor> m_params;
    std::vector<int64_t> m_paramBegin;               // each parameter's first element in the layout
    std::vector<int> m_bucketsToStart;               // per parameter, its buckets not started in this backward
    ShardRange m_shard;
    int64_t m_windowElements = 0, m_inFlight = 0, m_peakInFlight = 0, m_peakInFlightLastStep = 0;
};

} // namespace meshwork
