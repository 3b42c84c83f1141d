// What every planning command of meshwork-cli shares: the usage error (exit code 2), the
// option lists, and turning parsed flags into a model, a cluster and a plan.
#pragma once

#include "core/planner/Estimate.h"
#include "core/spec/Options.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace meshwork::cli {

// Bad input the user can fix: one message on stderr, exit code 2.
class UsageError : public std::runtime_error {
public:
    explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

// Exit codes, as `meshwork-cli --help` documents them.
enum ExitCode { kOk = 0, kInvalidPlan = 1, kBadInput = 2, kInternalError = 3 };

std::vector<OptionSpec> concat(std::initializer_list<std::vector<OptionSpec>> groups);

// Parses args against the known options; a planner flag that the command does not take
// (e.g. --tp for search, which chooses it) gets a message saying why. Throws UsageError.
ParsedArgs parseCommandArgs(const std::string& command, const std::vector<std::string>& args,
                            const std::vector<OptionSpec>& known);

struct Setup {
    ModelSpec model;
    ClusterSpec cluster;
    Plan plan;
    Target target = Target::Meshwork;
    std::vector<std::string> notes; // how defaults were filled in (dp), shown with the plan
    std::string modelAndClusterArgs; // the model and cluster flags as given, to print a command line
};

// Model (default gpt2-124m), cluster (default 1 node x 8 h100-sxm), plan and target from the
// flags. When --dp is absent, dp = world / (tp x pp x cp) if that divides. Throws UsageError
// for values that are wrong whatever the model (tp 0, zero 5, an unknown GPU, a bad file).
Setup resolveSetup(const ParsedArgs& args, Target defaultTarget);

// "1e12", "300B", "1.5T", "500M", "2000000" -> tokens. Throws UsageError naming the flag.
double parseTokenCount(const std::string& flag, const std::string& value);
int64_t parsePositive(const std::string& flag, const std::string& value);

// v as one shell word: unchanged when it is plain, single-quoted otherwise.
std::string shellQuote(const std::string& v);

// The closest of the candidates to s within a small edit distance, or empty.
std::string nearest(const std::string& s, const std::vector<std::string>& candidates);

} // namespace meshwork::cli
