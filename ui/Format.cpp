#include "ui/Format.h"

#include <QLocale>

#include <cmath>

namespace meshwork::ui {

QString formatCount(double n)
{
    const double a = std::fabs(n);
    if (a >= 1e12) return QStringLiteral("%1 T").arg(n / 1e12, 0, 'f', 2);
    if (a >= 1e9) return QStringLiteral("%1 B").arg(n / 1e9, 0, 'f', a >= 1e11 ? 0 : 1);
    if (a >= 1e6) return QStringLiteral("%1 M").arg(n / 1e6, 0, 'f', a >= 1e8 ? 0 : 1);
    if (a >= 1e3) return QStringLiteral("%1 k").arg(n / 1e3, 0, 'f', a >= 1e5 ? 0 : 1);
    return QString::number(n, 'f', 0);
}

QString formatGiB(double gib)
{
    if (std::fabs(gib) < 10) return QStringLiteral("%1 GiB").arg(gib, 0, 'f', 2);
    return QStringLiteral("%1 GiB").arg(gib, 0, 'f', 1);
}

QString formatSeconds(double s)
{
    if (!std::isfinite(s)) return QStringLiteral("–");
    if (s < 1e-3) return QStringLiteral("%1 µs").arg(s * 1e6, 0, 'f', 0);
    if (s < 1) return QStringLiteral("%1 ms").arg(s * 1e3, 0, 'f', s < 0.1 ? 1 : 0);
    return QStringLiteral("%1 s").arg(s, 0, 'f', 2);
}

QString formatHours(double h)
{
    if (!std::isfinite(h) || h <= 0) return QStringLiteral("–");
    if (h < 1) return QStringLiteral("%1 min").arg(h * 60, 0, 'f', 0);
    if (h < 48) return QStringLiteral("%1 h").arg(h, 0, 'f', 1);
    if (h < 24 * 365) return QStringLiteral("%1 days").arg(h / 24, 0, 'f', 1);
    return QStringLiteral("%1 years").arg(h / (24 * 365), 0, 'f', 1);
}

QString formatMoney(double amount)
{
    if (!std::isfinite(amount) || amount <= 0) return QStringLiteral("–");
    return QStringLiteral("$") + QLocale(QLocale::English).toString(std::round(amount), 'f', 0);
}

QString formatPercent(double fraction)
{
    return QStringLiteral("%1 %").arg(fraction * 100, 0, 'f', 1);
}

} // namespace meshwork::ui
