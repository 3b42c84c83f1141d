#include "ui/runs/SeriesMath.h"

#include <algorithm>
#include <cmath>

namespace meshwork::ui {

QVector<double> emaSmooth(const QVector<double>& values, double weight)
{
    if (weight <= 0) return values;
    weight = std::min(weight, 0.999);
    QVector<double> out(values.size());
    double s = 0, norm = 0;
    for (qsizetype i = 0; i < values.size(); ++i) {
        const double x = values[i];
        if (!std::isfinite(x)) { out[i] = x; continue; }
        s = weight * s + (1 - weight) * x;
        norm = weight * norm + (1 - weight); // = 1 - a^(k+1) over the finite points seen
        out[i] = s / norm;
    }
    return out;
}

void decimateMinMax(const double* x, const double* y, size_t n, double xLo, double xHi, int columns,
                    QVector<double>& outX, QVector<double>& outY)
{
    outX.clear();
    outY.clear();
    if (n == 0) return;
    // Visible slice, plus one neighbour on each side.
    size_t lo = size_t(std::lower_bound(x, x + n, xLo) - x);
    size_t hi = size_t(std::upper_bound(x, x + n, xHi) - x);
    if (lo > 0) --lo;
    if (hi < n) ++hi;
    const size_t visible = hi - lo;
    columns = std::max(columns, 1);
    if (visible <= size_t(4) * size_t(columns) || !(xHi > xLo)) {
        outX.reserve(qsizetype(visible));
        outY.reserve(qsizetype(visible));
        for (size_t i = lo; i < hi; ++i) { outX.append(x[i]); outY.append(y[i]); }
        return;
    }
    outX.reserve(columns * 4 + 2);
    outY.reserve(columns * 4 + 2);
    const double scale = columns / (xHi - xLo);
    auto columnOf = [&](double v) {
        return std::clamp(int((v - xLo) * scale), -1, columns); // -1 and columns: the outside neighbours
    };
    size_t i = lo;
    while (i < hi) {
        const int col = columnOf(x[i]);
        size_t first = i, minI = i, maxI = i, last = i;
        for (++i; i < hi && columnOf(x[i]) == col; ++i) {
            if (y[i] < y[minI] || std::isnan(y[minI])) minI = i;
            if (y[i] > y[maxI] || std::isnan(y[maxI])) maxI = i;
            last = i;
        }
        size_t keep[4] = {first, std::min(minI, maxI), std::max(minI, maxI), last};
        size_t prev = size_t(-1);
        for (size_t k : keep) {
            if (k == prev) continue;
            outX.append(x[k]);
            outY.append(y[k]);
            prev = k;
        }
    }
}

} // namespace meshwork::ui
