// Who is writing: process id and host name recorded with a running run, so that a run left
// `running` by a process that died can be marked interrupted (POSIX; no Qt in core/).
#pragma once

#include <cstdint>
#include <string>

namespace meshwork {

int64_t currentProcessId();
std::string currentHostName();
// True when a process with this id exists on this host (kill(pid, 0)). A recycled pid
// reads as alive: the run then stays `running` until marked by hand, the safe mistake.
bool processAlive(int64_t pid);
int64_t unixNow();

} // namespace meshwork
