#include "core/train/RunFailure.h"

#include "core/train/OomReport.h"
#include "core/train/TrainOptions.h"

#include <c10/util/Exception.h>

#include <exception>
#include <new>
#include <unistd.h>

namespace meshwork {

RunFailure describeCurrentFailure(const TrainConfig& config, int worldSize, int localRank)
{
    try {
        throw; // the exception in flight
    } catch (const TrainError& e) {
        return {e.kind(), e.what(), Json()};
    } catch (const c10::OutOfMemoryError& e) {
        c10::Device device(c10::kCPU);
        if (config.device == "cuda") device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(localRank));
        const std::string msg = e.what_without_backtrace();
        return {TrainErrorKind::Oom,
                "CUDA out of memory: " + msg.substr(0, 400)
                    + " — lower --micro-batch or --seq, raise --zero, or use --recompute selective/full",
                outOfMemoryDetails(config, worldSize, device)};
    } catch (const std::bad_alloc&) {
        return {TrainErrorKind::Oom, "host out of memory; lower --micro-batch or --seq", Json()};
    } catch (const c10::DistBackendError& e) {
        return {TrainErrorKind::Comm, std::string("collective failed: ") + e.what_without_backtrace(), Json()};
    } catch (const c10::Error& e) {
        return {TrainErrorKind::Internal, std::string("LibTorch: ") + e.what_without_backtrace(), Json()};
    } catch (const std::exception& e) {
        return {TrainErrorKind::Internal, e.what(), Json()};
    } catch (...) {
        return {TrainErrorKind::Internal, "unknown exception", Json()};
    }
}

std::string hostName()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

} // namespace meshwork
