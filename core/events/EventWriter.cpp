#include "core/events/EventWriter.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace meshwork {

EventWriter::EventWriter(const std::string& path, bool echoStdout)
    : m_path(path), m_echo(echoStdout), m_start(std::chrono::steady_clock::now())
{
    if (!path.empty()) {
        // Append: a resumed run continues the same events file.
        m_file.reset(std::fopen(path.c_str(), "a"));
        if (!m_file)
            throw std::runtime_error("cannot open the events file " + path + " for writing: "
                                     + std::strerror(errno));
    }
}

double EventWriter::elapsed() const
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

void EventWriter::write(std::string_view name, const Json& fields)
{
    Json j = Json::object();
    j.set("v", kEventProtocolVersion).set("event", name);
    // Milliseconds are enough and keep lines short.
    j.set("t", std::round(elapsed() * 1000.0) / 1000.0);
    if (fields.isObject())
        for (const auto& [key, value] : fields.asObject()) j.set(key, value);
    std::string line = j.dump();
    line += '\n';

    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_file) {
        std::fwrite(line.data(), 1, line.size(), m_file.get());
        std::fflush(m_file.get());
    }
    if (m_echo) {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
    }
}

void EventWriter::step(const StepEvent& s)
{
    Json j = Json::object();
    j.set("step", s.step).set("loss", s.loss).set("lr", s.lr).set("grad_norm", s.gradNorm);
    j.set("tokens", s.tokens).set("tokens_per_s", s.tokensPerS).set("tflops", s.tflops);
    j.set("mfu", s.mfu).set("step_ms", s.stepMs).set("mem_peak_gib", s.memPeakGiB);
    if (s.hostWaitMs >= 0) j.set("host_wait_ms", s.hostWaitMs);
    if (!s.memStagesGiB.empty()) {
        Json stages = Json::array();
        for (double g : s.memStagesGiB) stages.push(g);
        j.set("mem_stages_gib", stages);
    }
    write("step", j);
}

void EventWriter::eval(int64_t step, double valLoss)
{
    write("eval", Json::object().set("step", step).set("val_loss", valLoss));
}

void EventWriter::checkpoint(int64_t step, const std::string& path)
{
    write("checkpoint", Json::object().set("step", step).set("path", path));
}

void EventWriter::log(std::string_view level, std::string_view message)
{
    write("log", Json::object().set("level", level).set("message", message));
}

void EventWriter::error(std::string_view kind, std::string_view message, const Json& extra)
{
    Json j = Json::object();
    j.set("kind", kind).set("message", message);
    if (extra.isObject())
        for (const auto& [key, value] : extra.asObject()) j.set(key, value);
    write("error", j);
}

void EventWriter::runEnd(std::string_view status, int64_t steps)
{
    Json j = Json::object();
    j.set("status", status).set("steps", steps).set("wall_s", std::round(elapsed() * 1000.0) / 1000.0);
    write("run_end", j);
}

} // namespace meshwork
