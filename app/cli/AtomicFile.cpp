#include "app/cli/AtomicFile.h"

#include "app/cli/CliSetup.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace meshwork::cli {

namespace {

// Closes the descriptor and removes the temporary unless released (RAII for the C handle).
class TempFile {
public:
    explicit TempFile(std::string pattern) : m_path(std::move(pattern))
    {
        m_fd = ::mkstemp(m_path.data());
        m_created = m_fd >= 0;
    }
    ~TempFile()
    {
        if (m_fd >= 0) ::close(m_fd);
        if (m_created && !m_released) ::unlink(m_path.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const { return m_fd; }
    const std::string& path() const { return m_path; }
    bool closeFile()
    {
        const int rc = ::close(m_fd);
        m_fd = -1;
        return rc == 0;
    }
    void release() { m_released = true; }

private:
    std::string m_path;
    int m_fd = -1;
    bool m_created = false;
    bool m_released = false;
};

std::string reason() { return std::strerror(errno); }

} // namespace

void writeFileAtomically(const std::string& path, const std::string& text, bool executable)
{
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (base.empty()) throw UsageError("--out " + path + ": names a folder; give a file name");
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw UsageError("--out " + path + ": is a folder; give a file name");

    TempFile tmp(dir + "/." + base + ".XXXXXX");
    if (tmp.fd() < 0) throw UsageError("--out " + path + ": cannot create a file in " + dir + ": " + reason());
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0) {
        const ssize_t n = ::write(tmp.fd(), p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw UsageError("--out " + path + ": cannot write: " + reason());
        p += n;
        left -= static_cast<size_t>(n);
    }
    // mkstemp makes the file 0600; give it the mode a new file would get.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(tmp.fd(), (executable ? 0777 : 0666) & ~mask);
    if (::fsync(tmp.fd()) != 0) throw UsageError("--out " + path + ": cannot write: " + reason());
    if (!tmp.closeFile()) throw UsageError("--out " + path + ": cannot write: " + reason());
    if (::rename(tmp.path().c_str(), path.c_str()) != 0)
        throw UsageError("--out " + path + ": cannot replace the file: " + reason());
    tmp.release();
}

} // namespace meshwork::cli
