// The estimate's computation without the plan's own validation, for callers that build only
// plans satisfying Plan::validate (the search): e.errors keeps what the caller put there,
// memory errors are appended and e.valid set from the result.
#pragma once

#include "core/planner/Estimate.h"

namespace meshwork {

void computeEstimate(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, Target target, bool flash,
                     Estimate& e);

} // namespace meshwork
