// One chart of the run view: a QCustomPlot with one coloured line per run for each of its
// metrics (solid: the main metric, dashed: a companion such as validation loss, dotted on the
// right axis: a secondary metric such as MFU) and the planner's prediction as a dash-dot
// reference line labelled with its error against the measured mean.
// It draws what RunCharts hands it; the data and the coalescing timer live there.
#pragma once

#include "ui/runs/RunTrace.h"
#include "ui/runs/SeriesMath.h"

#include <qcustomplot.h>

#include <QHash>
#include <QString>
#include <QStringList>

namespace meshwork::ui {

struct ChartSpec {
    QString key;              // "loss", "throughput", ...
    QString title;
    QString unit;             // left axis label
    QString metric;           // main series
    QString companion;        // dashed, same axis ("val_loss"); may be empty
    QString right;            // dotted, right axis ("mfu"); may be empty
    QString rightUnit;
    double rightScale = 1;    // right values are multiplied by this (MFU fraction -> percent)
    enum class Predicted { None, TokensPerS, Tflops, MemGib } predicted = Predicted::None;
    bool smoothed = false;    // the EMA slider applies to the main series
    bool logY = false;
};

// "error +12.0%", or past +-1000% "planner 2800x higher": predicted against measured.
QString predictionErrorText(double predicted, double measured);

// The six charts of the run view, in grid order.
const QList<ChartSpec>& runChartSpecs();

class MetricChart : public QCustomPlot {
    Q_OBJECT
public:
    explicit MetricChart(const ChartSpec& spec, QWidget* parent = nullptr);

    const ChartSpec& spec() const { return m_spec; }
    void applyTheme();

    // Brings the graphs in line with the runs (adds, removes, recolours), then updates the
    // data of each: appending only the new points while the series is short, else rebuilding
    // it decimated to min/max per pixel column. full: rebuild every graph.
    void sync(const QList<const RunTrace*>& runs, XAxisKind x, double smoothing, bool full);
    // Sets the axis ranges to the data (and the prediction when it is near the data).
    void rescale();
    bool following() const { return m_follow; }
    void setFollowing(bool on) { m_follow = on; }
    // Points drawn now over all graphs (after decimation), for tests and the benchmark.
    qsizetype drawnPoints() const;
    // "planner 12.3k tok/s · measured 10.1k (+22%)" of each run, as drawn.
    QStringList predictionTexts() const;

signals:
    void userRangeChanged(const QCPRange& range);

protected:
    void changeEvent(QEvent* e) override;
    void mouseDoubleClickEvent(QMouseEvent* e) override;

private:
    // What one graph keeps between replots.
    struct GraphState {
        // Points already in the graph while it holds the series as is; -1 while decimated.
        qsizetype count = 0;
        // Block extremes of the values it draws, extended as points arrive, for decimation.
        SeriesExtrema extrema;
    };
    struct RunGraphs {
        QCPGraph* main = nullptr;
        QCPGraph* raw = nullptr;        // the unsmoothed loss, faded, while smoothing is on
        QCPGraph* companion = nullptr;
        QCPGraph* right = nullptr;
        QCPItemStraightLine* predictionLine = nullptr;
        QCPItemText* predictionText = nullptr;
        QColor colour;
        double predictedValue = 0;
        double measuredMean = NAN;
        GraphState mainState, rawState, companionState, rightState;
        // The smoothed main series, extended point by point as the run grows instead of
        // recomputed from the start at every replot.
        QVector<double> smoothed;
        double smoothedWeight = -1, emaS = 0, emaNorm = 0;
    };
    void removeRun(RunGraphs& g);
    void updateGraph(QCPGraph* g, const RunTrace& run, const QString& metric, XAxisKind x, double smoothing,
                     double scale, GraphState& state, bool full, RunGraphs* cache = nullptr);
    void updatePrediction(RunGraphs& g, const RunTrace& run, int index);
    int columns() const;

    ChartSpec m_spec;
    QHash<QString, RunGraphs> m_graphs;  // by run id
    QCPTextElement* m_title = nullptr;
    bool m_follow = true;
    bool m_settingRange = false;
    double m_decimatedFor[2] = {0, 0};   // the x-range the decimated data was built for
    int m_decimatedWidth = 0;
};

} // namespace meshwork::ui
