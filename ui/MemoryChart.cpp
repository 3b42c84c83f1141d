#include "ui/MemoryChart.h"

#include "ui/Format.h"
#include "ui/PlanDocument.h"
#include "ui/Theme.h"
#include "ui/WrappedLabel.h"

#include <QEvent>
#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>

namespace meshwork::ui {

namespace {
std::vector<double> termsOf(const StageMemory& m)
{
    return {m.weights, m.gradients, m.optimizer, m.activations, m.logits, m.buffers, m.context + m.reserve};
}
} // namespace

QStringList MemoryChart::termNames()
{
    return {QStringLiteral("weights"), QStringLiteral("gradients"), QStringLiteral("optimizer"),
            QStringLiteral("activations"), QStringLiteral("logits"), QStringLiteral("buffers"),
            QStringLiteral("context+reserve")};
}

MemoryChart::MemoryChart(PlanDocument* doc, QWidget* parent)
    : QWidget(parent), m_doc(doc), m_plot(new QCustomPlot(this)), m_summary(new WrappedLabel(this))
{
    setObjectName(QStringLiteral("memoryChart"));
    m_plot->setObjectName(QStringLiteral("memoryPlot"));
    m_plot->setMinimumSize(240, 160);
    m_plot->setNoAntialiasingOnDrag(true);
    // QCustomPlot's default phImmediateRefresh makes replot() call repaint(): the queued
    // replot of an edit then painted the whole window before the layout requests of that
    // edit were handled, and the window painted twice in one frame. update() paints once,
    // with everything else, after the layouts.
    m_plot->setPlottingHint(QCP::phImmediateRefresh, false);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    const QStringList names = termNames();
    QCPBars* below = nullptr;
    for (int t = 0; t < names.size(); ++t) {
        auto* bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
        bars->setName(names[t]);
        bars->setWidth(0.6);
        bars->setStackingGap(0);
        bars->setBrush(memoryTermColor(t));
        bars->setPen(QPen(memoryTermColor(t).darker(125), 1));
        if (below) bars->moveAbove(below);
        below = bars;
        m_bars.push_back(bars);
    }
    m_capacity = new QCPItemStraightLine(m_plot);
    m_capacityLabel = new QCPItemText(m_plot);
    m_capacityLabel->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    m_capacityLabel->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_capacityLabel->position->setTypeY(QCPItemPosition::ptPlotCoords);

    m_plot->legend->setVisible(true);
    m_plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    m_plot->legend->setWrap(4);
    m_plot->plotLayout()->addElement(1, 0, m_plot->legend); // legend under the plot, never over bars
    m_plot->plotLayout()->setRowStretchFactor(1, 0.001);
    m_plot->legend->setBorderPen(Qt::NoPen);
    m_plot->yAxis->setLabel(QStringLiteral("GiB per GPU"));
    // Bars and the capacity marks (the main layer) in a buffer of their own: a drag that
    // changes only the bars redraws only them.
    m_plot->layer(QStringLiteral("main"))->setMode(QCPLayer::lmBuffered);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_summary);

    applyPalette();
    connect(doc, &PlanDocument::changed, this, &MemoryChart::refresh);
    refresh();
}

void MemoryChart::changeEvent(QEvent* e)
{
    QWidget::changeEvent(e);
    if (e->type() == QEvent::PaletteChange) {
        applyPalette();
        m_shown.clear(); // the over-budget hatching takes the palette's red
        m_axesFrame = {};  // and the axes the palette's text
        refresh();
    }
}

void MemoryChart::applyPalette()
{
    // QCustomPlot draws with its own colours: give it the palette's so it follows light and dark.
    const QPalette& pal = palette();
    const QColor text = pal.color(QPalette::Text), base = pal.color(QPalette::Base), mid = pal.color(QPalette::Mid);
    m_plot->setBackground(base);
    m_plot->legend->setBrush(base);
    m_plot->legend->setTextColor(text);
    for (QCPAxis* a : {m_plot->xAxis, m_plot->yAxis}) {
        a->setBasePen(QPen(mid));
        a->setTickPen(QPen(mid));
        a->setSubTickPen(QPen(mid));
        a->setTickLabelColor(text);
        a->setLabelColor(text);
        a->grid()->setPen(QPen(mid, 0, Qt::DotLine));
    }
    m_plot->xAxis->grid()->setVisible(false);
    const QColor err = errorColor(pal);
    m_capacity->setPen(QPen(err, 2, Qt::DashLine));
    m_capacityLabel->setColor(err);
}

void MemoryChart::refresh()
{
    const Estimate& e = m_doc->estimate();
    const auto& stages = e.memory.stages;
    const double capacity = m_doc->cluster().gpu.memoryGiB;
    // Edits that leave the memory as it was (most of a dp or vpp drag) replot nothing.
    std::vector<double> shown = {capacity, e.memory.totalGiB, e.memory.hostGiB, double(e.memory.fullestStage)};
    for (const auto& st : stages) {
        const auto terms = termsOf(st);
        shown.insert(shown.end(), terms.begin(), terms.end());
        shown.push_back(st.total);
    }
    if (shown == m_shown && m_ticker) return;
    m_shown = std::move(shown);
    QVector<double> keys;
    for (size_t s = 0; s < stages.size(); ++s) keys << double(s);
    for (size_t t = 0; t < m_bars.size(); ++t) {
        QVector<double> values;
        for (const auto& st : stages) values << termsOf(st)[t];
        m_bars[t]->setData(keys, values, true);
    }

    // The part of a bar past the capacity, hatched red over the stack (rebuilt each time;
    // the capacity line and its label stay).
    for (QCPItemRect* r : m_overItems) m_plot->removeItem(r);
    m_overItems.clear();
    m_capacity->point1->setCoords(-1, capacity);
    m_capacity->point2->setCoords(1, capacity);
    m_capacityLabel->position->setCoords(0.99, capacity);
    m_capacityLabel->setText(QStringLiteral("capacity %1").arg(formatGiB(capacity)));

    m_overBudget = 0;
    double top = capacity;
    const QColor err = errorColor(palette());
    for (size_t s = 0; s < stages.size(); ++s) {
        const double total = stages[s].total;
        top = std::max(top, total);
        if (total <= capacity) continue;
        ++m_overBudget;
        auto* over = new QCPItemRect(m_plot);
        m_overItems.push_back(over);
        over->topLeft->setCoords(double(s) - 0.3, total);
        over->bottomRight->setCoords(double(s) + 0.3, capacity);
        // Hatched, not filled: the terms under it stay readable.
        over->setBrush(QBrush(err, Qt::BDiagPattern));
        over->setPen(QPen(err, 2.5));
    }

    const int n = std::max<int>(1, int(stages.size()));
    m_plot->xAxis->setRange(-0.6, n - 0.4);
    m_plot->yAxis->setRange(0, top * 1.12);
    if (!m_ticker) {
        m_ticker.reset(new QCPAxisTickerText);
        m_plot->xAxis->setTicker(m_ticker);
    }
    auto& ticker = m_ticker;
    ticker->clear();
    const int every = std::max(1, n / 16);
    for (int s = 0; s < n; s += every) ticker->addTick(s, n == 1 ? QStringLiteral("every GPU") : QStringLiteral("stage %1").arg(s));
    m_plot->xAxis->setLabel(n > 1 ? QStringLiteral("pipeline stage") : QString());
    m_summary->setText(summary());
    // Same stages and scale (most drags): only the bars' layer is drawn again; axes, grid
    // and legend keep their buffers. Otherwise a whole replot, coalesced with the other
    // edits of this frame.
    const std::pair<int, double> frame{n, top};
    if (frame == m_axesFrame) {
        m_plot->layer(QStringLiteral("main"))->replot();
    } else {
        m_axesFrame = frame;
        m_plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

std::vector<double> MemoryChart::termValues(int term) const
{
    std::vector<double> out;
    if (term < 0 || size_t(term) >= m_bars.size()) return out;
    for (auto it = m_bars[size_t(term)]->data()->constBegin(); it != m_bars[size_t(term)]->data()->constEnd(); ++it)
        out.push_back(it->value);
    return out;
}

std::vector<double> MemoryChart::stageTotals() const
{
    std::vector<double> totals;
    for (size_t t = 0; t < m_bars.size(); ++t) {
        const auto v = termValues(int(t));
        if (totals.size() < v.size()) totals.resize(v.size(), 0.0);
        for (size_t s = 0; s < v.size(); ++s) totals[s] += v[s];
    }
    return totals;
}

double MemoryChart::capacityLine() const { return m_capacity->point1->coords().y(); }

QString MemoryChart::summary() const
{
    const MemoryEstimate& m = m_doc->estimate().memory;
    if (m.stages.empty()) return QStringLiteral("no memory estimate: fix the problems listed with the mesh");
    QString s = QStringLiteral("fullest GPU (stage %1): %2 of %3")
                    .arg(m.fullestStage).arg(formatGiB(m.totalGiB), formatGiB(m_doc->cluster().gpu.memoryGiB));
    if (m.totalGiB > m_doc->cluster().gpu.memoryGiB)
        s += QStringLiteral(" — <b>%1 over budget</b>").arg(formatGiB(m.totalGiB - m_doc->cluster().gpu.memoryGiB));
    if (m.hostGiB > 0) s += QStringLiteral(" · host RAM per GPU for offloaded states: %1").arg(formatGiB(m.hostGiB));
    return s;
}

} // namespace meshwork::ui
