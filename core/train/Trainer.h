// The training loop: builds the model, data, optimizer and device from a TrainConfig, trains,
// evaluates, checkpoints, and reports everything as events (DESIGN.md protocol v1). Every
// failure ends the run cleanly: an `error` event, then `run_end` with status `failed`.
#pragma once

#include "core/train/TrainContext.h"
#include "core/train/TrainError.h"
#include "core/train/TrainOptions.h"

#include <cstdint>

namespace meshwork {

class EventWriter;

inline constexpr const char* kTrainerVersion = "0.1.0";

enum class RunStatus { Completed, Failed, Cancelled };

struct RunResult {
    RunStatus status = RunStatus::Completed;
    int64_t steps = 0;                         // optimizer steps done when the run ended
    TrainErrorKind errorKind = TrainErrorKind::Internal; // when failed
    double lastLoss = 0;
    double lastValLoss = -1;
};

// 0 completed, 1 failed, 2 failed for a config error (bad flags, data that does not fit the
// model), 3 cancelled. The launcher reads the reason from the events.
int exitCode(const RunResult& r);

// The end of a run stopped on request (SIGTERM, SIGINT), once its checkpoint is written: the
// log line, run_end `cancelled`, and the result. Shared by both training loops.
RunResult endCancelled(EventWriter& events, int64_t stepsDone);

class Trainer {
public:
    Trainer(const TrainConfig& config, const TrainContext& context, EventWriter& events);
    RunResult run();

private:
    RunResult runUnguarded();

    const TrainConfig& m_config;
    const TrainContext& m_context;
    EventWriter& m_events;
    int64_t m_stepsDone = 0;
};

} // namespace meshwork
