// Writes the event protocol of DESIGN.md (version 1): one JSON object per line, flushed per
// line so that a reader following the file (or a pipe) sees every event as it happens and a
// kill leaves at most one partial line behind. Every object starts with "v", "event", "t".
#pragma once

#include "core/json/Json.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <string_view>

namespace meshwork {

inline constexpr int kEventProtocolVersion = 1;

// What one optimizer step reports (DESIGN.md `step`).
struct StepEvent {
    int64_t step = 0;
    double loss = 0;
    double lr = 0;
    double gradNorm = 0;
    int64_t tokens = 0;        // cumulative over all ranks
    double tokensPerS = 0;     // all ranks
    double tflops = 0;         // per GPU, model FLOPs (core/spec/Flops.h)
    double mfu = 0;
    double stepMs = 0;
    double memPeakGiB = 0;       // this rank's allocator peak (the largest of all ranks in a distributed run)
    // Pipeline runs: the allocator peak of each stage (the largest over its ranks), so rank 0's
    // stream shows every stage's memory. Empty otherwise (the field is then not written).
    std::vector<double> memStagesGiB;
    // How long the host waited for the device at the step's one sync (reading loss and gradient
    // norm back). Near 0 the device waited for the host instead: the step is launch-bound, and a
    // faster GPU would not help. Negative: not measured, or a CPU run (the field is then not written).
    double hostWaitMs = -1;
};

class EventWriter {
public:
    // path empty: no file. echoStdout: also write every line to stdout (rank 0).
    // Throws std::runtime_error naming the path when the file cannot be opened.
    EventWriter(const std::string& path, bool echoStdout);

    // Writes {"v":1,"event":name,"t":...} followed by the fields of `fields` (an object).
    void write(std::string_view name, const Json& fields);

    void step(const StepEvent& s);
    void eval(int64_t step, double valLoss);
    void checkpoint(int64_t step, const std::string& path);
    void log(std::string_view level, std::string_view message);
    // kind: config, oom, nan, comm, io, internal. extra: more fields (an object or null).
    void error(std::string_view kind, std::string_view message, const Json& extra = Json());
    void runEnd(std::string_view status, int64_t steps);

    // Seconds since this writer was made (the run's start).
    double elapsed() const;
    const std::string& path() const { return m_path; }

private:
    struct FileCloser { void operator()(std::FILE* f) const { if (f) std::fclose(f); } };

    std::string m_path;
    std::unique_ptr<std::FILE, FileCloser> m_file;
    bool m_echo = false;
    std::chrono::steady_clock::time_point m_start;
    std::mutex m_mutex;
};

} // namespace meshwork
