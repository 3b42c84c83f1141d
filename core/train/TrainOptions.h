// meshwork-train's configuration: the model and plan options shared with `meshwork-cli plan`
// (core/spec/Options.h) plus the options only the trainer has. No LibTorch here, so the
// launcher and tests can parse and check a command line without the training engine.
#pragma once

#include "core/spec/ModelSpec.h"
#include "core/spec/Options.h"
#include "core/spec/Plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace meshwork {

class Json;

struct TrainConfig {
    ModelSpec model;
    Plan plan;
    std::string device = "cpu";          // cpu | cuda
    std::string data = "synthetic";      // synthetic | FILE (text, or llm.c token file)
    int64_t steps = 100;
    double lr = 6e-4;
    double minLr = -1;                   // < 0: lr / 10
    int64_t warmup = 0;                  // steps of linear warmup
    double weightDecay = 0.1;
    double gradClip = 1.0;               // global-norm clip; 0 turns it off
    double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
    double momentum = 0.9;               // LARS and SGD
    double larsTrust = 0.001;            // LARS trust coefficient eta (You et al. 2017)
    uint64_t seed = 1337;
    int64_t evalEvery = 0;               // 0: only at the end
    int64_t evalBatches = 4;             // micro-batches per evaluation
    double valFraction = 0.1;            // share of the data held out for validation
    int64_t checkpointEvery = 0;         // 0: only on SIGTERM
    std::string checkpointDir = "checkpoints";
    bool resume = false;
    std::string resumeFrom;              // a checkpoint file; empty: newest in checkpointDir
    std::string eventsPath;
    std::string runId;
    bool skipNonfinite = false;
    int threads = 0;                     // CPU threads for LibTorch; 0: its default
    std::string dumpReference;           // hidden: write weights, one batch, loss and grads and stop
    std::string profilePath;             // --profile: Chrome trace of one step (StepProfile.h)

    double effectiveMinLr() const { return minLr >= 0 ? minLr : lr / 10.0; }
    Json toJson() const;                 // every option, same names as the flags
};

// Options only the trainer has (model and plan options come from core/spec/Options.h).
const std::vector<OptionSpec>& trainOptions();
// modelOptions + planOptions + trainOptions, in the order --help prints them.
std::vector<OptionSpec> allTrainerOptions();
std::string trainUsage();

// Parses and checks a command line (without the program name). Throws SpecError with a
// message that says what to fix; `--help` sets *help instead of parsing further.
TrainConfig parseTrainConfig(const std::vector<std::string>& args, bool* help = nullptr);

} // namespace meshwork
