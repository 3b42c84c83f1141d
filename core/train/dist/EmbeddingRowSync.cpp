#include "core/train/dist/EmbeddingRowSync.h"

#include "core/train/dist/Mesh.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace meshwork {

EmbeddingRowSync::EmbeddingRowSync(Mesh& mesh, CommGroup& group, at::Tensor wteGrad)
    : m_mesh(mesh), m_group(group), m_wteGrad(std::move(wteGrad))
{
}

void EmbeddingRowSync::lookupGradient(const at::Tensor& ids, const at::Tensor& rows)
{
    at::NoGradGuard noGrad;
    const int64_t C = m_wteGrad.size(1);
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
    if (m_rowsLastStep > 0) m_wteGrad.index_add_(0, m_allIds, m_allRows);
    m_allIds = at::Tensor();
    m_allRows = at::Tensor();
}

} // namespace meshwork
