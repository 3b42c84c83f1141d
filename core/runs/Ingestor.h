// Streams one run's events into the store in batches: one transaction per batch, committed
// when it holds maxRows rows or is maxDelay old, so a kill -9 loses at most the last second
// while a fast trainer still costs one COMMIT (one WAL write) per thousands of points.
//
// The batch is committed only by add()/feed() (when due), flushIfDue(), flush() or finish().
// Call flushIfDue() from a timer so that a quiet stream is committed too. The destructor
// rolls back an unflushed batch: it never commits (CONVENTIONS.md, SQLite).
#pragma once

#include "core/events/EventReader.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace meshwork {

class RunStore;
class Transaction;

class Ingestor {
public:
    struct Options {
        int64_t maxRows = 20000;
        std::chrono::milliseconds maxDelay{1000};
    };

    // runId: the run this stream belongs to, if the caller knows it (a launcher does);
    // otherwise it is taken from run_start, and events before run_start are dropped and counted.
    Ingestor(RunStore& store, std::string runId, Options options);
    Ingestor(RunStore& store, std::string runId = {}) : Ingestor(store, std::move(runId), Options{}) {}
    ~Ingestor();
    Ingestor(const Ingestor&) = delete;
    Ingestor& operator=(const Ingestor&) = delete;

    // Each returns true when the call committed a batch.
    bool add(const Event& event);
    bool feed(std::string_view bytes); // raw JSON lines, e.g. a trainer's stdout as it comes
    bool flushIfDue();
    bool flush();
    // End of the stream: the reader's unfinished tail, then a final commit.
    bool finish();

    const std::string& runId() const { return m_runId; }
    int64_t pendingRows() const { return m_pendingRows; }
    int64_t committedRows() const { return m_committedRows; }
    // The highest step in committed batches (-1 before any).
    int64_t lastCommittedStep() const { return m_lastCommittedStep; }
    int64_t droppedWithoutRun() const { return m_droppedWithoutRun; }
    const EventReader& reader() const { return m_reader; }

private:
    bool due() const;

    RunStore& m_store;
    std::string m_runId;
    Options m_options;
    EventReader m_reader;
    std::unique_ptr<Transaction> m_batch;
    std::chrono::steady_clock::time_point m_batchStart;
    int64_t m_pendingRows = 0;
    int64_t m_committedRows = 0;
    int64_t m_pendingStep = -1;
    int64_t m_lastCommittedStep = -1;
    int64_t m_droppedWithoutRun = 0;
};

} // namespace meshwork
