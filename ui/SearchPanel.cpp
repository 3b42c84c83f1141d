#include "ui/SearchPanel.h"

#include "ui/PlanDocument.h"
#include "ui/SearchResultsModel.h"
#include "ui/SearchWorker.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QThread>
#include <QVBoxLayout>

namespace meshwork::ui {

SearchPanel::SearchPanel(PlanDocument* doc, QWidget* parent)
    : QWidget(parent), m_doc(doc), m_thread(new QThread(this)), m_cancel(std::make_shared<std::atomic<bool>>(false)),
      m_model(new SearchResultsModel(this)), m_proxy(new QSortFilterProxyModel(this)), m_view(new QTableView(this)),
      m_searchButton(new QPushButton(QStringLiteral("Search plans"), this)),
      m_cancelButton(new QPushButton(QStringLiteral("Cancel"), this)),
      m_offload(new QCheckBox(QStringLiteral("try offload"), this)),
      m_invalid(new QCheckBox(QStringLiteral("show plans that do not fit"), this)), m_progress(new QProgressBar(this)),
      m_status(new QLabel(this))
{
    qRegisterMetaType<SearchRequest>();
    qRegisterMetaType<SearchReply>();
    setObjectName(QStringLiteral("searchPanel"));
    m_searchButton->setObjectName(QStringLiteral("searchButton"));
    m_cancelButton->setObjectName(QStringLiteral("cancelSearch"));
    m_searchButton->setToolTip(QStringLiteral("every valid plan for this model and cluster, keeping seq, global-batch, "
                                              "precision, grad-reduce and optimizer"));
    m_offload->setChecked(true);
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_worker = new SearchWorker(m_cancel);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &SearchPanel::requestSearch, m_worker, &SearchWorker::run);
    connect(m_worker, &SearchWorker::progress, this, [this](double f) { m_progress->setValue(int(f * 1000)); });
    connect(m_worker, &SearchWorker::finished, this, &SearchPanel::onFinished);
    m_thread->setObjectName(QStringLiteral("meshwork-search"));
    m_thread->start();

    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(SearchResultsModel::SortRole);
    m_view->setObjectName(QStringLiteral("searchResults"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(SearchResultsModel::TokensPerS, Qt::DescendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setStretchLastSection(true);

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_searchButton);
    bar->addWidget(m_offload);
    bar->addWidget(m_invalid);
    bar->addWidget(m_progress, 1);
    bar->addWidget(m_cancelButton);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_status);
    layout->addWidget(m_view, 1);

    connect(m_searchButton, &QPushButton::clicked, this, &SearchPanel::startSearch);
    connect(m_cancelButton, &QPushButton::clicked, this, &SearchPanel::cancel);
    connect(m_view, &QTableView::doubleClicked, this, [this](const QModelIndex& i) { applyRow(i.row()); });
    setRunning(false);
    m_status->setText(QStringLiteral("Search every plan for this model and cluster; double-click a row to apply it."));
}

SearchPanel::~SearchPanel()
{
    m_cancel->store(true);
    m_thread->requestInterruption();
    m_thread->quit();
    m_thread->wait();
}

void SearchPanel::startSearch()
{
    if (m_running) return;
    SearchRequest r;
    r.model = m_doc->model();
    r.cluster = m_doc->cluster();
    r.options.target = m_doc->target();
    r.options.base = m_doc->plan();
    r.options.includeOffload = m_offload->isChecked();
    r.options.includeInvalid = m_invalid->isChecked();
    m_cancel->store(false);
    setRunning(true);
    m_progress->setValue(0);
    m_status->setText(QStringLiteral("Searching plans for %1 on %2 GPUs…")
                          .arg(QString::fromStdString(r.model.name)).arg(r.cluster.worldSize()));
    emit requestSearch(r);
}

void SearchPanel::cancel()
{
    if (!m_running) return;
    m_cancel->store(true);
    m_status->setText(QStringLiteral("Cancelling…"));
}

void SearchPanel::applyRow(int proxyRow)
{
    if (proxyRow < 0 || proxyRow >= m_proxy->rowCount()) return;
    const int row = m_proxy->mapToSource(m_proxy->index(proxyRow, 0)).row();
    const SearchResult& r = m_model->resultAt(row);
    m_doc->editPlan(r.plan, QStringLiteral("Apply searched plan dp %1 tp %2 pp %3").arg(r.plan.dp).arg(r.plan.tp).arg(r.plan.pp));
}

void SearchPanel::onFinished(const SearchReply& reply)
{
    setRunning(false);
    m_progress->setValue(reply.outcome.cancelled ? m_progress->value() : 1000);
    m_model->setResults(reply.outcome.results);
    size_t pareto = 0;
    for (const auto& r : reply.outcome.results) pareto += r.pareto ? 1 : 0;
    if (!reply.error.isEmpty())
        m_status->setText(QStringLiteral("The search failed: %1").arg(reply.error));
    else if (reply.outcome.cancelled)
        m_status->setText(QStringLiteral("Cancelled after %1 plans (%2 s): showing the %3 found so far.")
                              .arg(reply.outcome.considered).arg(reply.seconds, 0, 'f', 2).arg(reply.outcome.results.size()));
    else
        m_status->setText(QStringLiteral("%1 plans looked at in %2 s: %3 shown, %4 on the Pareto front (★). "
                                         "Double-click a row to apply it.")
                              .arg(reply.outcome.considered).arg(reply.seconds, 0, 'f', 2)
                              .arg(reply.outcome.results.size()).arg(pareto));
    emit searchFinished(int(reply.outcome.results.size()), reply.outcome.cancelled);
}

void SearchPanel::setRunning(bool running)
{
    m_running = running;
    m_searchButton->setEnabled(!running);
    m_cancelButton->setEnabled(running);
}

} // namespace meshwork::ui
