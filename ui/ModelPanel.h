// Choosing the model: the catalog with a search box and a family filter, an editor for a
// custom model, and import of a Hugging Face config.json by file dialog or drag-and-drop.
#pragma once

#include "core/spec/ModelSpec.h"

#include <QWidget>

#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace meshwork::ui {

class ModelCatalogModel;
class ModelEditor;
class ModelFilterProxy;
class PlanDocument;

class ModelPanel : public QWidget {
    Q_OBJECT
public:
    ModelPanel(PlanDocument* doc, QWidget* parent = nullptr);

    // Loads a config.json (or Meshwork model JSON) into the plan; on failure shows why in
    // words and changes nothing. Returns whether it worked.
    bool importFile(const QString& path);
    QString importError() const;

    QLineEdit* searchBox() const { return m_search; }
    QComboBox* familyBox() const { return m_family; }
    QTableView* catalogView() const { return m_view; }
    ModelFilterProxy* proxy() const { return m_proxy; }
    ModelEditor* editor() const { return m_editor; }

public slots:
    void chooseImportFile();

protected:
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;

private:
    void refresh();

    PlanDocument* m_doc;
    ModelCatalogModel* m_catalog;
    ModelFilterProxy* m_proxy;
    QLineEdit* m_search;
    QComboBox* m_family;
    QTableView* m_view;
    ModelEditor* m_editor;
    QLabel* m_message;
    QLabel* m_summary;
    std::optional<ModelSpec> m_shown;
};

} // namespace meshwork::ui
