// An accelerator's datasheet figures and the cluster built from it.
#pragma once

#include <cstdint>
#include <string>

namespace meshwork {

class Json;
enum class Precision;

struct GpuSpec {
    std::string id;             // catalog key, e.g. "h100-sxm"
    std::string name;           // e.g. "NVIDIA H100 SXM5 80GB"
    double memoryGiB = 0;       // device memory
    double bf16Tflops = 0;      // dense peaks
    double fp16Tflops = 0;
    double tf32Tflops = 0;
    double fp32Tflops = 0;
    double fp8Tflops = 0;
    double hbmGBps = 0;         // memory bandwidth
    double intraNodeGBps = 0;   // per-GPU unidirectional bandwidth inside a node (NVLink or PCIe)
    std::string intraNodeLink;  // "NVLink 4", "PCIe 4", ...
    double interNodeGBps = 0;   // usual per-GPU network bandwidth between nodes (e.g. 400 Gb/s IB = 50)
    int smCount = 0;
    std::string source;         // where the figures come from

    // Dense peak for the matmul precision a plan trains in (fp32 uses tf32 tensor cores).
    double peakTflops(Precision p) const;

    Json toJson() const;
    static GpuSpec fromJson(const Json& j); // throws SpecError naming the key
};

struct ClusterSpec {
    GpuSpec gpu;
    int nodes = 1;
    int gpusPerNode = 8;
    double intraNodeGBpsOverride = 0;  // 0: the GPU's figure
    double interNodeGBpsOverride = 0;  // 0: the GPU's figure
    double pricePerGpuHour = 0;        // currency units per GPU-hour

    int worldSize() const { return nodes * gpusPerNode; }
    double intraNodeGBps() const { return intraNodeGBpsOverride > 0 ? intraNodeGBpsOverride : gpu.intraNodeGBps; }
    double interNodeGBps() const { return interNodeGBpsOverride > 0 ? interNodeGBpsOverride : gpu.interNodeGBps; }
};

} // namespace meshwork
