#include "ui/StepTimeBar.h"

#include "ui/Format.h"
#include "ui/Theme.h"

#include <QPainter>

namespace meshwork::ui {

namespace {
constexpr int kBarHeight = 18;
}

int StepTimeBar::columnsFor(int width) const
{
    // Two columns when every legend entry fits in half the width, else one.
    return width >= 2 * (widestLegend() + fontMetrics().height() + 8) ? 2 : 1;
}

int StepTimeBar::widestLegend() const
{
    // Measured once per set of terms: layouts and paints ask for the columns many times.
    if (m_widestLegend < 0) {
        m_widestLegend = 0;
        for (const auto& t : m_terms)
            m_widestLegend = std::max(m_widestLegend, fontMetrics().horizontalAdvance(legendText(t.first, t.second)));
    }
    return m_widestLegend;
}

QString StepTimeBar::legendText(const QString& name, double seconds) const
{
    double total = 0;
    for (const auto& t : m_terms) total += std::max(0.0, t.second);
    const QString share = total > 0 ? QStringLiteral(" (%1%)").arg(100 * seconds / total, 0, 'f', 0) : QString();
    return name + QStringLiteral(": ") + formatSeconds(seconds) + share;
}

StepTimeBar::StepTimeBar(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("stepTimeBar"));
    QSizePolicy sp(QSizePolicy::Preferred, QSizePolicy::Fixed);
    sp.setHeightForWidth(true);
    setSizePolicy(sp);
}

void StepTimeBar::setTerms(std::vector<std::pair<QString, double>> terms)
{
    const int columnsBefore = columnsFor(width());
    m_terms = std::move(terms);
    m_widestLegend = -1;
    // Relayout only when the legend's shape changes: a drag must not relayout the dock.
    if (columnsFor(width()) != columnsBefore || m_terms.size() != m_shapeTerms) {
        m_shapeTerms = m_terms.size();
        updateGeometry();
    }
    update();
}

int StepTimeBar::heightForWidth(int w) const
{
    const int columns = columnsFor(w);
    const int rows = int((m_terms.size() + size_t(columns) - 1) / size_t(columns));
    return kBarHeight + 6 + rows * (fontMetrics().height() + 2);
}

QSize StepTimeBar::sizeHint() const { return {320, heightForWidth(320)}; }
QSize StepTimeBar::minimumSizeHint() const { return {200, heightForWidth(200)}; }

void StepTimeBar::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette& pal = palette();
    double total = 0;
    for (const auto& t : m_terms) total += std::max(0.0, t.second);
    const QRectF bar(0.5, 0.5, width() - 1.0, kBarHeight);
    p.setPen(QPen(pal.color(QPalette::Mid), 1));
    p.setBrush(pal.color(QPalette::Base));
    p.drawRect(bar);
    if (total > 0) {
        double x = bar.left();
        for (size_t i = 0; i < m_terms.size(); ++i) {
            const double w = bar.width() * std::max(0.0, m_terms[i].second) / total;
            p.fillRect(QRectF(x, bar.top(), w, bar.height()), categoryColor(int(i)));
            x += w;
        }
    }
    // Legend in columns: swatch, name, time and share.
    const int lh = fontMetrics().height() + 2;
    const size_t columns = size_t(columnsFor(width()));
    const double colW = width() / double(columns);
    for (size_t i = 0; i < m_terms.size(); ++i) {
        const double x = double(i % columns) * colW;
        const double y = kBarHeight + 6 + double(i / columns) * lh;
        p.fillRect(QRectF(x, y + 3, lh - 6, lh - 6), categoryColor(int(i)));
        p.setPen(pal.color(QPalette::WindowText));
        p.drawText(QRectF(x + lh, y, colW - lh - 4, lh), Qt::AlignVCenter | Qt::AlignLeft,
                   fontMetrics().elidedText(legendText(m_terms[i].first, m_terms[i].second), Qt::ElideRight, int(colW - lh - 4)));
    }
}

} // namespace meshwork::ui
