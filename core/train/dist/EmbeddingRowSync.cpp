#include "core/train/dist/EmbeddingRowSync.h"

#include "core/train/dist/Mesh.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

namespace meshwork {

EmbeddingRowSync::EmbeddingRowSync(Mesh& mesh, CommGroup& group, at::Tensor wteGrad)
    : EmbeddingRowSync(mesh, group, wteGrad.reshape({-1}), 0, wteGrad.size(1))
{
    m_whole = true;
}

EmbeddingRowSync::EmbeddingRowSync(Mesh& mesh, CommGroup& group, at::Tensor part, int64_t first, int64_t columns)
    : m_mesh(mesh), m_group(group), m_wteGrad(std::move(part)), m_first(first), m_columns(columns)
{
}

void EmbeddingRowSync::lookupGradient(const at::Tensor& ids, const at::Tensor& rows)
{
    at::NoGradGuard noGrad;
    const int64_t C = m_columns;
    m_ids.push_back(ids.reshape({-1}));
    m_rows.push_back(rows.reshape({-1, C}).to(m_wteGrad.scalar_type()));
    if (!m_armed || m_group.trivial()) return;
    // The step's last lookup gradient: gather every rank's rows while the backward goes on.
    at::Tensor ids1 = m_ids.size() == 1 ? m_ids[0].contiguous() : at::cat(m_ids);
    at::Tensor rows1 = m_rows.size() == 1 ? m_rows[0].contiguous() : at::cat(m_rows);
    m_ids.clear();
    m_rows.clear();
    const int n = m_group.size();
    m_allIds = at::empty({ids1.size(0) * n}, ids1.options());
    m_allRows = at::empty({rows1.size(0) * n, C}, rows1.options());
    c10d::AllgatherOptions opts;
    opts.timeout = m_mesh.timeout();
    m_idsWork = m_group.backend->_allgather_base(m_allIds, ids1, opts);
    m_rowsWork = m_group.backend->_allgather_base(m_allRows, rows1, opts);
}

void EmbeddingRowSync::finish()
{
    at::NoGradGuard noGrad;
    if (m_idsWork) {
        m_mesh.wait(m_idsWork, m_group, "embedding row ids all-gather");
        m_mesh.wait(m_rowsWork, m_group, "embedding row gradients all-gather");
    } else if (!m_ids.empty()) {
        // Rows that were never gathered are this rank's alone: right only in a group of one.
        TORCH_CHECK(m_group.trivial(), "EmbeddingRowSync: the step's last backward was not armed, its rows never left this rank");
        m_allIds = at::cat(m_ids);
        m_allRows = at::cat(m_rows);
    }
    m_ids.clear();
    m_rows.clear();
    m_idsWork.reset();
    m_rowsWork.reset();
    m_rowsLastStep = m_allRows.defined() ? m_allRows.size(0) : 0;
    if (m_rowsLastStep > 0 && m_wteGrad.numel() > 0) addRows(m_allIds, m_allRows);
    m_allIds = at::Tensor();
    m_allRows = at::Tensor();
}

void EmbeddingRowSync::addRows(const at::Tensor& ids, const at::Tensor& rows)
{
    const int64_t C = m_columns, first = m_first, last = m_first + m_wteGrad.numel();
    if (m_whole) {
        m_wteGrad.view({-1, C}).index_add_(0, ids, rows);
        return;
    }
    // Rows wholly inside the part, [fullBegin, fullEnd). No host sync: an id outside them adds
    // a zeroed row to the first.
    const int64_t fullBegin = (first + C - 1) / C, fullEnd = last / C;
    if (fullEnd > fullBegin) {
        const at::Tensor in = ids.ge(fullBegin).logical_and(ids.lt(fullEnd));
        m_wteGrad.narrow(0, fullBegin * C - first, (fullEnd - fullBegin) * C)
            .view({fullEnd - fullBegin, C})
            .index_add_(0, at::where(in, ids - fullBegin, at::zeros_like(ids)), rows * in.unsqueeze(1).to(rows.scalar_type()));
    }
    // A row cut by an end of the part: the sum of its gradients, its elements inside the part.
    auto addCutRow = [&](int64_t row) {
        const int64_t b = std::max(first, row * C), e = std::min(last, (row + 1) * C);
        const at::Tensor sum = (rows * ids.eq(row).unsqueeze(1).to(rows.scalar_type())).sum(0);
        m_wteGrad.narrow(0, b - first, e - b).add_(sum.narrow(0, b - row * C, e - b));
    };
    if (first % C != 0) addCutRow(first / C);
    if (last % C != 0 && (first % C == 0 || last / C != first / C)) addCutRow(last / C); // not the same cut row again
}

} // namespace meshwork
