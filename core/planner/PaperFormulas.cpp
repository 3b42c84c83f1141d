#include "core/planner/PaperFormulas.h"

namespace meshwork::paper {

double zeroModelStateBytes(double psi, double k, int nd, int stage)
{
    const double n = nd > 0 ? nd : 1;
    switch (stage) {
    case 0: return (2 + 2 + k) * psi;
    case 1: return 2 * psi + 2 * psi + k * psi / n;
    case 2: return 2 * psi + (2 + k) * psi / n;
    default: return (2 + 2 + k) * psi / n;
    }
}

double korthikantiLayerActivationBytes(double s, double b, double h, double a, double t, bool sp,
                                       PaperRecompute recompute)
{
    const double sbh = s * b * h;
    switch (recompute) {
    case PaperRecompute::Full:
        return sp ? 2 * sbh / t : 2 * sbh;
    case PaperRecompute::Selective:
        return sp ? sbh * 34 / t : sbh * (10 + 24 / t);
    case PaperRecompute::None:
        break;
    }
    return sp ? sbh / t * (34 + 5 * a * s / h) : sbh * (10 + 24 / t + 5 * a * s / (h * t));
}

double narayananIterationFlops(double B, double s, double l, double h, double V, bool fullRecompute)
{
    if (fullRecompute) return 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
    return 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
}

} // namespace meshwork::paper
