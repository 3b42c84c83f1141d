// Command-line options shared by meshwork-cli and meshwork-train, so that a plan copied
// from one works in the other (DESIGN.md: one vocabulary everywhere).
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"

#include <string>
#include <utility>
#include <vector>

namespace meshwork {

struct OptionSpec {
    std::string name;      // without the leading dashes
    std::string valueHint; // "N", "NAME|FILE"; empty for a bare flag
    std::string help;
};

// Parsed "--name value", "--name=value" and bare "--flag" arguments, in order.
struct ParsedArgs {
    std::vector<std::string> positional;
    std::vector<std::pair<std::string, std::string>> options;

    bool has(const std::string& name) const;
    std::string value(const std::string& name, const std::string& fallback = {}) const; // last wins
};

// Throws SpecError for an unknown option (suggesting the nearest known one) or a missing value.
ParsedArgs parseArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& known);

// The option groups. Names are the same in the CLI, the trainer, plan files and the GUI.
const std::vector<OptionSpec>& modelOptions();   // --model --layers --hidden --heads --kv-heads --ffn --vocab
const std::vector<OptionSpec>& planOptions();    // --dp --tp --pp --vpp --cp --sp --zero ... --order
const std::vector<OptionSpec>& clusterOptions(); // --gpu --nodes --gpus-per-node --intra-gbps --inter-gbps --price

// Resolves a catalog name or a config.json path.
ModelSpec resolveModel(const std::string& nameOrPath);

// Each applies the options of its group found in args (others are ignored) and throws
// SpecError("--tp: expected a whole number, got \"x\"") on bad values.
void applyModelOptions(const ParsedArgs& args, ModelSpec& model);
void applyPlanOptions(const ParsedArgs& args, Plan& plan);
void applyClusterOptions(const ParsedArgs& args, ClusterSpec& cluster);

// The plan as command-line arguments (only what differs from the defaults).
std::vector<std::string> planToArgs(const Plan& plan);

// Help text for a group: one line per option.
std::string formatOptionHelp(const std::vector<OptionSpec>& options);

} // namespace meshwork
