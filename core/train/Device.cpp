#include "core/train/Device.h"

#include "core/json/Json.h"
#include "core/train/GpuMatch.h"
#include "core/train/TrainError.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#ifdef MESHWORK_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
namespace torch::cuda::nccl {
// Exported by libtorch_cuda (torch/csrc/cuda/nccl.h); declared here to avoid NCCL's headers.
std::uint64_t version();
} // namespace torch::cuda::nccl
#endif

namespace meshwork {

c10::Device selectDevice(const std::string& kind, int localRank)
{
    if (kind == "cpu") return c10::Device(c10::kCPU);
#ifdef MESHWORK_WITH_CUDA
    if (!at::hasCUDA() || at::cuda::device_count() == 0)
        throw TrainError(TrainErrorKind::Config, "--device cuda: no CUDA device is visible (check nvidia-smi and "
                         "CUDA_VISIBLE_DEVICES), or train with --device cpu");
    const int count = at::cuda::device_count();
    if (localRank >= count)
        throw TrainError(TrainErrorKind::Config, "local rank " + std::to_string(localRank) + " needs GPU "
                         + std::to_string(localRank) + " but only " + std::to_string(count) + " are visible");
    c10::Device d(c10::kCUDA, static_cast<c10::DeviceIndex>(localRank));
    at::cuda::set_device(d.index());
    return d;
#else
    throw TrainError(TrainErrorKind::Config, "--device cuda: this meshwork-train was built without CUDA; rebuild "
                     "with -DMESHWORK_CUDA=ON or train with --device cpu");
#endif
}

DeviceInfo describeDevice(c10::Device device)
{
    DeviceInfo info;
    info.name = "cpu";
#ifdef MESHWORK_WITH_CUDA
    if (device.is_cuda()) {
        const cudaDeviceProp* p = at::cuda::getDeviceProperties(device.index());
        info.name = p->name;
        info.memoryGiB = static_cast<double>(p->totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
        info.gpu = matchCatalogGpu(info.name, info.memoryGiB);
    }
#endif
    return info;
}

double peakMemoryGiB(c10::Device device)
{
#ifdef MESHWORK_WITH_CUDA
    if (device.is_cuda()) {
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
        const auto agg = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
        return static_cast<double>(stats.allocated_bytes[agg].peak) / (1024.0 * 1024.0 * 1024.0);
    }
#endif
    return 0.0;
}

void resetPeakMemory(c10::Device device)
{
#ifdef MESHWORK_WITH_CUDA
    if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
}

Json allocatorFigures(c10::Device device)
{
    Json j = Json::object();
#ifdef MESHWORK_WITH_CUDA
    if (device.is_cuda()) {
        constexpr double GiB = 1024.0 * 1024.0 * 1024.0;
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
        const auto agg = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
        size_t freeBytes = 0, totalBytes = 0;
        cudaMemGetInfo(&freeBytes, &totalBytes);
        j.set("allocated_gib", static_cast<double>(stats.allocated_bytes[agg].current) / GiB);
        j.set("reserved_gib", static_cast<double>(stats.reserved_bytes[agg].current) / GiB);
        j.set("peak_allocated_gib", static_cast<double>(stats.allocated_bytes[agg].peak) / GiB);
        j.set("device_total_gib", static_cast<double>(totalBytes) / GiB);
        j.set("device_free_gib", static_cast<double>(freeBytes) / GiB);
        j.set("alloc_retries", static_cast<int64_t>(stats.num_alloc_retries));
    }
#endif
    return j;
}

void synchronize(c10::Device device)
{
#ifdef MESHWORK_WITH_CUDA
    if (device.is_cuda()) at::cuda::device_synchronize();
#endif
}

std::string torchVersion() { return TORCH_VERSION; }

Json cudaVersion()
{
#ifdef MESHWORK_WITH_CUDA
    int v = 0;
    if (cudaRuntimeGetVersion(&v) == cudaSuccess)
        return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
#endif
    return Json();
}

Json ncclVersion()
{
#ifdef MESHWORK_WITH_CUDA
    // torch packs it as major << 32 | minor << 16 | patch (torch/csrc/cuda/nccl.cpp).
    const std::uint64_t v = torch::cuda::nccl::version();
    if (v > 0)
        return std::to_string(v >> 32) + "." + std::to_string((v >> 16) & 0xffff) + "." + std::to_string(v & 0xffff);
#endif
    return Json();
}

AutocastScope::AutocastScope(c10::Device device, Precision precision) : m_type(device.type())
{
    if (precision == Precision::Fp32) return;
    m_active = true;
    m_prevEnabled = at::autocast::is_autocast_enabled(m_type);
    m_prevDtype = static_cast<int>(at::autocast::get_autocast_dtype(m_type));
    at::autocast::set_autocast_dtype(m_type, precision == Precision::Bf16 ? at::kBFloat16 : at::kHalf);
    at::autocast::set_autocast_enabled(m_type, true);
    at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope()
{
    if (!m_active) return;
    // As torch.autocast.__exit__: the weight-cast cache lives for the outermost scope only,
    // so the next step casts the updated master weights again.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(m_type, m_prevEnabled);
    at::autocast::set_autocast_dtype(m_type, static_cast<at::ScalarType>(m_prevDtype));
}

at::Tensor tokensToDevice(const int32_t* tokens, int64_t B, int64_t T, c10::Device device)
{
    const at::Tensor host = at::from_blob(const_cast<int32_t*>(tokens), {B, T}, at::TensorOptions().dtype(at::kInt));
    if (!device.is_cuda()) return host.to(at::kLong);
    // The caching host allocator keeps a pinned block until the copy that reads it has ended.
    at::Tensor pinned = at::empty({B, T}, at::TensorOptions().dtype(at::kInt).pinned_memory(true));
    pinned.copy_(host);
    return pinned.to(device, at::kInt, /*non_blocking=*/true).to(at::kLong);
}

AutocastCacheScope::AutocastCacheScope(Precision precision) : m_active(precision != Precision::Fp32)
{
    // The cache is cleared when the outermost scope's nesting count returns to zero: holding
    // one level here makes the AutocastScopes inside leave it alone.
    if (m_active) at::autocast::increment_nesting();
}

AutocastCacheScope::~AutocastCacheScope()
{
    if (m_active && at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
}

} // namespace meshwork
