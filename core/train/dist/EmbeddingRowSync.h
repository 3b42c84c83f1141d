// Data-parallel reduction of the token embedding's lookup gradient as rows, not as a [V, C]
// matrix. A rank's lookup touches at most B x T rows of wte: gathering every rank's (ids, row
// gradients) and adding them into wte's gradient gives the same sums as all-reducing the dense
// gradient, with fewer bytes while the tokens of a step are fewer than about 2 V / dp
// (all-gather moves (dp - 1) B T C per rank, a ring all-reduce 2 (dp - 1) / dp V C).
//
// It also moves the embedding out of the backward pass's tail. The lookup is the last op of the
// backward, so a dense wte gradient is final only when the backward ends, and its reduction
// (fp32: GPT-2's 154 MB, LLaMA-3.2-1B's 1.05 GB) is what the overlap cannot hide. With the rows
// taken here an untied wte leaves GradientSync's buckets altogether, and a tied one (both of
// those) is final after the head's backward, at the start of the backward, where its buckets
// start early.
//
// The rows of the micro-batches that do not reduce are kept until the step's last backward
// (the auto choice, TrainerSupport.h's gathersEmbeddingRows, counts the step's tokens, so they
// stay small against the dense gradient).
#pragma once

#include "core/train/Model.h"

#include <ATen/core/Tensor.h>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <vector>

namespace meshwork {

class Mesh;
struct CommGroup;

class EmbeddingRowSync : public LookupGradientSink {
public:
    // wteGrad: the [V, C] view of the embedding's gradient in the flat buffer.
    EmbeddingRowSync(Mesh& mesh, CommGroup& group, at::Tensor wteGrad);
    // ZeRO-2's partitioned gradients: `part` (1-D, possibly empty) holds the elements
    // [first, first + part.numel()) of the flattened [V, C] gradient alone; the rows are added
    // into that part (rows cut by its ends in part).
    EmbeddingRowSync(Mesh& mesh, CommGroup& group, at::Tensor part, int64_t first, int64_t columns);

    // As GradientSync::arm: whether the coming backward is the step's last, which gathers.
    void arm(bool reduceInThisBackward) { m_armed = reduceInThisBackward; }
    void lookupGradient(const at::Tensor& ids, const at::Tensor& rows) override;
    // Waits for the gathers and adds every rank's rows into wte's gradient. Call after
    // GradientSync::finish(): a tied wte's dense part (the head's) is summed by then.
    void finish();

    int64_t rowsLastStep() const { return m_rowsLastStep; }

private:
    Mesh& m_mesh;
    CommGroup& m_group;
    // Adds the gathered rows into the elements of wte's gradient this rank keeps.
    void addRows(const at::Tensor& ids, const at::Tensor& rows);

    at::Tensor m_wteGrad;        // 1-D: the elements [m_first, m_first + numel) of the [V, C] gradient
    int64_t m_first = 0, m_columns = 0;
    bool m_whole = false;        // the whole [V, C] gradient
    bool m_armed = false;
    std::vector<at::Tensor> m_ids, m_rows;           // this step's, until gathered
    at::Tensor m_allIds, m_allRows;                  // the gathers' outputs
    c10::intrusive_ptr<c10d::Work> m_idsWork, m_rowsWork;
    int64_t m_rowsLastStep = 0;
};

} // namespace meshwork
