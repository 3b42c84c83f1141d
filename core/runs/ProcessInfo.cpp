#include "core/runs/ProcessInfo.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <sys/types.h>
#include <unistd.h>

namespace meshwork {

int64_t currentProcessId()
{
    return static_cast<int64_t>(::getpid());
}

std::string currentHostName()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return {};
    return name;
}

bool processAlive(int64_t pid)
{
    if (pid <= 0) return false;
    if (::kill(static_cast<pid_t>(pid), 0) == 0) return true;
    return errno == EPERM; // exists, but belongs to someone else
}

int64_t unixNow()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace meshwork
