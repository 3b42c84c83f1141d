// The plan written for another framework (Megatron-LM, DeepSpeed, Colossal-AI, torchtitan)
// by exportPlan(): shown as text, copied to the clipboard or saved.
#pragma once

#include "ui/PlanState.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QPlainTextEdit;

namespace meshwork::ui {

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(const PlanState& state, QWidget* parent = nullptr);

    QComboBox* formatBox() const { return m_format; }
    QString text() const;

public slots:
    void copyToClipboard();
    void save();

private:
    void regenerate();

    PlanState m_state;
    QComboBox* m_format;
    QPlainTextEdit* m_text;
    QLabel* m_message;
};

} // namespace meshwork::ui
