// Writes a whole file or nothing: a temporary beside it, then rename(2).
#pragma once

#include <string>

namespace meshwork::cli {

// Throws UsageError naming the path and the system's reason. `executable` adds the execute
// bits (as the umask allows) for scripts.
void writeFileAtomically(const std::string& path, const std::string& text, bool executable);

} // namespace meshwork::cli
