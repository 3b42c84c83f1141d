// The grid of run charts with its controls (x-axis by step, tokens or wall time; EMA
// smoothing of the loss) and a legend of the runs shown. Points stream in by appendPoints();
// a ~40 ms single-shot timer coalesces them into one replot (PlotJuggler), so a fast trainer
// costs the GUI a bounded amount of drawing whatever its event rate.
#pragma once

#include "ui/runs/RunTrace.h"

#include <QWidget>

#include <memory>
#include <vector>

class QComboBox;
class QLabel;
class QSlider;
class QTimer;

namespace meshwork::ui {

class MetricChart;

class RunCharts : public QWidget {
    Q_OBJECT
public:
    static constexpr int kCoalesceMs = 40;

    explicit RunCharts(QWidget* parent = nullptr);
    ~RunCharts() override;

    // Adds a run, or updates its label, colour and prediction (its points are kept).
    void setRun(const QString& id, const QString& label, const QColor& colour, const PredictedFigures& predicted);
    void appendPoints(const QString& id, const QHash<QString, MetricPoints>& points);
    void setRunMetrics(const QString& id, const QHash<QString, MetricPoints>& metrics);
    void removeRun(const QString& id);
    void clear();
    const RunTrace* run(const QString& id) const;
    QStringList runIds() const;

    void setXAxis(XAxisKind kind);
    XAxisKind xAxis() const { return m_x; }
    void setSmoothing(double weight); // 0 .. 0.99
    double smoothing() const { return m_smoothing; }

    // Applies what is pending now, and draws immediately (tests, screenshots, benchmark).
    void replotNow();
    MetricChart* chart(const QString& key) const;
    QList<MetricChart*> charts() const;
    // Saves every chart as <dir>/<prefix><key>.png or .pdf; returns the files written.
    QStringList exportCharts(const QString& dir, const QString& prefix, const QString& format) const;

signals:
    void pointsAdded(const QString& runId, const QString& metric, int count);
    void replotted();

private:
    void schedule(bool full);
    void apply();
    void updateLegend();
    RunTrace* find(const QString& id);

    std::vector<std::unique_ptr<RunTrace>> m_runs;
    QList<MetricChart*> m_charts;
    QComboBox* m_xCombo = nullptr;
    QSlider* m_smoothSlider = nullptr;
    QLabel* m_smoothLabel = nullptr;
    QLabel* m_legend = nullptr;
    QTimer* m_timer = nullptr;
    XAxisKind m_x = XAxisKind::Step;
    double m_smoothing = 0.6;
    bool m_full = true;
    bool m_syncingRange = false;
};

} // namespace meshwork::ui
