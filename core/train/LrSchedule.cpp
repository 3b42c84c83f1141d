#include "core/train/LrSchedule.h"

#include <algorithm>
#include <cmath>

namespace meshwork {

double LrSchedule::at(int64_t step) const
{
    if (warmup > 0 && step <= warmup) return peak * static_cast<double>(step) / static_cast<double>(warmup);
    const int64_t span = std::max<int64_t>(1, steps - warmup);
    const double progress = std::clamp(static_cast<double>(step - warmup) / static_cast<double>(span), 0.0, 1.0);
    return min + (peak - min) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

} // namespace meshwork
