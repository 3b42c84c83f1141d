// The values the run store hands out: a run's record, a filter, a series, a summary,
// and a configuration comparison. Plain data; RunStore fills them.
#pragma once

#include "core/json/Json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshwork {

enum class RunStatus { Running, Completed, Failed, Cancelled, Interrupted };
const char* toString(RunStatus s);
std::optional<RunStatus> parseRunStatus(const std::string& s);

// What the planner predicted for the run's plan, to be compared with what it measured.
struct Prediction {
    std::optional<double> tokensPerS; // whole job
    std::optional<double> tflops;     // per GPU, model FLOPs
    std::optional<double> memGib;     // peak per GPU
};

struct RunInfo {
    std::string id;                 // the trainer's run_id
    std::string name;               // defaults to the id; the user may rename it
    RunStatus status = RunStatus::Running;
    int64_t created = 0;            // unix seconds
    std::string host;
    std::string model;
    std::string trainer;            // trainer version
    std::optional<int64_t> worldSize;
    Json plan = Json::object();     // run_start's plan, every option
    std::vector<std::string> tags;
    std::string notes;
    Prediction predicted;
    std::optional<double> finalLoss; // cached from the loss series
    std::optional<double> bestLoss;
    std::optional<int64_t> steps;    // last step seen (run_end's count when it came)
    std::optional<double> wallS;     // from run_end
};

struct RunFilter {
    std::string text;                  // substring of id, name, model, notes or a tag (case-insensitive)
    std::optional<RunStatus> status;
    std::string tag;                   // exact tag
};

// The metric series of one run: parallel vectors, one entry per step at which the metric
// was recorded. tokens is the cumulative token count at that step (NaN when not recorded;
// empty when the series was loaded without tokens).
struct Series {
    std::string name;
    std::vector<int64_t> step;
    std::vector<double> t;
    std::vector<double> tokens;
    std::vector<double> value;
    size_t size() const { return value.size(); }
};

// The metric names the trainer's step and eval events carry (DESIGN.md event protocol).
const std::vector<std::string>& knownSeriesNames();

struct RunSummary {
    int64_t points = 0;                  // loss points recorded
    std::optional<int64_t> lastStep;
    std::optional<double> finalLoss;     // at the last step
    std::optional<double> bestLoss;
    std::optional<int64_t> bestLossStep;
    std::optional<double> finalValLoss;
    // Means over the steps after the first when there are three or more: the first step
    // carries one-off costs (kernel compilation, allocator warm-up) that no later step pays.
    std::optional<double> meanTokensPerS;
    std::optional<double> meanTflops;
    std::optional<double> meanMfu;
    std::optional<double> meanStepMs;
    // How long the host waited for the device at each step's sync (trainers since 2026-11-27):
    // near 0 the device waited for the host instead, the run is launch-bound.
    std::optional<double> meanHostWaitMs;
    std::optional<double> peakMemGib;    // the maximum over all steps
    Prediction predicted;
    // Estimate error in percent: (predicted - measured) / measured * 100, so +10 means the
    // planner promised 10% more than the run delivered.
    std::optional<double> tokensPerSErrorPct;
    std::optional<double> tflopsErrorPct;
    std::optional<double> memErrorPct;
};

// Options side by side: one row per option, one value per run (in runIds order).
struct ConfigDiff {
    struct Row {
        std::string option;
        std::vector<std::string> values; // "" where the run does not have the option
        bool differs = false;
    };
    std::vector<std::string> runIds;
    std::vector<Row> rows;
};

// A plan as option rows: nested objects become dotted names ("training.lr", "model.layers"),
// so that a comparison names the one field that differs; other values as text (strings
// without quotes, the rest as JSON). Order: as in the plan.
std::vector<std::pair<std::string, std::string>> flattenPlan(const Json& plan);

struct StoredEvent {
    int64_t seq = 0;
    double t = 0;
    std::string type;
    std::string json;
};

} // namespace meshwork
