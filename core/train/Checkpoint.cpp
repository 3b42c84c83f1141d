#include "core/train/Checkpoint.h"

#include "core/train/Model.h"
#include "core/train/Optimizer.h"
#include "core/train/TrainError.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

namespace meshwork {

namespace {

constexpr char kMagic[8] = {'M', 'W', 'C', 'K', 'P', 'T', '0', '1'};

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() { if (m_fd >= 0) ::close(m_fd); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    int release() { int f = m_fd; m_fd = -1; return f; }

private:
    int m_fd;
};

[[noreturn]] void ioError(const std::string& path, const std::string& what)
{
    throw TrainError(TrainErrorKind::Io, "checkpoint " + path + ": " + what);
}

void writeAll(int fd, const void* data, size_t size, const std::string& path)
{
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            ioError(path, std::string("write failed: ") + std::strerror(errno));
        }
        p += n;
        size -= static_cast<size_t>(n);
    }
}

void readAll(std::FILE* f, void* data, size_t size, const std::string& path, const char* what)
{
    if (size > 0 && std::fread(data, 1, size, f) != size) ioError(path, std::string("truncated while reading ") + what);
}

// Renames a finished tmp file into place and makes the rename itself durable.
void commit(const std::string& tmp, const std::string& path)
{
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        ioError(path, std::string("cannot rename ") + tmp + ": " + std::strerror(errno));
    const std::string dir = std::filesystem::path(path).parent_path().string();
    Fd dirFd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY));
    if (dirFd.get() >= 0) ::fsync(dirFd.get());
}

void syncAndClose(Fd& fd, const std::string& tmp)
{
    if (::fsync(fd.get()) != 0) ioError(tmp, std::string("fsync failed: ") + std::strerror(errno));
    if (::close(fd.release()) != 0) ioError(tmp, std::string("close failed: ") + std::strerror(errno));
}

} // namespace

void writeTextFileAtomically(const std::string& path, const std::string& text)
{
    const std::string tmp = path + ".tmp";
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
        if (fd.get() < 0) ioError(tmp, std::string("cannot create it: ") + std::strerror(errno));
        writeAll(fd.get(), text.data(), text.size(), tmp);
        syncAndClose(fd, tmp);
    }
    commit(tmp, path);
}

void writeCheckpointFile(const std::string& path, Json header, const NamedTensors& tensors)
{
    const std::string tmp = path + ".tmp";
    Json index = Json::array();
    int64_t offset = 0;
    for (const auto& [tname, t] : tensors) {
        index.push(Json::object().set("name", tname).set("numel", t.numel()).set("offset", offset));
        offset += t.numel() * 4;
    }
    header.set("tensors", index);
    const std::string text = header.dump();
    const uint64_t length = text.size();
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
        if (fd.get() < 0) ioError(tmp, std::string("cannot create it: ") + std::strerror(errno));
        writeAll(fd.get(), kMagic, sizeof kMagic, tmp);
        writeAll(fd.get(), &length, sizeof length, tmp);
        writeAll(fd.get(), text.data(), text.size(), tmp);
        for (const auto& [tname, t] : tensors) {
            const at::Tensor host = t.detach().to(at::kCPU, at::kFloat).contiguous();
            writeAll(fd.get(), host.data_ptr<float>(), static_cast<size_t>(host.numel()) * 4, tmp);
        }
        syncAndClose(fd, tmp);
    }
    commit(tmp, path);
}

CheckpointReader::CheckpointReader(const std::string& path) : m_path(path), m_file(std::fopen(path.c_str(), "rb"))
{
    if (!m_file) ioError(path, std::string("cannot open it: ") + std::strerror(errno));
    char magic[8];
    readAll(m_file.get(), magic, sizeof magic, path, "the magic");
    if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) ioError(path, "not a meshwork checkpoint (wrong magic)");
    uint64_t length = 0;
    readAll(m_file.get(), &length, sizeof length, path, "the header length");
    if (length > (64u << 20)) ioError(path, "header length " + std::to_string(length) + " is implausible");
    std::string text(length, '\0');
    readAll(m_file.get(), text.data(), text.size(), path, "the header");
    std::string error;
    auto header = Json::parse(text, &error);
    if (!header || !header->isObject()) ioError(path, "damaged header: " + error);
    m_header = std::move(*header);
}

double CheckpointReader::number(const char* key) const
{
    const Json* v = m_header.find(key);
    if (!v || !v->isNumber()) ioError(m_path, std::string("header lacks \"") + key + "\"");
    return v->asNumber();
}

void CheckpointReader::read(const NamedTensors& into)
{
    const Json* index = m_header.find("tensors");
    if (!index || !index->isArray() || index->size() != into.size())
        throw TrainError(TrainErrorKind::Config, "checkpoint " + m_path + " holds "
                         + std::to_string(index && index->isArray() ? index->size() : 0) + " tensors, this run expects "
                         + std::to_string(into.size()) + ": resume with the same optimizer and layout");
    at::NoGradGuard noGrad;
    for (size_t i = 0; i < into.size(); ++i) {
        const auto& [tname, t] = into[i];
        const Json& entry = index->asArray()[i];
        const Json* numel = entry.find("numel");
        const Json* name = entry.find("name");
        if (!numel || !numel->isNumber() || static_cast<int64_t>(numel->asNumber()) != t.numel()
            || !name || !name->isString() || name->asString() != tname)
            throw TrainError(TrainErrorKind::Config, "checkpoint " + m_path + ": tensor " + std::to_string(i) + " is "
                             + (name && name->isString() ? name->asString() : std::string("?")) + " of "
                             + (numel && numel->isNumber() ? formatJsonNumber(numel->asNumber()) : std::string("?"))
                             + " elements, this run expects " + tname + " of " + std::to_string(t.numel())
                             + ": resume with the same model, optimizer and layout");
        at::Tensor host = at::empty({t.numel()}, at::TensorOptions().dtype(at::kFloat));
        readAll(m_file.get(), host.data_ptr<float>(), static_cast<size_t>(t.numel()) * 4, m_path, tname.c_str());
        t.view({-1}).copy_(host);
    }
}

std::string saveCheckpoint(const std::string& dir, const LoopState& state, const TransformerModel& model,
                           const FlatOptimizer& optimizer)
{
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) ioError(dir, "cannot create the directory: " + ec.message());
    char name[64];
    std::snprintf(name, sizeof name, "step_%08lld.ckpt", static_cast<long long>(state.step));
    const std::string path = (std::filesystem::path(dir) / name).string();

    NamedTensors tensors{{"params", model.flatParams()}};
    for (const auto& s : optimizer.states()) tensors.push_back(s);
    Json header = Json::object();
    header.set("format", 1).set("run_id", state.runId).set("step", state.step);
    header.set("train_position", state.trainPosition).set("loss_scale", state.lossScale).set("good_steps", state.goodSteps);
    header.set("optimizer", toString(optimizer.config().kind)).set("optimizer_step", optimizer.stepCount());
    header.set("parameters", model.parameterCount()).set("model", model.spec().toJson());
    writeCheckpointFile(path, std::move(header), tensors);
    return path;
}

LoopState loadCheckpoint(const std::string& path, TransformerModel& model, FlatOptimizer& optimizer)
{
    CheckpointReader reader(path);
    const int64_t params = static_cast<int64_t>(reader.number("parameters"));
    if (params != model.parameterCount())
        throw TrainError(TrainErrorKind::Config, "checkpoint " + path + " holds " + std::to_string(params)
                         + " parameters, the model has " + std::to_string(model.parameterCount())
                         + ": resume with the same --model and dimensions");
    const Json* opt = reader.header().find("optimizer");
    if (!opt || !opt->isString() || opt->asString() != toString(optimizer.config().kind))
        throw TrainError(TrainErrorKind::Config, "checkpoint " + path + " was written with --optimizer "
                         + (opt && opt->isString() ? opt->asString() : std::string("?"))
                         + ": resume with the same optimizer");

    NamedTensors tensors{{"params", model.flatParams()}};
    for (const auto& s : optimizer.states()) tensors.push_back(s);
    reader.read(tensors);
    LoopState s;
    s.step = static_cast<int64_t>(reader.number("step"));
    s.trainPosition = static_cast<int64_t>(reader.number("train_position"));
    s.lossScale = reader.number("loss_scale");
    s.goodSteps = static_cast<int64_t>(reader.number("good_steps"));
    if (const Json* id = reader.header().find("run_id"); id && id->isString()) s.runId = id->asString();
    optimizer.setStepCount(static_cast<int64_t>(reader.number("optimizer_step")));
    return s;
}

std::string latestCheckpoint(const std::string& dir)
{
    std::error_code ec;
    std::string best;
    if (!std::filesystem::is_directory(dir, ec)) return best;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        // step_NNNNNNNN.ckpt sorts by step; .tmp files are unfinished writes.
        if (name.rfind("step_", 0) == 0 && name.size() > 5 && name.compare(name.size() - 5, 5, ".ckpt") == 0) {
            const std::string p = entry.path().string();
            if (best.empty() || p > best) best = p;
        }
    }
    return best;
}

} // namespace meshwork
