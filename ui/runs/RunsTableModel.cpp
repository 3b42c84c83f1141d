#include "ui/runs/RunsTableModel.h"

#include "core/runs/RunStore.h"

#include <QDateTime>
#include <QGuiApplication>
#include <QPalette>

#include <exception>

namespace meshwork::ui {

QString joinTags(const std::vector<std::string>& tags)
{
    QStringList out;
    for (const auto& t : tags) out << QString::fromStdString(t);
    return out.join(QStringLiteral(", "));
}

std::vector<std::string> splitTags(const QString& text)
{
    std::vector<std::string> out;
    for (const QString& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString t = part.trimmed();
        if (!t.isEmpty()) out.push_back(t.toStdString());
    }
    return out;
}

RunsTableModel::RunsTableModel(RunStore& store, QObject* parent) : QAbstractTableModel(parent), m_store(store) {}

void RunsTableModel::setFilter(const RunFilter& filter)
{
    m_filter = filter;
    refresh();
}

void RunsTableModel::refresh()
{
    beginResetModel();
    try {
        m_runs = m_store.listRuns(m_filter);
    } catch (const std::exception& e) {
        m_runs.clear();
        emit storeError(QString::fromUtf8(e.what()));
    }
    endResetModel();
}

int RunsTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_runs.size()); }
int RunsTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString RunsTableModel::runId(int row) const
{
    return row >= 0 && row < int(m_runs.size()) ? QString::fromStdString(m_runs[size_t(row)].id) : QString();
}

int RunsTableModel::rowOf(const QString& runId) const
{
    for (size_t i = 0; i < m_runs.size(); ++i)
        if (QString::fromStdString(m_runs[i].id) == runId) return int(i);
    return -1;
}

const RunInfo* RunsTableModel::runAt(int row) const
{
    return row >= 0 && row < int(m_runs.size()) ? &m_runs[size_t(row)] : nullptr;
}

QVariant RunsTableModel::data(const QModelIndex& index, int role) const
{
    const RunInfo* r = runAt(index.row());
    if (!r) return {};
    if (role == IdRole) return QString::fromStdString(r->id);
    const bool sort = role == SortRole;
    if (role == Qt::ToolTipRole && index.column() == Name) return QStringLiteral("id %1").arg(QString::fromStdString(r->id));
    if (role == Qt::ForegroundRole && index.column() == Status) {
        const bool dark = QGuiApplication::palette().color(QPalette::Base).lightness() < 128;
        switch (r->status) {
        case RunStatus::Failed: case RunStatus::Interrupted: return dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xc0, 0x1c, 0x28);
        case RunStatus::Completed: return dark ? QColor(0x56, 0xd3, 0x64) : QColor(0x1a, 0x7f, 0x37);
        case RunStatus::Running: return dark ? QColor(0x6c, 0xb0, 0xff) : QColor(0x1f, 0x5f, 0xbf);
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
        case Ranks: case Steps: case FinalLoss: case BestLoss: return int(Qt::AlignRight | Qt::AlignVCenter);
        default: return {};
        }
    }
    if (role != Qt::DisplayRole && role != Qt::EditRole && !sort) return {};
    auto num = [&](const std::optional<double>& v, int decimals) -> QVariant {
        if (!v) return sort ? QVariant(std::numeric_limits<double>::infinity()) : QVariant();
        return sort ? QVariant(*v) : QVariant(QString::number(*v, 'f', decimals));
    };
    switch (index.column()) {
    case Name: return QString::fromStdString(r->name.empty() ? r->id : r->name);
    case Status: return QString::fromLatin1(toString(r->status));
    case Model: return QString::fromStdString(r->model);
    case Ranks: return r->worldSize ? QVariant(qlonglong(*r->worldSize)) : QVariant();
    case Created:
        if (sort) return qlonglong(r->created);
        return QDateTime::fromSecsSinceEpoch(r->created).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    case Steps: return r->steps ? QVariant(qlonglong(*r->steps)) : (sort ? QVariant(qlonglong(-1)) : QVariant());
    case FinalLoss: return num(r->finalLoss, 4);
    case BestLoss: return num(r->bestLoss, 4);
    case Tags: return joinTags(r->tags);
    case Notes: return role == Qt::DisplayRole ? QString::fromStdString(r->notes).section(QLatin1Char('\n'), 0, 0)
                                               : QString::fromStdString(r->notes);
    }
    return {};
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* kNames[] = {"Name", "Status", "Model", "Ranks", "Created", "Steps", "Final loss", "Best loss", "Tags", "Notes"};
    return section >= 0 && section < ColumnCount ? tr(kNames[section]) : QVariant();
}

Qt::ItemFlags RunsTableModel::flags(const QModelIndex& index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.column() == Name || index.column() == Tags || index.column() == Notes) f |= Qt::ItemIsEditable;
    return f;
}

bool RunsTableModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (role != Qt::EditRole) return false;
    RunInfo* r = index.row() >= 0 && index.row() < int(m_runs.size()) ? &m_runs[size_t(index.row())] : nullptr;
    if (!r) return false;
    const QString text = value.toString();
    try {
        bool ok = false;
        switch (index.column()) {
        case Name:
            if (text.trimmed().isEmpty()) return false;
            ok = m_store.rename(r->id, text.trimmed().toStdString());
            if (ok) r->name = text.trimmed().toStdString();
            break;
        case Tags:
            r->tags = splitTags(text);
            ok = m_store.setTags(r->id, r->tags);
            break;
        case Notes:
            ok = m_store.setNotes(r->id, text.toStdString());
            if (ok) r->notes = text.toStdString();
            break;
        default: return false;
        }
        if (ok) emit dataChanged(index, index);
        return ok;
    } catch (const std::exception& e) {
        emit storeError(QString::fromUtf8(e.what()));
        return false;
    }
}

} // namespace meshwork::ui
