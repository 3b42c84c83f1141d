// --profile FILE: a Chrome trace (chrome://tracing, Perfetto) of the operators of one training
// step, recorded by LibTorch's legacy profiler: each op's host time as the host issues it,
// backward ops included. What it is for: a step whose host waits little for the device
// (step event host_wait_ms near 0) is launch-bound, and the trace shows which ops the host
// time goes to. The step recorded is the third of the run (caches warm, allocator settled), or
// the last one of a shorter run. Ranks other than 0 write FILE.rankN.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

namespace torch::autograd::profiler {
struct RecordProfile;
}

namespace meshwork {

class StepProfile {
public:
    // path empty: records nothing. firstStep, lastStep: the run's steps.
    StepProfile(const std::string& path, int rank, int64_t firstStep, int64_t lastStep);
    ~StepProfile();

    void beginStep(int64_t step);
    // Writes the file after the recorded step (to FILE.tmp, then renamed).
    void endStep(int64_t step);

private:
    std::string m_path;
    int64_t m_step = -1;
    std::unique_ptr<std::ofstream> m_out;
    std::unique_ptr<torch::autograd::profiler::RecordProfile> m_guard;
};

} // namespace meshwork
