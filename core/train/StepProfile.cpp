#include "core/train/StepProfile.h"

#include "core/train/TrainError.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <filesystem>

namespace meshwork {

StepProfile::StepProfile(const std::string& path, int rank, int64_t firstStep, int64_t lastStep)
{
    if (path.empty() || lastStep < firstStep) return;
    m_path = rank == 0 ? path : path + ".rank" + std::to_string(rank);
    m_step = std::min(firstStep + 2, lastStep);
}

StepProfile::~StepProfile() = default;

void StepProfile::beginStep(int64_t step)
{
    if (step != m_step) return;
    m_out = std::make_unique<std::ofstream>(m_path + ".tmp");
    if (!*m_out) throw TrainError(TrainErrorKind::Io, "--profile: cannot create " + m_path + ".tmp");
    m_guard = std::make_unique<torch::autograd::profiler::RecordProfile>(*m_out);
}

void StepProfile::endStep(int64_t step)
{
    if (step != m_step || !m_guard) return;
    m_guard.reset(); // writes the trace
    m_out->close();
    const bool ok = static_cast<bool>(*m_out);
    m_out.reset();
    if (!ok) throw TrainError(TrainErrorKind::Io, "--profile: writing " + m_path + ".tmp failed");
    std::filesystem::rename(m_path + ".tmp", m_path);
}

} // namespace meshwork
