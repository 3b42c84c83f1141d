// meshwork-train: parses the command line, wires the training core together, and maps the
// outcome to an exit code (0 completed, 1 failed, 2 bad flags or configuration, 3 cancelled).
#include "core/events/EventWriter.h"
#include "core/spec/SpecError.h"
#include "core/train/TrainContext.h"
#include "core/train/TrainOptions.h"
#include "core/train/Trainer.h"
#include "core/train/dist/DistOptions.h"
#include "core/train/dist/DistTrainer.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

std::atomic<bool> g_stopRequested{false}; // set by the signal handler only

extern "C" void onStopSignal(int) { g_stopRequested.store(true); }

// The --events value, if any, so that a bad-flags error still reaches the events file.
std::string eventsPathOf(const std::vector<std::string>& args)
{
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--events" && i + 1 < args.size()) return args[i + 1];
        if (args[i].rfind("--events=", 0) == 0) return args[i].substr(9);
    }
    return {};
}

} // namespace

int main(int argc, char** argv)
{
    using namespace meshwork;
    const std::vector<std::string> args(argv + 1, argv + argc);

    TrainConfig config;
    DistConfig dist; // issue #4: rank and rendezvous from flags, torchrun or Slurm
    try {
        bool help = false;
        config = parseTrainConfig(args, &help);
        if (help) {
            std::fputs(trainUsage().c_str(), stdout);
            return 0;
        }
        dist = parseDistConfig(parseArgs(args, allTrainerOptions()));
        if (auto problems = checkWorldSize(config.plan, dist); !problems.empty()) throw SpecError(problems.front());
    } catch (const SpecError& e) {
        std::fprintf(stderr, "meshwork-train: %s\n", e.what());
        try {
            EventWriter events(eventsPathOf(args), true);
            events.error("config", e.what());
            events.runEnd("failed", 0);
        } catch (const std::exception&) {
            // The events file itself is unusable; stderr has the message.
        }
        return 2;
    }

    std::unique_ptr<EventWriter> events;
    try {
        events = std::make_unique<EventWriter>(config.eventsPath, dist.rank == 0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "meshwork-train: %s\n", e.what());
        return 2;
    }

    struct sigaction action = {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);

    TrainContext context;
    context.stopRequested = &g_stopRequested;
    if (dist.distributed()) {
        DistTrainer distributed(config, dist, context, *events);
        return exitCode(distributed.run());
    }
    // One process still takes its GPU from --local-rank or $LOCAL_RANK (a single rank that a
    // launcher placed on GPU 2, or several one-GPU runs side by side), not always GPU 0.
    context.groups.localRank = dist.localRank;
    Trainer trainer(config, context, *events);
    const RunResult result = trainer.run();
    return exitCode(result);
}
