#include "ui/runs/MetricChart.h"

#include "ui/runs/SeriesMath.h"

#include <algorithm>
#include <cmath>

namespace meshwork::ui {

namespace {

// 12.3k, 1.25M, 0.0006: short enough for a label, exact enough to compare.
QString shortNumber(double v)
{
    const double a = std::fabs(v);
    if (a >= 1e9) return QString::number(v / 1e9, 'f', 2) + QLatin1Char('G');
    if (a >= 1e6) return QString::number(v / 1e6, 'f', 2) + QLatin1Char('M');
    if (a >= 1e4) return QString::number(v / 1e3, 'f', 1) + QLatin1Char('k');
    if (a >= 100) return QString::number(v, 'f', 0);
    return QString::number(v, 'g', 3);
}

// A graph whose line, when drawn without antialiasing (a decimated run), goes to the
// painter in one drawLines() call instead of one drawLine() per segment as QCustomPlot 2.1
// does: the same integer lines (QCPPainter rounds them so), the same pixels, without the
// painter's per-call work that cost as much as the pixels at 8 runs x 100k points.
class SegmentGraph : public QCPGraph {
public:
    using QCPGraph::QCPGraph;

protected:
    void drawLinePlot(QCPPainter* painter, const QVector<QPointF>& lines) const override
    {
        QPen pen = painter->pen();
        const bool plain = pen.style() == Qt::SolidLine && !painter->antialiasing()
                           && !painter->modes().testFlag(QCPPainter::pmVectorized)
                           && !painter->modes().testFlag(QCPPainter::pmNoCaching)
                           && mParentPlot->plottingHints().testFlag(QCP::phFastPolylines);
        if (!plain || pen.color().alpha() == 0) {
            QCPGraph::drawLinePlot(painter, lines);
            return;
        }
        applyDefaultAntialiasingHint(painter);
        if (painter->antialiasing()) { // the hint turned it on after all
            QCPGraph::drawLinePlot(painter, lines);
            return;
        }
        // As QCustomPlot, a 1 px pen is drawn cosmetic. So is a wider one on a dense line (more
        // than two points per pixel column: a decimated long run, where the min/max envelope
        // already fills each column): Qt strokes pens over 1 px as filled paths, which was most
        // of the loss chart's replot (bench_replot: drawing 8.5 ms with 1.8 px, 3 ms cosmetic).
        const bool dense = lines.size() > 2 * qsizetype(keyAxis() ? keyAxis()->axisRect()->width() : 0);
        if (qFuzzyCompare(pen.widthF(), 1.0) || (dense && pen.widthF() > 1.0)) {
            pen.setWidth(0);
            painter->setPen(pen);
        }
        // QCPAbstractPlottable1D::drawPolyline's fast path: a NaN point breaks the line.
        QVector<QLine> segments;
        segments.reserve(lines.size());
        auto isNan = [](const QPointF& p) { return qIsNaN(p.x()) || qIsNaN(p.y()); };
        qsizetype i = 0;
        while (i < lines.size() && isNan(lines.at(i))) ++i;
        bool lastIsNan = false;
        for (++i; i < lines.size(); ++i) {
            if (isNan(lines.at(i))) { lastIsNan = true; continue; }
            if (lastIsNan) { lastIsNan = false; continue; }
            segments.append(QLineF(lines.at(i - 1), lines.at(i)).toLine());
        }
        painter->QPainter::drawLines(segments);
    }
};

} // namespace

QString predictionErrorText(double predicted, double measured)
{
    const double err = (predicted - measured) / measured * 100;
    // Past +-1000% a percentage stops reading: say how many times apart they are.
    if (std::fabs(err) >= 1000)
        return predicted > measured ? QStringLiteral("planner %1x higher").arg(shortNumber(predicted / measured))
                                    : QStringLiteral("planner %1x lower").arg(shortNumber(measured / predicted));
    return QStringLiteral("error %1%2%").arg(err >= 0 ? QStringLiteral("+") : QString(),
                                             QString::number(err, 'f', std::fabs(err) < 100 ? 1 : 0));
}

const QList<ChartSpec>& runChartSpecs()
{
    static const QList<ChartSpec> specs = [] {
        QList<ChartSpec> s;
        // The four fields every chart has; the extras are set on the result.
        auto chart = [](const char* key, const char* title, const char* unit, const char* metric) {
            ChartSpec c;
            c.key = QString::fromLatin1(key);
            c.title = QString::fromUtf8(title);
            c.unit = QString::fromUtf8(unit);
            c.metric = QString::fromLatin1(metric);
            return c;
        };
        ChartSpec loss = chart("loss", "Loss (solid: train, dashed: validation)", "cross-entropy", "loss");
        loss.companion = QStringLiteral("val_loss");
        loss.smoothed = true;
        s << loss;
        // Host wait beside throughput: near 0 the GPUs wait for the host (launch-bound), and
        // a faster GPU would not raise the solid line.
        ChartSpec tps = chart("throughput", "Throughput (solid) and host wait per step (dotted)", "tokens/s", "tokens_per_s");
        tps.right = QStringLiteral("host_wait_ms");
        tps.rightUnit = QStringLiteral("host wait ms");
        tps.predicted = ChartSpec::Predicted::TokensPerS;
        s << tps;
        ChartSpec tf = chart("tflops", "TFLOPS per device (solid) and MFU (dotted)", "TFLOPS", "tflops");
        tf.right = QStringLiteral("mfu");
        tf.rightUnit = QStringLiteral("MFU %");
        tf.rightScale = 100;
        tf.predicted = ChartSpec::Predicted::Tflops;
        s << tf;
        ChartSpec mem = chart("memory", "Peak memory", "GiB", "mem_peak_gib");
        mem.predicted = ChartSpec::Predicted::MemGib;
        s << mem;
        s << chart("grad_norm", "Gradient norm", "global L2 norm", "grad_norm");
        s << chart("lr", "Learning rate", "lr", "lr");
        return s;
    }();
    return specs;
}

MetricChart::MetricChart(const ChartSpec& spec, QWidget* parent) : QCustomPlot(parent), m_spec(spec)
{
    setObjectName(QStringLiteral("chart_") + spec.key);
    setMinimumSize(260, 180);
    setNoAntialiasingOnDrag(true);
    // QCustomPlot 2.1 then draws a solid line segment by segment (drawLine) instead of
    // stroking one polyline with joins: about a third of the drawing work for the dense,
    // zigzagging lines of decimated runs (bench_replot, 8 runs x 100k points).
    setPlottingHint(QCP::phFastPolylines, true);
    // The run legend is a label above the grid (RunCharts); QCustomPlot's own legend stays
    // hidden, yet an item in it would still be measured, text and all, at every replot.
    setAutoAddPlottableToLegend(false);
    // Nothing is drawn on the overlay layer (no selection rectangle), so it need not have a
    // paint buffer of its own: one transparent buffer less to clear and blend per replot.
    if (QCPLayer* overlay = layer(QStringLiteral("overlay"))) overlay->setMode(QCPLayer::lmLogical);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    axisRect()->setRangeDrag(Qt::Horizontal);
    axisRect()->setRangeZoom(Qt::Horizontal);
    plotLayout()->insertRow(0);
    m_title = new QCPTextElement(this, spec.title, QFont(font().family(), font().pointSize(), QFont::DemiBold));
    plotLayout()->addElement(0, 0, m_title);
    yAxis->setLabel(spec.unit);
    yAxis->setNumberFormat(QStringLiteral("g"));
    yAxis->setNumberPrecision(3);
    if (spec.logY) yAxis->setScaleType(QCPAxis::stLogarithmic);
    if (!spec.right.isEmpty()) {
        yAxis2->setVisible(true);
        yAxis2->setLabel(spec.rightUnit);
        yAxis2->setTickLabels(true);
    }
    connect(xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this](const QCPRange& r) {
        if (m_settingRange) return;
        m_follow = false;
        emit userRangeChanged(r);
    });
    applyTheme();
}

void MetricChart::applyTheme()
{
    const QPalette p = palette();
    const QColor text = p.color(QPalette::Text);
    QColor grid = text;
    grid.setAlpha(40);
    setBackground(p.brush(QPalette::Base));
    axisRect()->setBackground(p.brush(QPalette::Base));
    for (QCPAxis* a : {xAxis, yAxis, xAxis2, yAxis2}) {
        a->setBasePen(QPen(text, 1));
        a->setTickPen(QPen(text, 1));
        a->setSubTickPen(QPen(text, 1));
        a->setTickLabelColor(text);
        a->setLabelColor(text);
        a->grid()->setPen(QPen(grid, 1, Qt::DotLine));
        a->grid()->setSubGridVisible(false);
    }
    yAxis2->grid()->setVisible(false);
    m_title->setTextColor(text);
    QColor labelBg = p.color(QPalette::Base);
    labelBg.setAlpha(215);
    for (RunGraphs& g : m_graphs)
        if (g.predictionText) g.predictionText->setBrush(labelBg);
    replot(rpQueuedReplot);
}

void MetricChart::changeEvent(QEvent* e)
{
    QCustomPlot::changeEvent(e);
    if (e->type() == QEvent::PaletteChange) applyTheme();
}

void MetricChart::mouseDoubleClickEvent(QMouseEvent* e)
{
    QCustomPlot::mouseDoubleClickEvent(e);
    m_follow = true; // back to following the data
    emit userRangeChanged(xAxis->range());
}

int MetricChart::columns() const
{
    const int w = axisRect()->width();
    return w > 10 ? w : std::max(width(), 400);
}

void MetricChart::removeRun(RunGraphs& g)
{
    for (QCPGraph* graph : {g.main, g.raw, g.companion, g.right})
        if (graph) removeGraph(graph);
    if (g.predictionLine) removeItem(g.predictionLine);
    if (g.predictionText) removeItem(g.predictionText);
}

void MetricChart::updateGraph(QCPGraph* g, const RunTrace& run, const QString& metric, XAxisKind x,
                              double smoothing, double scale, GraphState& state, bool full, RunGraphs* cache)
{
    qsizetype& count = state.count;
    if (full) state.extrema.clear(); // the values may have been replaced, not appended to
    auto it = run.metrics.constFind(metric);
    if (it == run.metrics.constEnd() || it->size() == 0) {
        if (count != 0) g->data()->clear();
        count = 0;
        state.extrema.clear();
        return;
    }
    const MetricPoints& points = *it;
    const QVector<double> xs = xValues(run, points, x);
    QVector<double> ys;
    if (smoothing > 0 && cache) {
        // Same recurrence as emaSmooth(), resumed where the cache ends.
        if (full || cache->smoothedWeight != smoothing || cache->smoothed.size() > points.size()) {
            cache->smoothed.clear();
            cache->smoothedWeight = smoothing;
            cache->emaS = cache->emaNorm = 0;
            state.extrema.clear();
        }
        const double a = std::min(smoothing, 0.999);
        // Reserve once only: reserving the exact size at every replot would reallocate and
        // copy the whole series each time a point arrives; append grows geometrically.
        if (cache->smoothed.isEmpty()) cache->smoothed.reserve(points.size());
        for (qsizetype i = cache->smoothed.size(); i < points.size(); ++i) {
            const double v = points.value[i];
            if (!std::isfinite(v)) { cache->smoothed.append(v); continue; }
            cache->emaS = a * cache->emaS + (1 - a) * v;
            cache->emaNorm = a * cache->emaNorm + (1 - a);
            cache->smoothed.append(cache->emaS / cache->emaNorm);
        }
        ys = cache->smoothed;
    } else {
        ys = smoothing > 0 ? emaSmooth(points.value, smoothing) : points.value;
    }
    if (scale != 1)
        for (double& v : ys) v *= scale;
    const qsizetype n = ys.size();
    const int cols = columns();
    const bool small = n <= qsizetype(4) * cols;
    if (small && !full && count >= 0 && count <= n) {
        // Live path: append only what is new (PlotJuggler; keys arrive sorted).
        if (count < n) g->addData(xs.mid(count), ys.mid(count), true);
        count = n;
        return;
    }
    if (small) {
        g->setData(xs, ys, true);
        count = n;
        return;
    }
    double lo = xs.first(), hi = xs.last();
    if (!m_follow) {
        lo = xAxis->range().lower;
        hi = xAxis->range().upper;
    }
    // The block extremes follow the values as they grow (only what is new is scanned), so
    // decimation reads a block at a time. Scaled values are a fresh copy every time: those
    // are scanned point by point.
    const SeriesExtrema* extrema = nullptr;
    if (scale == 1 && (cache || smoothing <= 0)) {
        state.extrema.extend(ys.constData(), size_t(n));
        extrema = &state.extrema;
    }
    QVector<double> dx, dy;
    decimateMinMax(xs.constData(), ys.constData(), size_t(n), lo, hi, cols, dx, dy, extrema);
    g->setData(dx, dy, true);
    count = -1; // decimated: rebuilt every time
}

void MetricChart::updatePrediction(RunGraphs& g, const RunTrace& run, int index)
{
    double predicted = 0;
    switch (m_spec.predicted) {
    case ChartSpec::Predicted::TokensPerS: predicted = run.predicted.tokensPerS; break;
    case ChartSpec::Predicted::Tflops: predicted = run.predicted.tflops; break;
    case ChartSpec::Predicted::MemGib: predicted = run.predicted.memGib; break;
    case ChartSpec::Predicted::None: return;
    }
    g.predictedValue = predicted;
    if (!(predicted > 0)) {
        if (g.predictionLine) g.predictionLine->setVisible(false);
        if (g.predictionText) g.predictionText->setVisible(false);
        return;
    }
    if (!g.predictionLine) {
        g.predictionLine = new QCPItemStraightLine(this);
        g.predictionText = new QCPItemText(this);
        g.predictionText->position->setType(QCPItemPosition::ptAxisRectRatio);
        g.predictionText->setPositionAlignment(Qt::AlignRight | Qt::AlignTop);
        g.predictionText->setPadding(QMargins(4, 1, 4, 1));
        g.predictionText->setTextAlignment(Qt::AlignRight);
        g.predictionText->setClipToAxisRect(true);
        QColor bg = palette().color(QPalette::Base);
        bg.setAlpha(215);
        g.predictionText->setBrush(bg);
    }
    g.predictionLine->setVisible(true);
    g.predictionText->setVisible(true);
    g.predictionLine->setPen(QPen(g.colour, 1.4, Qt::DashDotLine));
    g.predictionLine->point1->setCoords(0, predicted);
    g.predictionLine->point2->setCoords(1, predicted);
    QColor textColour = g.colour;
    // Tableau hues are mid-light: darken them on a light background so the text reads.
    if (palette().color(QPalette::Base).lightness() > 128) textColour = textColour.darker(135);
    g.predictionText->setColor(textColour);
    g.predictionText->position->setCoords(0.99, 0.02 + 0.15 * index);

    auto it = run.metrics.constFind(m_spec.metric);
    g.measuredMean = it == run.metrics.constEnd() ? NAN : steadyMean(it->value);
    QString text = QStringLiteral("planner %1").arg(shortNumber(predicted));
    if (std::isfinite(g.measuredMean) && g.measuredMean > 0) {
        text += QStringLiteral(" · measured %1\n%2").arg(shortNumber(g.measuredMean), predictionErrorText(predicted, g.measuredMean));
    }
    g.predictionText->setText(text);
}

void MetricChart::sync(const QList<const RunTrace*>& runs, XAxisKind x, double smoothing, bool full)
{
    // Drop runs that are gone.
    for (auto it = m_graphs.begin(); it != m_graphs.end();) {
        const bool present = std::any_of(runs.begin(), runs.end(), [&](const RunTrace* r) { return r->id == it.key(); });
        if (present) { ++it; continue; }
        removeRun(*it);
        it = m_graphs.erase(it);
    }
    const double weight = m_spec.smoothed ? smoothing : 0;
    int index = 0;
    for (const RunTrace* run : runs) {
        RunGraphs& g = m_graphs[run->id];
        const bool fresh = !g.main;
        if (fresh) {
            g.main = new SegmentGraph(xAxis, yAxis);
            if (!m_spec.companion.isEmpty()) g.companion = new SegmentGraph(xAxis, yAxis);
            if (!m_spec.right.isEmpty()) g.right = new SegmentGraph(xAxis, yAxis2);
        }
        if (fresh || g.colour != run->colour) {
            g.colour = run->colour;
            g.main->setPen(QPen(run->colour, 1.8));
            if (g.companion) g.companion->setPen(QPen(run->colour, 1.8, Qt::DashLine));
            if (g.right) g.right->setPen(QPen(run->colour, 1.4, Qt::DotLine));
            if (g.raw) {
                QColor faded = run->colour;
                faded.setAlpha(70);
                g.raw->setPen(QPen(faded, 1));
            }
        }
        g.main->setName(run->label);
        // The faded raw series under a smoothed line, so that smoothing never hides spikes.
        if (weight > 0 && !g.raw) {
            g.raw = new SegmentGraph(xAxis, yAxis);
            QColor faded = run->colour;
            faded.setAlpha(70);
            g.raw->setPen(QPen(faded, 1));
            g.raw->setAntialiased(false); // faded and thin: antialiasing buys nothing visible
            g.rawState = {};
        } else if (weight <= 0 && g.raw) {
            removeGraph(g.raw);
            g.raw = nullptr;
        }
        updateGraph(g.main, *run, m_spec.metric, x, weight, 1, g.mainState, full || fresh, &g);
        if (g.raw) updateGraph(g.raw, *run, m_spec.metric, x, 0, 1, g.rawState, full || fresh);
        if (g.companion) updateGraph(g.companion, *run, m_spec.companion, x, 0, 1, g.companionState, full || fresh);
        if (g.right) updateGraph(g.right, *run, m_spec.right, x, 0, m_spec.rightScale, g.rightState, full || fresh);
        // A decimated line (count -1) is a dense band of strokes a pixel apart, where
        // antialiasing shows nothing but costs most of the drawing time (bench_replot); a line
        // with room between its points keeps it. The faded raw line never has it.
        for (auto [graph, state] : {std::pair{g.main, &g.mainState}, {g.companion, &g.companionState}, {g.right, &g.rightState}})
            if (graph) graph->setAntialiased(state->count >= 0);
        updatePrediction(g, *run, index);
        ++index;
    }
    if (!m_spec.right.isEmpty()) {
        // The right axis only once a run has its series (CPU runs write no host_wait_ms).
        yAxis2->setVisible(std::any_of(m_graphs.begin(), m_graphs.end(),
                                       [](const RunGraphs& rg) { return rg.right && !rg.right->data()->isEmpty(); }));
    }
    const char* xLabel = x == XAxisKind::Step ? "step" : x == XAxisKind::Tokens ? "tokens" : "wall time (s)";
    xAxis->setLabel(QString::fromLatin1(xLabel));
    if (m_follow) rescale();
}

void MetricChart::rescale()
{
    m_settingRange = true;
    bool foundX = false, foundY = false, foundR = false;
    QCPRange xr, yr, rr;
    for (int i = 0; i < graphCount(); ++i) {
        QCPGraph* g = graph(i);
        if (g->data()->isEmpty()) continue;
        bool ok = false;
        QCPRange k = g->getKeyRange(ok);
        if (ok) { xr = foundX ? QCPRange(std::min(xr.lower, k.lower), std::max(xr.upper, k.upper)) : k; foundX = true; }
        QCPRange v = g->getValueRange(ok);
        if (!ok) continue;
        if (g->valueAxis() == yAxis2) { rr = foundR ? QCPRange(std::min(rr.lower, v.lower), std::max(rr.upper, v.upper)) : v; foundR = true; }
        else { yr = foundY ? QCPRange(std::min(yr.lower, v.lower), std::max(yr.upper, v.upper)) : v; foundY = true; }
    }
    // The prediction joins the range when it is near the data; far off (a CPU run against a
    // GPU estimate) it would flatten the measurement, and its label says so instead.
    for (RunGraphs& g : m_graphs) {
        if (!(g.predictedValue > 0) || !g.predictionLine) continue;
        const bool near = !foundY || (g.predictedValue <= 3 * yr.upper && g.predictedValue >= yr.lower / 3);
        if (near) {
            yr = foundY ? QCPRange(std::min(yr.lower, g.predictedValue), std::max(yr.upper, g.predictedValue))
                        : QCPRange(g.predictedValue * 0.9, g.predictedValue * 1.1);
            foundY = true;
        }
    }
    auto pad = [](QCPRange r, bool fromZero) {
        // A flat series (0 GiB on a CPU, constant lr) gets a readable range around its value.
        const bool nonNegative = r.lower >= 0;
        if (r.size() <= 0) {
            const double half = r.upper == 0 ? 1.0 : std::fabs(r.upper) * 0.1;
            r = QCPRange(r.lower - half, r.upper + half);
        }
        const double m = r.size() * 0.06;
        QCPRange out(r.lower - m, r.upper + m);
        if (fromZero && nonNegative && out.lower < 0) out.lower = 0;
        return out;
    };
    if (foundX) xAxis->setRange(xr.size() > 0 ? xr : QCPRange(xr.lower - 0.5, xr.upper + 0.5));
    if (foundY) yAxis->setRange(pad(yr, true));
    if (foundR) yAxis2->setRange(pad(rr, true));
    // Headroom for the prediction labels stacked at the top.
    int labels = 0;
    for (const RunGraphs& g : m_graphs) labels += (g.predictionText && g.predictionText->visible()) ? 1 : 0;
    if (labels > 0 && foundY) {
        const double frac = std::min(0.6, 0.15 * labels + 0.04);
        const QCPRange r = yAxis->range();
        yAxis->setRangeUpper(r.lower + r.size() / (1 - frac));
    }
    for (RunGraphs& g : m_graphs) {
        if (!(g.predictedValue > 0) || !g.predictionText || yAxis->range().contains(g.predictedValue)) continue;
        if (!g.predictionText->text().contains(QLatin1String("off chart")))
            g.predictionText->setText(g.predictionText->text()
                                      + (g.predictedValue > yAxis->range().upper ? QStringLiteral("\n(line off chart, above)")
                                                                                 : QStringLiteral("\n(line off chart, below)")));
    }
    m_settingRange = false;
}

qsizetype MetricChart::drawnPoints() const
{
    qsizetype n = 0;
    for (int i = 0; i < graphCount(); ++i) n += graph(i)->data()->size();
    return n;
}

QStringList MetricChart::predictionTexts() const
{
    QStringList out;
    for (const RunGraphs& g : m_graphs)
        if (g.predictionText && g.predictionText->visible()) out << g.predictionText->text();
    return out;
}

} // namespace meshwork::ui
