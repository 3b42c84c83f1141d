// The model catalog (core/spec/Catalog.h) as a table: name, family, parameters; plus a
// proxy that filters by a search text and a family.
#pragma once

#include "core/spec/ModelSpec.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <vector>

namespace meshwork::ui {

class ModelCatalogModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Family, Parameters, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1;

    explicit ModelCatalogModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

    const ModelSpec& modelAt(int row) const { return m_models[size_t(row)]; }
    int rowOf(const std::string& name) const; // -1 when absent
    QStringList families() const;

private:
    std::vector<ModelSpec> m_models;
};

class ModelFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setSearch(const QString& text);
    void setFamily(const QString& family); // empty: every family

protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

private:
    QString m_search;
    QString m_family;
};

} // namespace meshwork::ui
