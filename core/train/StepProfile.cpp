#include "core/train/StepProfile.h"

#include "core/train/Device.h"
#include "core/train/TrainError.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace meshwork {

namespace prof = torch::profiler::impl;

StepProfile::StepProfile(const std::string& path, int rank, int64_t firstStep, int64_t lastStep, c10::Device device)
    : m_device(device)
{
    if (path.empty() || lastStep < firstStep) return;
    m_path = rank == 0 ? path : path + ".rank" + std::to_string(rank);
    m_step = std::min(firstStep + 2, lastStep);
    // A path that cannot be written fails now, not after the steps before the recorded one.
    const std::string tmp = m_path + ".tmp";
    if (!std::ofstream(tmp))
        throw TrainError(TrainErrorKind::Io, "--profile: cannot create " + tmp
                                                 + " (check that its folder exists and is writable)");
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
}

StepProfile::~StepProfile()
{
    if (!m_recording) return;
    try {
        torch::autograd::profiler::disableProfiler(); // a step that threw: drop the trace
    } catch (...) {
        // Already unwinding from the step's error; that one is what the run reports.
    }
}

void StepProfile::beginStep(int64_t step)
{
    if (step != m_step) return;
    std::set<prof::ActivityType> activities{prof::ActivityType::CPU};
    if (m_device.is_cuda())
        activities.insert(prof::ActivityType::CUDA);
    else
        // Kineto looks for GPUs whatever it records, and on a machine without a CUDA driver
        // prints "ERROR ... gpuGetDeviceCount failed" although the trace is fine. Quiet unless
        // the user set a level; writing the file is checked here.
        setenv("KINETO_LOG_LEVEL", "5", 0);
    const prof::ProfilerConfig config(prof::ProfilerState::KINETO);
    torch::autograd::profiler::prepareProfiler(config, activities);
    torch::autograd::profiler::enableProfiler(config, activities);
    m_recording = true;
}

bool StepProfile::endStep(int64_t step)
{
    if (step != m_step || !m_recording) return false;
    m_recording = false;
    synchronize(m_device); // the step's last kernels (optimizer) end inside the trace
    const std::unique_ptr<torch::autograd::profiler::ProfilerResult> result = torch::autograd::profiler::disableProfiler();
    const std::string tmp = m_path + ".tmp";
    try {
        result->save(tmp);
    } catch (const std::exception& e) {
        throw TrainError(TrainErrorKind::Io, "--profile: writing " + tmp + " failed: " + e.what());
    }
    std::error_code ec;
    if (!std::filesystem::exists(tmp, ec))
        throw TrainError(TrainErrorKind::Io, "--profile: writing " + tmp + " failed (check that its folder exists and is writable)");
    std::filesystem::rename(tmp, m_path, ec);
    if (ec) throw TrainError(TrainErrorKind::Io, "--profile: cannot rename " + tmp + " to " + m_path + ": " + ec.message());
    return true;
}

} // namespace meshwork
