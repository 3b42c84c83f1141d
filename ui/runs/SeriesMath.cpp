#include "ui/runs/SeriesMath.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace meshwork::ui {

namespace {

// The index of the first minimum and of the first maximum of y[begin, end), NaNs skipped;
// left unchanged where every value is NaN. The values are reduced 16 at a time in four
// independent lanes that the compiler keeps in vector registers (one compare chain per
// point would serialise the scan); only the block that first held the extreme is searched
// again for its index.
void firstMinMax(const double* y, size_t begin, size_t end, size_t& minI, size_t& maxI)
{
    constexpr double inf = std::numeric_limits<double>::infinity();
    constexpr size_t block = 16;
    auto lower = [](double v, double m) { return v < m ? v : m; }; // a NaN compares false: skipped
    auto higher = [](double v, double m) { return v > m ? v : m; };
    double minV = inf, maxV = -inf;
    size_t minBlock = begin, maxBlock = begin;
    for (size_t b = begin; b < end; b += block) {
        const size_t stop = std::min(b + block, end);
        double lo0 = inf, lo1 = inf, lo2 = inf, lo3 = inf, hi0 = -inf, hi1 = -inf, hi2 = -inf, hi3 = -inf;
        size_t k = b;
        for (; k + 4 <= stop; k += 4) {
            lo0 = lower(y[k], lo0), lo1 = lower(y[k + 1], lo1), lo2 = lower(y[k + 2], lo2), lo3 = lower(y[k + 3], lo3);
            hi0 = higher(y[k], hi0), hi1 = higher(y[k + 1], hi1), hi2 = higher(y[k + 2], hi2), hi3 = higher(y[k + 3], hi3);
        }
        for (; k < stop; ++k) lo0 = lower(y[k], lo0), hi0 = higher(y[k], hi0);
        const double lo = lower(lower(lo0, lo1), lower(lo2, lo3)), hi = higher(higher(hi0, hi1), higher(hi2, hi3));
        // Strictly lower/higher only: an equal extreme in a later block is not the first.
        if (lo < minV) { minV = lo; minBlock = b; }
        if (hi > maxV) { maxV = hi; maxBlock = b; }
    }
    // An all-infinite series never beat the start values: its first block is searched then
    // (a long search only in that degenerate case); an all-NaN one finds nothing.
    for (size_t k = minBlock; k < end; ++k)
        if (y[k] == minV) { minI = k; break; }
    for (size_t k = maxBlock; k < end; ++k)
        if (y[k] == maxV) { maxI = k; break; }
}

} // namespace

void SeriesExtrema::clear()
{
    m_min.clear();
    m_max.clear();
    m_n = 0;
}

void SeriesExtrema::extend(const double* y, size_t n)
{
    if (n < m_n) clear(); // shorter: not an append, start again
    m_min.resize((n + kBlock - 1) / kBlock);
    m_max.resize(m_min.size());
    // From the last block that was partial (or the first), every block is (re)computed.
    for (size_t b = m_n / kBlock; b * kBlock < n; ++b) {
        const size_t begin = b * kBlock, end = std::min(begin + kBlock, n);
        size_t minI = kNone, maxI = kNone;
        for (size_t k = begin; k < end; ++k) {
            const double v = y[k];
            if (v != v) continue;
            if (minI == kNone || v < y[minI]) minI = k;
            if (maxI == kNone || v > y[maxI]) maxI = k;
        }
        m_min[b] = minI == kNone ? kNoneOffset : uint8_t(minI - begin);
        m_max[b] = maxI == kNone ? kNoneOffset : uint8_t(maxI - begin);
    }
    m_n = n;
}

void SeriesExtrema::find(const double* y, size_t begin, size_t end, size_t& minI, size_t& maxI) const
{
    // Candidates are taken in index order and replaced only by a strictly lower (higher)
    // value, so the first extreme wins, whether it is met in a block or point by point.
    size_t lo = kNone, hi = kNone;
    auto point = [&](size_t k) {
        const double v = y[k];
        if (v != v) return;
        if (lo == kNone || v < y[lo]) lo = k;
        if (hi == kNone || v > y[hi]) hi = k;
    };
    const size_t firstBlock = (begin + kBlock - 1) / kBlock, lastBlock = end / kBlock; // whole blocks inside
    if (firstBlock >= lastBlock) {
        for (size_t k = begin; k < end; ++k) point(k);
    } else {
        for (size_t k = begin; k < firstBlock * kBlock; ++k) point(k);
        for (size_t b = firstBlock; b < lastBlock; ++b) {
            if (m_min[b] == kNoneOffset) continue; // every value NaN
            const size_t bMin = b * kBlock + m_min[b], bMax = b * kBlock + m_max[b];
            if (lo == kNone || y[bMin] < y[lo]) lo = bMin;
            if (hi == kNone || y[bMax] > y[hi]) hi = bMax;
        }
        for (size_t k = lastBlock * kBlock; k < end; ++k) point(k);
    }
    if (lo != kNone) minI = lo;
    if (hi != kNone) maxI = hi;
}

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
                    QVector<double>& outX, QVector<double>& outY, const SeriesExtrema* extrema)
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
    // At most four points per column and the two neighbours, written through pointers
    // (append() per point is a call each) and trimmed at the end.
    outX.resize(qsizetype(columns) * 4 + 8);
    outY.resize(outX.size());
    double* ox = outX.data();
    double* oy = outY.data();
    qsizetype out = 0;
    const double scale = columns / (xHi - xLo);
    auto columnOf = [&](double v) {
        // -1 and columns: the outside neighbours. Clamped before the conversion, so that a
        // neighbour far outside a deep zoom cannot overflow int.
        return int(std::clamp((v - xLo) * scale, -1.0, double(columns)));
    };
    size_t i = lo;
    while (i < hi) {
        // x ascends, so columns do: the end of this column is found by bisection, and the
        // points in between are only compared, never mapped to a column one by one.
        const int col = columnOf(x[i]);
        const size_t end = size_t(std::partition_point(x + i + 1, x + hi, [&](double v) { return columnOf(v) == col; }) - x);
        size_t minI = end - 1, maxI = end - 1;
        if (extrema && extrema->size() >= end) extrema->find(y, i, end, minI, maxI);
        else firstMinMax(y, i, end, minI, maxI);
        const size_t keep[4] = {i, std::min(minI, maxI), std::max(minI, maxI), end - 1};
        size_t prev = size_t(-1);
        for (size_t k : keep) {
            if (k == prev) continue;
            ox[out] = x[k];
            oy[out] = y[k];
            ++out;
            prev = k;
        }
        i = end;
    }
    outX.resize(out);
    outY.resize(out);
}

} // namespace meshwork::ui
