// --profile FILE: a Chrome trace (chrome://tracing, Perfetto) of one training step, recorded by
// LibTorch's Kineto profiler: each operator's host time as the host issues it, backward ops
// included, and on a GPU every kernel and copy on its stream (NCCL's too), so the trace shows
// how much of the collectives overlaps compute (scripts/profile_summary.py sums both). What it
// is for: a step whose host waits little for the device (step event host_wait_ms near 0) is
// launch-bound, and the trace shows which ops the host time goes to; one that waits, where
// the device's time goes. The device is synchronized before the trace is closed, so the
// step's last kernels are in it. The step recorded is the third of the run (caches warm, allocator settled), or
// the last one of a shorter run. Ranks other than 0 write FILE.rankN.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <string>

namespace meshwork {

class StepProfile {
public:
    // path empty: records nothing. firstStep, lastStep: the run's steps. On a CUDA device the
    // kernels are recorded too.
    StepProfile(const std::string& path, int rank, int64_t firstStep, int64_t lastStep, c10::Device device);
    ~StepProfile();

    void beginStep(int64_t step);
    // Writes the file after the recorded step (to FILE.tmp, then renamed); true if it did, so
    // the caller leaves the time that took out of the next step's.
    bool endStep(int64_t step);

private:
    std::string m_path;
    int64_t m_step = -1;
    c10::Device m_device;
    bool m_recording = false;
};

} // namespace meshwork
