// The data the run charts draw for one run: its metric series, colour, label and the
// planner's prediction for its plan. Shared by the live view and the comparison.
#pragma once

#include "ui/runs/LiveBatch.h"

#include <QColor>
#include <QHash>
#include <QString>

namespace meshwork::ui {

enum class XAxisKind { Step, Tokens, WallTime };

struct PredictedFigures {
    double tokensPerS = 0;   // 0: none
    double tflops = 0;
    double memGib = 0;
    QString source;          // "planner, 1x H100 SXM": what the prediction assumed
    bool any() const { return tokensPerS > 0 || tflops > 0 || memGib > 0; }
};

struct RunTrace {
    QString id;
    QString label;
    QColor colour;
    PredictedFigures predicted;
    QHash<QString, MetricPoints> metrics;
};

// The x values of a metric's points for the chosen axis. Tokens for points that carry none
// (validation) come from the run's loss series at the same step.
QVector<double> xValues(const RunTrace& run, const MetricPoints& points, XAxisKind kind);

// Mean of the values after the first (the first step pays one-off warm-up costs; RunSummary
// does the same), or of all when there are fewer than three. NaN when empty.
double steadyMean(const QVector<double>& values);

} // namespace meshwork::ui
