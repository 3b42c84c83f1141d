// Numbers as people read them: "124.4 M", "38.2 GiB", "3.4 days".
#pragma once

#include <QString>

#include <cstdint>

namespace meshwork::ui {

QString formatCount(double n);           // 124.4 M, 70.0 B, 1.2 T
QString formatGiB(double gib);           // 38.2 GiB
QString formatSeconds(double s);         // 850 ms, 2.31 s
QString formatHours(double h);           // 45 min, 12.5 h, 3.4 days
QString formatMoney(double amount);      // $1,234
QString formatPercent(double fraction);  // 41.3 %

} // namespace meshwork::ui
