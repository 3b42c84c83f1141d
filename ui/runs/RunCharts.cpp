#include "ui/runs/RunCharts.h"

#include "ui/runs/MetricChart.h"

#include <QComboBox>
#include <QDir>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QTimer>
#include <QVBoxLayout>

namespace meshwork::ui {

RunCharts::RunCharts(QWidget* parent) : QWidget(parent)
{
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("X axis:")));
    m_xCombo = new QComboBox;
    m_xCombo->setObjectName(QStringLiteral("xAxisCombo"));
    m_xCombo->addItem(tr("Step"));
    m_xCombo->addItem(tr("Tokens"));
    m_xCombo->addItem(tr("Wall time"));
    top->addWidget(m_xCombo);
    top->addSpacing(16);
    top->addWidget(new QLabel(tr("Loss smoothing:")));
    m_smoothSlider = new QSlider(Qt::Horizontal);
    m_smoothSlider->setObjectName(QStringLiteral("smoothingSlider"));
    m_smoothSlider->setRange(0, 99);
    m_smoothSlider->setValue(int(m_smoothing * 100));
    m_smoothSlider->setMaximumWidth(180);
    m_smoothSlider->setToolTip(tr("Exponential moving average of the training loss (the raw loss stays, faded)"));
    top->addWidget(m_smoothSlider);
    m_smoothLabel = new QLabel(QString::number(m_smoothing, 'f', 2));
    m_smoothLabel->setMinimumWidth(32);
    top->addWidget(m_smoothLabel);
    top->addSpacing(16);
    m_legend = new QLabel;
    m_legend->setObjectName(QStringLiteral("chartLegend"));
    m_legend->setTextFormat(Qt::RichText);
    m_legend->setWordWrap(true);
    top->addWidget(m_legend, 1);

    auto* grid = new QGridLayout;
    grid->setSpacing(4);
    int i = 0;
    for (const ChartSpec& spec : runChartSpecs()) {
        auto* c = new MetricChart(spec, this);
        m_charts << c;
        grid->addWidget(c, i / 3, i % 3);
        ++i;
        // One x-range for every chart: zooming one zooms all.
        connect(c, &MetricChart::userRangeChanged, this, [this, c](const QCPRange& r) {
            if (m_syncingRange) return;
            m_syncingRange = true;
            for (MetricChart* other : std::as_const(m_charts)) {
                other->setFollowing(c->following());
                if (other != c && !c->following()) {
                    QSignalBlocker block(other->xAxis);
                    other->xAxis->setRange(r);
                }
            }
            m_syncingRange = false;
            schedule(true); // decimation depends on the visible range
        });
    }
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addLayout(grid, 1);

    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    m_timer->setInterval(kCoalesceMs);
    connect(m_timer, &QTimer::timeout, this, &RunCharts::apply);
    connect(m_xCombo, &QComboBox::currentIndexChanged, this, [this](int idx) { setXAxis(XAxisKind(idx)); });
    connect(m_smoothSlider, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
}

RunCharts::~RunCharts() = default;

RunTrace* RunCharts::find(const QString& id)
{
    for (auto& r : m_runs)
        if (r->id == id) return r.get();
    return nullptr;
}

const RunTrace* RunCharts::run(const QString& id) const
{
    for (const auto& r : m_runs)
        if (r->id == id) return r.get();
    return nullptr;
}

QStringList RunCharts::runIds() const
{
    QStringList ids;
    for (const auto& r : m_runs) ids << r->id;
    return ids;
}

void RunCharts::setRun(const QString& id, const QString& label, const QColor& colour, const PredictedFigures& predicted)
{
    RunTrace* r = find(id);
    if (!r) {
        m_runs.push_back(std::make_unique<RunTrace>());
        r = m_runs.back().get();
        r->id = id;
    }
    r->label = label;
    r->colour = colour;
    r->predicted = predicted;
    updateLegend();
    schedule(false);
}

void RunCharts::appendPoints(const QString& id, const QHash<QString, MetricPoints>& points)
{
    RunTrace* r = find(id);
    if (!r) return;
    for (auto it = points.constBegin(); it != points.constEnd(); ++it) {
        r->metrics[it.key()].append(*it);
        emit pointsAdded(id, it.key(), int(it->size()));
    }
    schedule(false);
}

void RunCharts::setRunMetrics(const QString& id, const QHash<QString, MetricPoints>& metrics)
{
    RunTrace* r = find(id);
    if (!r) return;
    r->metrics = metrics;
    schedule(true);
}

void RunCharts::removeRun(const QString& id)
{
    m_runs.erase(std::remove_if(m_runs.begin(), m_runs.end(), [&](const auto& r) { return r->id == id; }), m_runs.end());
    updateLegend();
    schedule(true);
}

void RunCharts::clear()
{
    m_runs.clear();
    updateLegend();
    schedule(true);
}

void RunCharts::setXAxis(XAxisKind kind)
{
    if (m_xCombo->currentIndex() != int(kind)) m_xCombo->setCurrentIndex(int(kind)); // re-enters once
    if (m_x == kind) return;
    m_x = kind;
    for (MetricChart* c : std::as_const(m_charts)) c->setFollowing(true);
    schedule(true);
}

void RunCharts::setSmoothing(double weight)
{
    weight = std::clamp(weight, 0.0, 0.99);
    if (m_smoothSlider->value() != int(std::lround(weight * 100))) m_smoothSlider->setValue(int(std::lround(weight * 100)));
    if (m_smoothing == weight) return;
    m_smoothing = weight;
    m_smoothLabel->setText(QString::number(weight, 'f', 2));
    schedule(true);
}

void RunCharts::schedule(bool full)
{
    m_full = m_full || full;
    if (!m_timer->isActive()) m_timer->start();
}

void RunCharts::apply()
{
    QList<const RunTrace*> runs;
    for (const auto& r : m_runs) runs << r.get();
    const bool full = m_full;
    m_full = false;
    for (MetricChart* c : std::as_const(m_charts)) {
        c->sync(runs, m_x, m_smoothing, full);
        c->replot(QCustomPlot::rpQueuedReplot);
    }
    emit replotted();
}

void RunCharts::replotNow()
{
    m_timer->stop();
    apply();
    for (MetricChart* c : std::as_const(m_charts)) c->replot(QCustomPlot::rpImmediateRefresh);
}

void RunCharts::updateLegend()
{
    QStringList parts;
    for (const auto& r : m_runs)
        parts << QStringLiteral("<span style=\"color:%1\">&#9632;</span>&nbsp;%2")
                     .arg(r->colour.name(), r->label.toHtmlEscaped());
    if (!parts.isEmpty()) parts << QStringLiteral("<span>&nbsp;&nbsp;dash-dot: planner's prediction</span>");
    m_legend->setText(parts.join(QStringLiteral("&nbsp;&nbsp; ")));
}

MetricChart* RunCharts::chart(const QString& key) const
{
    for (MetricChart* c : m_charts)
        if (c->spec().key == key) return c;
    return nullptr;
}

QList<MetricChart*> RunCharts::charts() const { return m_charts; }

QStringList RunCharts::exportCharts(const QString& dir, const QString& prefix, const QString& format) const
{
    QStringList written;
    QDir().mkpath(dir);
    for (MetricChart* c : m_charts) {
        const QString file = QDir(dir).filePath(prefix + c->spec().key + QLatin1Char('.') + format);
        const int w = std::max(c->width(), 640), h = std::max(c->height(), 400);
        const bool ok = format == QLatin1String("pdf") ? c->savePdf(file, w, h) : c->savePng(file, w, h, 1.0);
        if (ok) written << file;
    }
    return written;
}

} // namespace meshwork::ui
