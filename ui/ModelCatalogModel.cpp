#include "ui/ModelCatalogModel.h"

#include "core/spec/Catalog.h"
#include "ui/Format.h"

#include <set>

namespace meshwork::ui {

ModelCatalogModel::ModelCatalogModel(QObject* parent) : QAbstractTableModel(parent), m_models(modelCatalog()) {}

int ModelCatalogModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_models.size()); }
int ModelCatalogModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ModelCatalogModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid()) return {};
    const ModelSpec& m = m_models[size_t(index.row())];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Name: return QString::fromStdString(m.name);
        case Family: return QString::fromStdString(m.family);
        case Parameters: return formatCount(double(m.parameterCount()));
        }
    }
    if (role == SortRole) {
        if (index.column() == Parameters) return qlonglong(m.parameterCount());
        return data(index, Qt::DisplayRole);
    }
    if (role == Qt::TextAlignmentRole && index.column() == Parameters) return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole)
        return QStringLiteral("L %1 · C %2 · NH %3 · KV heads %4 · FFN %5 · V %6 · max seq %7")
            .arg(m.layers).arg(m.hidden).arg(m.heads).arg(m.kvHeads).arg(m.ffn).arg(m.vocab).arg(m.maxSeq);
    return {};
}

QVariant ModelCatalogModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Name: return QStringLiteral("model");
    case Family: return QStringLiteral("family");
    case Parameters: return QStringLiteral("parameters");
    }
    return {};
}

int ModelCatalogModel::rowOf(const std::string& name) const
{
    for (size_t i = 0; i < m_models.size(); ++i)
        if (m_models[i].name == name) return int(i);
    return -1;
}

QStringList ModelCatalogModel::families() const
{
    std::set<std::string> f;
    for (const auto& m : m_models) f.insert(m.family);
    QStringList out;
    for (const auto& s : f) out << QString::fromStdString(s);
    return out;
}

void ModelFilterProxy::setSearch(const QString& text)
{
    m_search = text.trimmed();
    invalidateRowsFilter();
}

void ModelFilterProxy::setFamily(const QString& family)
{
    m_family = family;
    invalidateRowsFilter();
}

bool ModelFilterProxy::filterAcceptsRow(int row, const QModelIndex& parent) const
{
    const auto* m = sourceModel();
    const QString name = m->index(row, ModelCatalogModel::Name, parent).data().toString();
    const QString family = m->index(row, ModelCatalogModel::Family, parent).data().toString();
    if (!m_family.isEmpty() && family != m_family) return false;
    return m_search.isEmpty() || name.contains(m_search, Qt::CaseInsensitive) || family.contains(m_search, Qt::CaseInsensitive);
}

} // namespace meshwork::ui
