// The arithmetic behind the run charts, free of widgets so that tests and the replot
// benchmark call it directly: exponential smoothing of a noisy loss, and min/max
// decimation of a long series to what a chart of a given width can show.
#pragma once

#include <QVector>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace meshwork::ui {

// TensorBoard's debiased exponential moving average: s_i = a*s_{i-1} + (1-a)*x_i with
// s_{-1} = 0, divided by (1 - a^(i+1)) so that the first points are not pulled to zero.
// weight a in [0, 1): 0 returns the input unchanged. NaN inputs are passed through and
// do not poison the average.
QVector<double> emaSmooth(const QVector<double>& values, double weight);

// The first minimum and first maximum (NaNs skipped) of every block of kBlock values of a
// series, kept up to date as points are appended: min/max decimation then reads one entry
// per whole block instead of every point, which is what lets a chart of several 100k-point
// runs replot within a frame when one point arrives (bench_replot).
class SeriesExtrema {
public:
    static constexpr size_t kBlock = 16;

    void clear();
    // Covers y[0, n). Only appending is assumed since the last call: blocks that were complete
    // are kept and the rest recomputed. A smaller n starts again; after any other change to
    // the values, clear() first.
    void extend(const double* y, size_t n);
    size_t size() const { return m_n; }
    // The index of the first minimum and of the first maximum of y[begin, end) (end <= size()),
    // NaNs skipped; minI and maxI are left unchanged where every value is NaN.
    void find(const double* y, size_t begin, size_t end, size_t& minI, size_t& maxI) const;

private:
    static constexpr size_t kNone = size_t(-1);
    static constexpr uint8_t kNoneOffset = 0xff;
    std::vector<uint8_t> m_min, m_max; // offset of the extreme within its block
    size_t m_n = 0;
};

// Min/max decimation (PlotJuggler, Grafana): the x-range [xLo, xHi] is cut into `columns`
// pixel columns; each column that holds points keeps its first, minimum, maximum and last
// point in x order, so every spike stays visible and a line drawn through the result is
// indistinguishable at that width from one drawn through every point. The neighbours just
// outside the range are kept so that lines run to the edges. x must be ascending.
// A series with no more than 4 * columns visible points is copied unchanged.
// `extrema`, when given, covers y (SeriesExtrema::extend(y, n)); the result is the same
// with or without it, only faster.
void decimateMinMax(const double* x, const double* y, size_t n, double xLo, double xHi, int columns,
                    QVector<double>& outX, QVector<double>& outY, const SeriesExtrema* extrema = nullptr);

} // namespace meshwork::ui
