// Search results as a table (sortable through a QSortFilterProxyModel on SortRole), the
// Pareto front of tokens/s against memory headroom marked with a star and bold text.
#pragma once

#include "core/planner/Search.h"

#include <QAbstractTableModel>

#include <vector>

namespace meshwork::ui {

class SearchResultsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // What a plan achieves first, then how it is laid out.
    enum Column { Pareto, TokensPerS, Tflops, Mfu, MemoryGiB, HeadroomGiB,
                  Dp, Tp, Pp, Vpp, StageLayers, Cp, Sp, Zero, Offload, Recompute, MicroBatch, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1;

    explicit SearchResultsModel(QObject* parent = nullptr);

    void setResults(std::vector<SearchResult> results);
    const std::vector<SearchResult>& results() const { return m_results; }
    const SearchResult& resultAt(int row) const { return m_results[size_t(row)]; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
    std::vector<SearchResult> m_results;
};

} // namespace meshwork::ui
