#include "core/spec/StageLayers.h"

#include "core/spec/Plan.h"

#include <algorithm>
#include <charconv>

namespace meshwork {

int64_t layersOfVirtualStage(const Plan& plan, int64_t modelLayers, int v)
{
    const int64_t stages = std::max<int64_t>(1, int64_t(std::max(plan.pp, 1)) * std::max(plan.vpp, 1));
    if (int64_t(plan.stageLayers.size()) == stages) return v >= 0 && v < stages ? std::max(plan.stageLayers[v], 0) : 0;
    const int64_t base = modelLayers / stages, rem = modelLayers % stages;
    return base + (v < rem ? 1 : 0);
}

int64_t firstLayerOfVirtualStage(const Plan& plan, int64_t modelLayers, int v)
{
    int64_t first = 0;
    for (int u = 0; u < v; ++u) first += layersOfVirtualStage(plan, modelLayers, u);
    return first;
}

int64_t layersOfPipelineRank(const Plan& plan, int64_t modelLayers, int stage)
{
    const int pp = std::max(plan.pp, 1);
    int64_t n = 0;
    for (int c = 0; c < std::max(plan.vpp, 1); ++c) n += layersOfVirtualStage(plan, modelLayers, c * pp + stage);
    return n;
}

std::vector<int> stageLayersOfRanks(const std::vector<int64_t>& rankLayers, int vpp)
{
    const int pp = int(rankLayers.size());
    vpp = std::max(vpp, 1);
    std::vector<int> layers(static_cast<size_t>(pp) * size_t(vpp));
    for (int r = 0; r < pp; ++r)
        for (int c = 0; c < vpp; ++c)
            layers[size_t(c * pp + r)] = int(rankLayers[size_t(r)] / vpp + (c < rankLayers[size_t(r)] % vpp ? 1 : 0));
    return layers;
}

std::string formatStageLayers(const std::vector<int>& layers)
{
    std::string s;
    for (size_t i = 0; i < layers.size(); ++i) s += (i ? "," : "") + std::to_string(layers[i]);
    return s;
}

std::optional<std::vector<int>> parseStageLayers(const std::string& text, std::string* error)
{
    std::vector<int> out;
    if (text == "even") return out; // L / (pp vpp) each: the default
    size_t pos = 0;
    while (pos <= text.size()) {
        const size_t comma = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, comma - pos);
        int v = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size()) {
            if (error)
                *error = "expected layer counts separated by commas, such as 9,3 (one per virtual stage), or even, got \"" + text
                       + "\"";
            return std::nullopt;
        }
        out.push_back(v);
        pos = comma + 1;
    }
    return out;
}

} // namespace meshwork
