// The runs table: a QAbstractTableModel over RunStore::listRuns(). Name, tags and notes are
// edited in place (RunStore::rename, setTags, setNotes); Qt::UserRole gives raw values for
// sorting (numbers and times sort as numbers).
#pragma once

#include "core/runs/RunTypes.h"

#include <QAbstractTableModel>

namespace meshwork {
class RunStore;
}

namespace meshwork::ui {

class RunsTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Status, Model, Ranks, Created, Steps, FinalLoss, BestLoss, Tags, Notes, ColumnCount };
    static constexpr int SortRole = Qt::UserRole;
    static constexpr int IdRole = Qt::UserRole + 1;

    explicit RunsTableModel(RunStore& store, QObject* parent = nullptr);

    // Reloads from the store with this filter (text search, status, tag).
    void setFilter(const RunFilter& filter);
    void refresh();
    const RunFilter& filter() const { return m_filter; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;

    QString runId(int row) const;
    int rowOf(const QString& runId) const;
    const RunInfo* runAt(int row) const;

signals:
    void storeError(const QString& message);

private:
    RunStore& m_store;
    RunFilter m_filter;
    std::vector<RunInfo> m_runs;
};

// "a, b" <-> {"a","b"}: tags as the table shows and edits them.
QString joinTags(const std::vector<std::string>& tags);
std::vector<std::string> splitTags(const QString& text);

} // namespace meshwork::ui
