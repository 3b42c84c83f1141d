// .meshwork.json files: the model, the cluster and the plan in one document.
//   {"format": "meshwork-plan", "version": 1, "model": {...}, "cluster": {"gpu": {...},
//    "nodes": N, "gpus_per_node": N, "intra_gbps": X, "inter_gbps": X, "price": X},
//    "plan": {...}, "estimate": {...}}
// "estimate" is written for readers (diffs, other tools) and ignored when read.
#pragma once

#include "ui/PlanState.h"

#include <QString>

#include <optional>

namespace meshwork {
struct Estimate;
class Json;
}

namespace meshwork::ui {

inline constexpr const char* kPlanFileSuffix = ".meshwork.json";

Json planStateToJson(const PlanState& state, const Estimate* estimate = nullptr);
// Throws SpecError naming the key on bad input.
PlanState planStateFromJson(const Json& j);

// Reads a plan file; on failure returns nullopt and sets *error to a sentence that names the
// file and what is wrong with it.
std::optional<PlanState> readPlanFile(const QString& path, QString* error);
// Writes atomically (QSaveFile): a failed save leaves the old file as it was.
bool writePlanFile(const QString& path, const PlanState& state, const Estimate* estimate, QString* error);

} // namespace meshwork::ui
