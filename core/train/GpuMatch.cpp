#include "core/train/GpuMatch.h"

#include "core/spec/Catalog.h"

#include <algorithm>
#include <cctype>

namespace meshwork {

std::optional<GpuSpec> matchCatalogGpu(const std::string& deviceName, double memoryGiB)
{
    std::string n = deviceName;
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
    auto has = [&](const char* s) { return n.find(s) != std::string::npos; };
    const char* id = nullptr;
    if (has("h100")) id = has("pcie") ? "h100-pcie" : "h100-sxm"; // "H100 80GB HBM3" is the SXM part
    else if (has("h200")) id = "h200";
    else if (has("h800")) id = "h800";
    else if (has("a100")) id = (has("80gb") || memoryGiB > 48) ? "a100-80gb" : "a100-40gb";
    else if (has("a800")) id = "a800";
    else if (has("l40s")) id = "l40s";
    else if (has("4090")) id = "rtx-4090";
    else if (has("b200")) id = "b200";
    if (!id) return std::nullopt;
    return findGpu(id);
}

} // namespace meshwork
