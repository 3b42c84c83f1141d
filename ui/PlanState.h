// The whole subject of the workbench: a model, a cluster and a plan (DESIGN.md "one plan").
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"

namespace meshwork::ui {

struct PlanState {
    ModelSpec model;
    ClusterSpec cluster;
    Plan plan;

    // Specs have no operator== of their own; their JSON is exact (formatJsonNumber
    // round-trips doubles), so equal JSON means equal values.
    bool operator==(const PlanState& o) const;
    bool operator!=(const PlanState& o) const { return !(*this == o); }
};

bool sameModel(const ModelSpec& a, const ModelSpec& b);
bool sameCluster(const ClusterSpec& a, const ClusterSpec& b);

// The plan the workbench opens on (issue #2): GPT-2 124M on one node of 8 H100s,
// data parallel, 0.5 M tokens per step as in the GPT-2 paper.
PlanState examplePlanState();

// When the cluster's size changes, keep the plan filling it by scaling dp (the degree a
// user least often means to pin), if the other degrees divide the new world size.
Plan fitPlanToCluster(const Plan& plan, const ClusterSpec& oldCluster, const ClusterSpec& newCluster);

} // namespace meshwork::ui
