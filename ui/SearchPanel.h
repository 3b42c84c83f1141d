// Search for plans: runs searchPlans() on a worker thread with a progress bar and Cancel;
// results fill a sortable table with the Pareto front marked; double-click applies a plan
// through the undo stack.
#pragma once

#include <QWidget>

#include <atomic>
#include <memory>

class QCheckBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QThread;

namespace meshwork::ui {

class PlanDocument;
class SearchResultsModel;
class SearchWorker;
struct SearchReply;
struct SearchRequest;

class SearchPanel : public QWidget {
    Q_OBJECT
public:
    SearchPanel(PlanDocument* doc, QWidget* parent = nullptr);
    ~SearchPanel() override;

    bool isRunning() const { return m_running; }
    SearchResultsModel* results() const { return m_model; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    QTableView* view() const { return m_view; }
    QPushButton* cancelButton() const { return m_cancelButton; }

public slots:
    void startSearch();
    void cancel();
    // Applies the plan in a row of the (sorted) table, as a double-click does.
    void applyRow(int proxyRow);

signals:
    void searchFinished(int results, bool cancelled);
    void requestSearch(const meshwork::ui::SearchRequest& request); // to the worker

private:
    void onFinished(const SearchReply& reply);
    void setRunning(bool running);

    PlanDocument* m_doc;
    QThread* m_thread;
    SearchWorker* m_worker;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    SearchResultsModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_view;
    QPushButton* m_searchButton;
    QPushButton* m_cancelButton;
    QCheckBox* m_offload;
    QCheckBox* m_invalid;
    QProgressBar* m_progress;
    QLabel* m_status;
    bool m_running = false;
};

} // namespace meshwork::ui
