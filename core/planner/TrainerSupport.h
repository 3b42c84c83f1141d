// What Meshwork's own trainer (core/train, the planner's Target::Meshwork) cannot run yet, one
// message per feature naming the flag to change. Both sides use this one function, so they
// say the same: the trainer refuses such a plan (parseTrainConfig, exit 2) and the planner's
// estimate for Target::Meshwork lists the messages among its errors.
#pragma once

#include <string>
#include <vector>

namespace meshwork {

struct Plan;

std::vector<std::string> unsupportedParallelism(const Plan& plan);

} // namespace meshwork
