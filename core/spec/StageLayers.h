// Which transformer layers each pipeline stage runs: the plan's stage-layers list, or L / (pp
// vpp) each. One function for the planner (StageLayout, the time and memory models) and the
// trainer (ParallelModel), so that both cut the model at the same layers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshwork {

struct Plan;

// Layers of virtual stage v (0 .. pp vpp - 1; chunk c of pipeline rank r is v = c pp + r) and
// the global index of its first layer. Without stage-layers: L / (pp vpp) each, and when that
// does not divide (an invalid plan still estimated) the first L % (pp vpp) stages take one more.
int64_t layersOfVirtualStage(const Plan& plan, int64_t modelLayers, int v);
int64_t firstLayerOfVirtualStage(const Plan& plan, int64_t modelLayers, int v);
// All layers of pipeline rank `stage` (its vpp chunks).
int64_t layersOfPipelineRank(const Plan& plan, int64_t modelLayers, int stage);

// Each pipeline rank's layers spread over its vpp chunks as evenly as they go, the earlier chunks
// taking the rest: the stage-layers list (pp x vpp values, virtual stage c pp + r) of a split
// stated per rank, such as Llama 3's one layer less on the first and the last of 16 ranks.
std::vector<int> stageLayersOfRanks(const std::vector<int64_t>& rankLayers, int vpp);

// "9,3"; and back: nullopt (with *error naming the fault) for text that is not a
// comma-separated list of whole numbers; "even" is the empty list (L / (pp vpp) each).
std::string formatStageLayers(const std::vector<int>& layers);
std::optional<std::vector<int>> parseStageLayers(const std::string& text, std::string* error = nullptr);

} // namespace meshwork
