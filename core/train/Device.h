// What the trainer needs to know about its device, behind one small interface so that the
// CUDA-only calls (properties, allocator statistics, versions) stay in Device.cpp and the
// rest of the engine builds the same with and without CUDA.
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/Plan.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <optional>
#include <string>

namespace meshwork {

class Json;

// cpu, or cuda:<localRank>. Throws TrainError (config) when CUDA is asked for but absent.
c10::Device selectDevice(const std::string& kind, int localRank);

struct DeviceInfo {
    std::string name;              // "cpu" or the CUDA device name
    double memoryGiB = 0;
    std::optional<GpuSpec> gpu;    // the catalog entry (for the MFU peak), when recognised
};
DeviceInfo describeDevice(c10::Device device);

// Peak bytes allocated since the last reset, in GiB (CUDA caching allocator); 0 on the CPU.
double peakMemoryGiB(c10::Device device);
void resetPeakMemory(c10::Device device);
// The allocator's figures for an out-of-memory report (allocated, reserved, peak, device total).
Json allocatorFigures(c10::Device device);
void synchronize(c10::Device device);

std::string torchVersion();
Json cudaVersion();   // "13.0" or null
Json ncclVersion();   // "2.27.5" or null

// A B x T micro-batch of token ids (int32 on the host) as int64 on the device. On a GPU through
// pinned memory, asynchronously: a copy from pageable memory would make the host wait for the
// GPU to finish its queued work before every micro-batch, and the GPU then idles while the host
// launches the next kernels.
at::Tensor tokensToDevice(const int32_t* tokens, int64_t B, int64_t T, c10::Device device);

// Turns autocast on for the device in the plan's precision (bf16 or fp16) for one forward
// pass, and off again (clearing the cast cache, as torch.autocast's exit does). fp32: nothing.
class AutocastScope {
public:
    AutocastScope(c10::Device device, Precision precision);
    ~AutocastScope();
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    c10::DeviceType m_type;
    bool m_active = false;
    bool m_prevEnabled = false;
    int m_prevDtype = 0;
};

// Keeps autocast's weight-cast cache over the forward passes inside it and clears it at its
// end. A pipeline step runs several forwards before their backwards: without this each
// micro-batch in flight would cast the stage's weights again and its graph would keep its own
// 16-bit copy (one per micro-batch in flight, where the planner and a single process hold one).
class AutocastCacheScope {
public:
    explicit AutocastCacheScope(Precision precision);
    ~AutocastCacheScope();
    AutocastCacheScope(const AutocastCacheScope&) = delete;
    AutocastCacheScope& operator=(const AutocastCacheScope&) = delete;

private:
    bool m_active = false;
};

} // namespace meshwork
