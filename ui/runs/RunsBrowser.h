// The runs table with its search box, status and tag filters and the actions on the
// selected runs: compare (2-8), delete (after confirmation), import an events.jsonl.
#pragma once

#include <QWidget>

#include <functional>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace meshwork {
class RunStore;
}

namespace meshwork::ui {

class RunsTableModel;

class RunsBrowser : public QWidget {
    Q_OBJECT
public:
    explicit RunsBrowser(RunStore& store, QWidget* parent = nullptr);

    RunsTableModel* model() const { return m_model; }
    QTableView* view() const { return m_view; }
    QStringList selectedRunIds() const;
    void selectRuns(const QStringList& ids);
    void refresh();

    // Asks before deleting; tests replace the question.
    using Confirm = std::function<bool(const QString& question)>;
    void setConfirm(Confirm c) { m_confirm = std::move(c); }
    // Deletes the runs (after confirmation); returns how many went.
    int deleteRuns(const QStringList& ids);

signals:
    void compareRequested(const QStringList& runIds);
    void runActivated(const QString& runId);
    void importRequested();

private:
    void applyFilter();
    void updateButtons();

    RunStore& m_store;
    RunsTableModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_view;
    QLineEdit* m_search;
    QComboBox* m_status;
    QLineEdit* m_tag;
    QPushButton* m_compare;
    QPushButton* m_delete;
    QLabel* m_count;
    Confirm m_confirm;
};

} // namespace meshwork::ui
