// Learning rate per step: linear warmup to the peak, then a half cosine down to the minimum
// (Loshchilov & Hutter 2017, as in GPT-3 / nanoGPT):
//   s <= W:  lr * s / W
//   s >  W:  min + (lr - min) * (1 + cos(pi * (s - W) / (S - W))) / 2
// Steps count from 1; S is the number of steps of the run.
#pragma once

#include <cstdint>

namespace meshwork {

struct LrSchedule {
    double peak = 6e-4;
    double min = 6e-5;
    int64_t warmup = 0;
    int64_t steps = 1;
    double at(int64_t step) const;
};

} // namespace meshwork
