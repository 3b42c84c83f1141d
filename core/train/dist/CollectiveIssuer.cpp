#include "core/train/dist/CollectiveIssuer.h"

#include <ATen/core/grad_mode.h>
#include <c10/core/DeviceGuard.h>

namespace meshwork {

CollectiveIssuer::CollectiveIssuer(c10::Device device) : m_device(device), m_thread([this] { run(); }) {}

CollectiveIssuer::~CollectiveIssuer()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

uint64_t CollectiveIssuer::post(std::function<void()> task)
{
    uint64_t number = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_tasks.push_back(std::move(task));
        number = ++m_posted;
    }
    m_wake.notify_one();
    return number;
}

void CollectiveIssuer::drain()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    m_idle.wait(lock, [this] { return m_tasks.empty() && !m_running; });
    if (m_error) {
        std::exception_ptr e = m_error;
        m_error = nullptr;
        std::rethrow_exception(e);
    }
}

void CollectiveIssuer::run()
{
    // The current device (and its current, default stream) and grad mode are per thread.
    c10::OptionalDeviceGuard device;
    if (m_device.type() != c10::DeviceType::CPU) device.reset_device(m_device);
    at::NoGradGuard noGrad;
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_stop || !m_tasks.empty(); });
        if (m_tasks.empty()) return; // stopping, nothing left
        std::function<void()> task = std::move(m_tasks.front());
        m_tasks.pop_front();
        m_running = true;
        // After a failure the rest is skipped: its order against the other ranks is lost.
        const bool skip = m_error != nullptr;
        lock.unlock();
        std::exception_ptr error;
        try {
            if (!skip) task();
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        if (error && !m_error) m_error = error;
        m_running = false;
        m_ran.fetch_add(1, std::memory_order_release);
        if (m_tasks.empty()) m_idle.notify_all();
    }
}

} // namespace meshwork
