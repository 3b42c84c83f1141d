// `meshwork-cli run --nproc N [trainer options]`: N local ranks of meshwork-train.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace meshwork {

// Returns the exit code: 0 completed, 1 failed, 2 bad arguments, 130 cancelled (SIGINT/SIGTERM).
int runRunCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace meshwork
