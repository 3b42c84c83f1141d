// `meshwork-cli runs list|show|export|compare|import`: the run store from the command line.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace meshwork {

// args: everything after `runs`. Returns 0 on success, 1 when the run database fails
// (unreadable, locked, written by a newer Meshwork), 2 for bad input (unknown sub-command,
// option or run id, a missing argument, an unreadable file), with the fix on `err`.
int runRunsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace meshwork
