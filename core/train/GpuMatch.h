// Finds the catalog GPU behind a CUDA device name (cudaDeviceProp::name), so that MFU uses
// the same datasheet peak as the planner. Pure string matching: testable without a GPU.
#pragma once

#include "core/spec/GpuSpec.h"

#include <optional>
#include <string>

namespace meshwork {

// "NVIDIA H100 80GB HBM3" -> h100-sxm, "NVIDIA H100 PCIe" -> h100-pcie, "NVIDIA A100-SXM4-40GB"
// -> a100-40gb, ... memoryGiB tells the A100 40 GB from the 80 GB where the name does not.
std::optional<GpuSpec> matchCatalogGpu(const std::string& deviceName, double memoryGiB);

} // namespace meshwork
