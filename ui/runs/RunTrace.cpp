#include "ui/runs/RunTrace.h"

#include <algorithm>
#include <cmath>

namespace meshwork::ui {

QVector<double> xValues(const RunTrace& run, const MetricPoints& points, XAxisKind kind)
{
    switch (kind) {
    case XAxisKind::Step: return points.step;
    case XAxisKind::WallTime: return points.t;
    case XAxisKind::Tokens: break;
    }
    const bool complete = std::none_of(points.tokens.begin(), points.tokens.end(), [](double v) { return std::isnan(v); });
    if (complete) return points.tokens;
    // Validation points carry no token count: take the training step's (steps ascend).
    auto loss = run.metrics.constFind(QStringLiteral("loss"));
    QVector<double> out = points.tokens;
    for (qsizetype i = 0; i < out.size(); ++i) {
        if (!std::isnan(out[i])) continue;
        if (loss == run.metrics.constEnd() || loss->size() == 0) { out[i] = points.step[i]; continue; }
        const auto& s = loss->step;
        auto it = std::lower_bound(s.begin(), s.end(), points.step[i]);
        if (it == s.end()) --it;
        out[i] = loss->tokens[it - s.begin()];
    }
    return out;
}

double steadyMean(const QVector<double>& values)
{
    if (values.isEmpty()) return NAN;
    const qsizetype first = values.size() >= 3 ? 1 : 0;
    double sum = 0;
    qsizetype n = 0;
    for (qsizetype i = first; i < values.size(); ++i)
        if (std::isfinite(values[i])) { sum += values[i]; ++n; }
    return n ? sum / double(n) : NAN;
}

} // namespace meshwork::ui
