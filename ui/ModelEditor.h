// An editor for a custom model's dimensions (the CLI's --layers --hidden --heads ... names).
#pragma once

#include "core/spec/ModelSpec.h"

#include <QWidget>

#include <map>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QSpinBox;

namespace meshwork::ui {

class ModelEditor : public QWidget {
    Q_OBJECT
public:
    explicit ModelEditor(QWidget* parent = nullptr);

    // Shows a model without emitting modelEdited.
    void setModel(const ModelSpec& m);
    QSpinBox* field(const QString& name) const; // "layers", "hidden", "heads", "kv-heads", "ffn", "vocab", "max-seq"

signals:
    void modelEdited(const ModelSpec& model, const QString& what);

private:
    void emitEdit(const QString& what);

    ModelSpec m_model;
    QLineEdit* m_name;
    std::map<QString, QSpinBox*> m_fields;
    QComboBox* m_ffnKind;
    QComboBox* m_norm;
    QComboBox* m_position;
    QCheckBox* m_tied;
    QCheckBox* m_bias;
};

} // namespace meshwork::ui
