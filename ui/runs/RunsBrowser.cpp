#include "ui/runs/RunsBrowser.h"

#include "core/runs/RunStore.h"
#include "ui/runs/RunsTableModel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace meshwork::ui {

RunsBrowser::RunsBrowser(RunStore& store, QWidget* parent) : QWidget(parent), m_store(store)
{
    m_model = new RunsTableModel(store, this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(RunsTableModel::SortRole);

    m_search = new QLineEdit;
    m_search->setObjectName(QStringLiteral("runSearch"));
    m_search->setPlaceholderText(tr("Search name, id, model, tags, notes"));
    m_search->setClearButtonEnabled(true);
    m_status = new QComboBox;
    m_status->setObjectName(QStringLiteral("statusFilter"));
    m_status->addItem(tr("Any status"));
    for (RunStatus s : {RunStatus::Running, RunStatus::Completed, RunStatus::Failed, RunStatus::Cancelled, RunStatus::Interrupted})
        m_status->addItem(QString::fromLatin1(toString(s)), int(s));
    m_tag = new QLineEdit;
    m_tag->setObjectName(QStringLiteral("tagFilter"));
    m_tag->setPlaceholderText(tr("Tag"));
    m_tag->setMaximumWidth(120);
    m_tag->setClearButtonEnabled(true);
    auto* filters = new QHBoxLayout;
    filters->addWidget(m_search, 1);
    filters->addWidget(m_status);
    filters->addWidget(m_tag);

    m_view = new QTableView;
    m_view->setObjectName(QStringLiteral("runsTable"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(RunsTableModel::Created, Qt::DescendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    connect(m_model, &QAbstractItemModel::modelReset, m_view, [this] { m_view->resizeColumnsToContents(); });

    m_compare = new QPushButton(tr("&Compare"));
    m_compare->setObjectName(QStringLiteral("compareButton"));
    m_compare->setToolTip(tr("Compare 2 to 8 selected runs"));
    m_delete = new QPushButton(tr("&Delete…"));
    m_delete->setObjectName(QStringLiteral("deleteButton"));
    auto* import = new QPushButton(tr("&Import events…"));
    m_count = new QLabel;
    auto* actions = new QHBoxLayout;
    actions->addWidget(m_compare);
    actions->addWidget(m_delete);
    actions->addWidget(import);
    actions->addStretch(1);
    actions->addWidget(m_count);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(filters);
    layout->addWidget(m_view, 1);
    layout->addLayout(actions);

    m_confirm = [this](const QString& q) {
        return QMessageBox::question(this, tr("Delete runs"), q, QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
            == QMessageBox::Yes;
    };

    connect(m_search, &QLineEdit::textChanged, this, &RunsBrowser::applyFilter);
    connect(m_tag, &QLineEdit::textChanged, this, &RunsBrowser::applyFilter);
    connect(m_status, &QComboBox::currentIndexChanged, this, &RunsBrowser::applyFilter);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunsBrowser::updateButtons);
    connect(m_model, &QAbstractItemModel::modelReset, this, &RunsBrowser::updateButtons);
    connect(m_compare, &QPushButton::clicked, this, [this] { emit compareRequested(selectedRunIds()); });
    connect(m_delete, &QPushButton::clicked, this, [this] { deleteRuns(selectedRunIds()); });
    connect(import, &QPushButton::clicked, this, &RunsBrowser::importRequested);
    connect(m_view, &QTableView::activated, this, [this](const QModelIndex& i) {
        if (i.column() != RunsTableModel::Name && i.column() != RunsTableModel::Tags && i.column() != RunsTableModel::Notes)
            emit runActivated(i.data(RunsTableModel::IdRole).toString());
    });
    applyFilter();
}

void RunsBrowser::applyFilter()
{
    RunFilter f;
    f.text = m_search->text().trimmed().toStdString();
    f.tag = m_tag->text().trimmed().toStdString();
    if (m_status->currentIndex() > 0) f.status = RunStatus(m_status->currentData().toInt());
    m_model->setFilter(f);
}

void RunsBrowser::refresh()
{
    const QStringList keep = selectedRunIds();
    m_model->refresh();
    selectRuns(keep);
}

void RunsBrowser::updateButtons()
{
    const int n = int(selectedRunIds().size());
    m_compare->setEnabled(n >= 2 && n <= 8);
    m_delete->setEnabled(n >= 1);
    const int rows = m_model->rowCount();
    m_count->setText((rows == 1 ? tr("1 run") : tr("%1 runs").arg(rows)) + (n ? tr(", %1 selected").arg(n) : QString()));
}

QStringList RunsBrowser::selectedRunIds() const
{
    QStringList ids;
    for (const QModelIndex& i : m_view->selectionModel()->selectedRows(RunsTableModel::Name))
        ids << i.data(RunsTableModel::IdRole).toString();
    return ids;
}

void RunsBrowser::selectRuns(const QStringList& ids)
{
    QItemSelection sel;
    for (const QString& id : ids) {
        const int row = m_model->rowOf(id);
        if (row < 0) continue;
        const QModelIndex left = m_proxy->mapFromSource(m_model->index(row, 0));
        const QModelIndex right = m_proxy->mapFromSource(m_model->index(row, RunsTableModel::ColumnCount - 1));
        sel.select(left, right);
    }
    m_view->selectionModel()->select(sel, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

int RunsBrowser::deleteRuns(const QStringList& ids)
{
    if (ids.isEmpty()) return 0;
    QStringList names;
    for (const QString& id : ids) {
        const RunInfo* r = m_model->runAt(m_model->rowOf(id));
        names << (r ? QString::fromStdString(r->name) : id);
    }
    const QString question = (ids.size() == 1 ? tr("Delete this run with its metrics and events? This cannot be undone.\n\n")
                        : tr("Delete these %1 runs with their metrics and events? This cannot be undone.\n\n").arg(ids.size()))
        + names.mid(0, 8).join(QStringLiteral("\n")) + (names.size() > 8 ? QStringLiteral("\n…") : QString());
    if (!m_confirm(question)) return 0;
    int deleted = 0;
    for (const QString& id : ids) {
        try {
            if (m_store.deleteRun(id.toStdString())) ++deleted;
        } catch (const std::exception& e) {
            QMessageBox::warning(this, tr("Delete runs"), QString::fromUtf8(e.what()));
            break;
        }
    }
    m_model->refresh();
    return deleted;
}

} // namespace meshwork::ui
