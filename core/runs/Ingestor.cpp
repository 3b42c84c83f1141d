#include "core/runs/Ingestor.h"

#include "core/runs/RunStore.h"

#include <algorithm>
#include <cmath>

namespace meshwork {

Ingestor::Ingestor(RunStore& store, std::string runId, Options options)
    : m_store(store), m_runId(std::move(runId)), m_options(options)
{
}

Ingestor::~Ingestor() = default; // m_batch's Transaction rolls back what was not flushed

bool Ingestor::due() const
{
    return m_batch
        && (m_pendingRows >= m_options.maxRows || std::chrono::steady_clock::now() - m_batchStart >= m_options.maxDelay);
}

bool Ingestor::add(const Event& event)
{
    if (m_runId.empty()) {
        if (event.type == "run_start") m_runId = event.string("run_id");
        if (m_runId.empty()) {
            ++m_droppedWithoutRun; // no run to file it under yet
            return false;
        }
    }
    if (!m_batch) {
        m_batch = std::make_unique<Transaction>(m_store.database());
        m_batchStart = std::chrono::steady_clock::now();
    }
    m_pendingRows += m_store.ingest(m_runId, event);
    if (event.type == "step")
        if (auto step = event.number("step")) m_pendingStep = std::max<int64_t>(m_pendingStep, std::llround(*step));
    return due() ? flush() : false;
}

bool Ingestor::feed(std::string_view bytes)
{
    bool committed = false;
    m_reader.feed(bytes, [&](Event&& e) { committed = add(e) || committed; });
    return flushIfDue() || committed;
}

bool Ingestor::flushIfDue()
{
    return due() ? flush() : false;
}

bool Ingestor::flush()
{
    if (!m_batch) return false;
    m_batch->commit(); // on failure the batch stays open; the destructor rolls it back
    m_batch.reset();
    m_committedRows += m_pendingRows;
    m_pendingRows = 0;
    m_lastCommittedStep = std::max(m_lastCommittedStep, m_pendingStep);
    return true;
}

bool Ingestor::finish()
{
    bool committed = false;
    m_reader.finish([&](Event&& e) { committed = add(e) || committed; });
    return flush() || committed;
}

} // namespace meshwork
