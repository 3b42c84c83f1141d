// The arithmetic behind the run charts, free of widgets so that tests and the replot
// benchmark call it directly: exponential smoothing of a noisy loss, and min/max
// decimation of a long series to what a chart of a given width can show.
#pragma once

#include <QVector>

#include <cstddef>

namespace meshwork::ui {

// TensorBoard's debiased exponential moving average: s_i = a*s_{i-1} + (1-a)*x_i with
// s_{-1} = 0, divided by (1 - a^(i+1)) so that the first points are not pulled to zero.
// weight a in [0, 1): 0 returns the input unchanged. NaN inputs are passed through and
// do not poison the average.
QVector<double> emaSmooth(const QVector<double>& values, double weight);

// Min/max decimation (PlotJuggler, Grafana): the x-range [xLo, xHi] is cut into `columns`
// pixel columns; each column that holds points keeps its first, minimum, maximum and last
// point in x order, so every spike stays visible and a line drawn through the result is
// indistinguishable at that width from one drawn through every point. The neighbours just
// outside the range are kept so that lines run to the edges. x must be ascending.
// A series with no more than 4 * columns visible points is copied unchanged.
void decimateMinMax(const double* x, const double* y, size_t n, double xLo, double xHi, int columns,
                    QVector<double>& outX, QVector<double>& outY);

} // namespace meshwork::ui
