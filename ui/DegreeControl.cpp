#include "ui/DegreeControl.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>

namespace meshwork::ui {

DegreeControl::DegreeControl(const QString& name, const QString& toolTip, int minimum, int maximum, QWidget* parent)
    : QWidget(parent), m_name(name), m_label(new QLabel(name, this)), m_slider(new QSlider(Qt::Horizontal, this)),
      m_spin(new QSpinBox(this))
{
    setObjectName(name);
    m_slider->setObjectName(name + QStringLiteral("Slider"));
    m_spin->setObjectName(name + QStringLiteral("Spin"));
    m_label->setMinimumWidth(m_label->fontMetrics().horizontalAdvance(QStringLiteral("micro-batch ")));
    m_label->setToolTip(toolTip);
    m_slider->setToolTip(toolTip);
    m_spin->setToolTip(toolTip);
    m_slider->setRange(minimum, maximum);
    m_spin->setRange(minimum, 1 << 20);
    m_spin->setKeyboardTracking(false); // typing "16" is one edit, not "1" then "16"
    m_spin->setAccelerated(true);

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_label);
    layout->addWidget(m_slider, 1);
    layout->addWidget(m_spin);

    connect(m_slider, &QSlider::sliderPressed, this, [this] { ++m_dragSerial; });
    connect(m_slider, &QSlider::valueChanged, this, [this](int v) {
        {
            QSignalBlocker block(m_spin);
            m_spin->setValue(v);
        }
        emitEdit(v);
    });
    connect(m_spin, &QSpinBox::valueChanged, this, [this](int v) {
        {
            QSignalBlocker block(m_slider);
            if (v > m_slider->maximum()) m_slider->setMaximum(v);
            m_slider->setValue(v);
        }
        emitEdit(v);
    });
}

int DegreeControl::value() const { return m_spin->value(); }

void DegreeControl::setValue(int v)
{
    // QSpinBox::setValue rewrites (and repaints) its text even when the value is the same:
    // skip it, or every edit repaints every control.
    if (v == m_spin->value() && v == m_slider->value()) return;
    QSignalBlocker b1(m_slider), b2(m_spin);
    if (v > m_slider->maximum()) m_slider->setMaximum(v);
    m_slider->setValue(v);
    m_spin->setValue(v);
}

void DegreeControl::setMaximum(int maximum)
{
    const int m = std::max({maximum, m_spin->value(), m_slider->minimum() + 1});
    if (m == m_slider->maximum()) return;
    QSignalBlocker b(m_slider);
    m_slider->setMaximum(m);
}

void DegreeControl::emitEdit(int v)
{
    const QString key = m_slider->isSliderDown() ? m_name + QStringLiteral("#drag") + QString::number(m_dragSerial)
                                                 : QString();
    emit valueEdited(v, key);
}

} // namespace meshwork::ui
