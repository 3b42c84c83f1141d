// Run store benchmarks (figures, not pass/fail):
//  1. ingest rate, metric points per second (target >= 200k/s), from Event objects and from
//     JSON lines (parse + store), through the batching Ingestor into a real WAL file;
//  2. open a run of 1M metric points and load its loss series (target <= 300 ms);
//  3. open a run whose loss series alone has 1M points and load it.
// Usage: bench_runs [FOLDER]   (default: a fresh folder under /tmp, removed afterwards)
#include "core/events/Event.h"
#include "core/runs/Ingestor.h"
#include "core/runs/RunStore.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

using namespace meshwork;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Process CPU seconds: on a shared, loaded machine wall time also counts other processes'
// turns; CPU time is what this code costs. Both are printed.
double cpuSeconds()
{
    return double(std::clock()) / CLOCKS_PER_SEC;
}

struct Timing {
    double wall = 0;
    double cpu = 0;
};

Event makeEvent(const char* type, double t)
{
    Event e;
    e.type = type;
    e.t = t;
    e.fields = Json::object();
    e.fields.set("v", 1).set("event", type).set("t", t);
    return e;
}

Event startEvent(const std::string& runId)
{
    Event e = makeEvent("run_start", 0);
    Json plan = Json::object();
    plan.set("model", "gpt2-124m").set("dp", 8).set("tp", 1).set("zero", 1).set("micro_batch", 16).set("seq", 1024);
    e.fields.set("run_id", runId).set("plan", plan).set("world_size", 8).set("trainer", "bench");
    return e;
}

// A step event with all nine step series (DESIGN.md), or only loss and tokens.
Event stepEvent(int64_t step, bool allSeries)
{
    Event e = makeEvent("step", 0.1 * double(step));
    e.fields.set("step", step).set("loss", 3.0 + 1.0 / double(step)).set("tokens", step * 131072);
    if (allSeries) {
        e.fields.set("lr", 3e-4).set("grad_norm", 0.8).set("tokens_per_s", 1.2e6).set("tflops", 180.5);
        e.fields.set("mfu", 0.42).set("step_ms", 105.0).set("mem_peak_gib", 61.3);
    }
    return e;
}

// Ingests `steps` steps into a new run; returns the time spent in the store.
Timing ingestRun(RunStore& store, const std::string& runId, int64_t steps, bool allSeries)
{
    std::vector<Event> events;
    events.reserve(size_t(steps));
    for (int64_t s = 1; s <= steps; ++s) events.push_back(stepEvent(s, allSeries));
    const auto t0 = Clock::now();
    const double c0 = cpuSeconds();
    Ingestor ingestor(store, runId);
    ingestor.add(startEvent(runId));
    for (const Event& e : events) ingestor.add(e);
    ingestor.add(makeEvent("run_end", 0.1 * double(steps)));
    ingestor.finish();
    return {secondsSince(t0), cpuSeconds() - c0};
}

void openAndLoad(const std::string& path, const std::string& runId, const char* what, bool withTokens = true)
{
    // Best of 3 and the first (the page cache holds the file either way: that is how a user
    // reopens a run they just trained).
    double first = 0, best = 1e9, bestCpu = 1e9;
    size_t points = 0;
    for (int i = 0; i < 3; ++i) {
        const auto t0 = Clock::now();
        const double c0 = cpuSeconds();
        RunStore store(path);
        const Series loss = store.series(runId, "loss", withTokens);
        const double s = secondsSince(t0);
        points = loss.size();
        if (i == 0) first = s;
        best = std::min(best, s);
        bestCpu = std::min(bestCpu, cpuSeconds() - c0);
    }
    std::printf("%-50s %8zu pts  wall: first %6.1f ms, best %6.1f ms; cpu best %6.1f ms  (target <= 300 ms)\n",
                what, points, first * 1e3, best * 1e3, bestCpu * 1e3);
}

} // namespace

int main(int argc, char** argv)
{
    namespace fs = std::filesystem;
    const bool ownFolder = argc < 2;
    fs::path folder = ownFolder ? fs::temp_directory_path() / ("bench_runs." + std::to_string(::getpid())) : fs::path(argv[1]);
    fs::create_directories(folder);
    try {
        const std::string path = (folder / "runs.sqlite").string();
        fs::remove(path);
        RunStore store(path);

        // 1. Ingest rate: 111,112 steps x 9 series = 1,000,008 points (also the 1M-point run of 2).
        const int64_t steps = 111112;
        double load[3] = {};
        if (getloadavg(load, 3) > 0) std::printf("load average %.1f on %ld cores\n", load[0], sysconf(_SC_NPROCESSORS_ONLN));
        const Timing s = ingestRun(store, "run-1m-points", steps, true);
        const double points = double(steps) * 9;
        auto rate = [](const char* what, double n, Timing t, const char* target) {
            std::printf("%-50s %8.0f pts  wall %6.2f s = %7.0f pts/s; cpu %6.2f s = %7.0f pts/s%s\n", what, n, t.wall,
                        n / t.wall, t.cpu, n / t.cpu, target);
        };
        rate("ingest: Event objects -> Ingestor -> SQLite WAL", points, s, "  (target >= 200,000)");

        // The same through the reader: JSON lines, as they come from a trainer's stdout.
        std::string text;
        const int64_t jsonSteps = 50000;
        text += startEvent("run-json").fields.dump() + "\n";
        for (int64_t i = 1; i <= jsonSteps; ++i) text += stepEvent(i, true).fields.dump() + "\n";
        const auto t1 = Clock::now();
        const double c1 = cpuSeconds();
        Ingestor ingestor(store);
        for (size_t pos = 0; pos < text.size(); pos += 65536) ingestor.feed(std::string_view(text).substr(pos, 65536));
        ingestor.finish();
        rate("ingest: JSON lines -> reader -> Ingestor -> WAL", double(jsonSteps) * 9,
             {secondsSince(t1), cpuSeconds() - c1}, "");

        // 3. A run whose loss series alone has 1M points (loss and tokens per step).
        rate("ingest: loss + tokens only, 1M steps", 2e6, ingestRun(store, "run-1m-loss", 1000000, false), "");

        std::printf("database: %.1f MiB\n", double(fs::file_size(path)) / (1 << 20));
        openAndLoad(path, "run-1m-points", "open + loss series of a 1M-point run (111k steps)");
        openAndLoad(path, "run-1m-loss", "open + loss series with 1M loss points");
        openAndLoad(path, "run-1m-loss", "  the same without tokens (loss against step)", false);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_runs: %s\n", e.what());
        return 1;
    }
    if (ownFolder) fs::remove_all(folder);
    return 0;
}
