// The planning commands of meshwork-cli: plan, search, export, models, gpus.
// Each returns the process exit code (CliSetup.h: 0 ok, 1 invalid plan, 2 bad input) and
// throws UsageError for bad input; main() turns that into one line on stderr.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace meshwork::cli {

int runPlanCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int runSearchCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int runExportCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int runModelsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int runGpusCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// `meshwork-cli <command> --help`, or empty for a command that is not one of these.
std::string planningCommandHelp(const std::string& command);

} // namespace meshwork::cli
