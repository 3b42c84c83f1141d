#include "core/runs/RunStore.h"

#include "core/runs/RunStoreError.h"

#include <cstdlib>
#include <filesystem>

namespace meshwork {

std::string defaultRunStorePath()
{
    namespace fs = std::filesystem;
    // XDG Base Directory: XDG_DATA_HOME must be absolute to count; otherwise ~/.local/share.
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg && fs::path(xdg).is_absolute())
        return (fs::path(xdg) / "meshwork" / "runs.sqlite").string();
    const char* home = std::getenv("HOME");
    if (!home || !*home)
        throw RunStoreError("cannot place runs.sqlite: neither XDG_DATA_HOME nor HOME is set; "
                            "set one of them or pass the database path explicitly (--db FILE)");
    return (fs::path(home) / ".local" / "share" / "meshwork" / "runs.sqlite").string();
}

} // namespace meshwork
