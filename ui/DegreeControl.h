// One whole-number option as a slider and a spin box side by side (dp, tp, pp, ...).
// It reports edits with a merge key: every slider drag gets its own key, so the document
// merges a drag into one undo step; a spin box edit is a step of its own.
#pragma once

#include <QWidget>

class QLabel;
class QSlider;
class QSpinBox;

namespace meshwork::ui {

class DegreeControl : public QWidget {
    Q_OBJECT
public:
    DegreeControl(const QString& name, const QString& toolTip, int minimum, int maximum, QWidget* parent = nullptr);

    QString name() const { return m_name; }
    int value() const;
    // Shows a value from the document without emitting valueEdited.
    void setValue(int v);
    void setMaximum(int maximum);
    QSlider* slider() const { return m_slider; }
    QSpinBox* spinBox() const { return m_spin; }

signals:
    void valueEdited(int value, const QString& mergeKey);

private:
    void emitEdit(int v);

    QString m_name;
    QLabel* m_label;
    QSlider* m_slider;
    QSpinBox* m_spin;
    int m_dragSerial = 0;
};

} // namespace meshwork::ui
