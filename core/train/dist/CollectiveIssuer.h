// A host thread of its own that issues collectives, in the order they were posted. c10d spends
// about 150 us of host time on each collective (2 x H200, `meshwork-train --profile`); issued
// from the backward's thread (GradientSync's hooks), that time is taken from the kernel launches
// of a model whose GPUs wait for its host (GPT-2 124M: 16 reductions a step, 2.4 ms of a 22 ms
// step). Posted here, they are issued beside the backward instead (--comm-thread on).
//
// A collective issued here waits on the GPU for the work the posting thread had queued when
// c10d recorded its event, which is later than at posting: correct, as the posted gradients are
// final by then. Every rank must issue a group's collectives in the same order: whoever issues
// another collective on the same group first calls drain().
#pragma once

#include <c10/core/Device.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace meshwork {

class CollectiveIssuer {
public:
    // Tasks run with `device` current and gradients off.
    explicit CollectiveIssuer(c10::Device device);
    ~CollectiveIssuer();
    CollectiveIssuer(const CollectiveIssuer&) = delete;
    CollectiveIssuer& operator=(const CollectiveIssuer&) = delete;

    // Returns the task's number: 1 for the first posted, then 2, ...
    uint64_t post(std::function<void()> task);
    // Whether task `number` has run (or was skipped after a failure), without waiting.
    bool ran(uint64_t number) const { return m_ran.load(std::memory_order_acquire) >= number; }
    // Waits until every posted task has run; rethrows the first task's error, if one failed.
    void drain();

private:
    void run();

    c10::Device m_device;
    std::mutex m_mutex;
    std::condition_variable m_wake, m_idle;
    std::deque<std::function<void()>> m_tasks;
    bool m_running = false, m_stop = false;
    uint64_t m_posted = 0;
    std::atomic<uint64_t> m_ran{0};
    std::exception_ptr m_error;
    std::thread m_thread;
};

} // namespace meshwork
