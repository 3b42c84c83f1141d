#include "ui/SearchWorker.h"

#include <QElapsedTimer>
#include <QThread>

namespace meshwork::ui {

SearchWorker::SearchWorker(std::shared_ptr<std::atomic<bool>> cancel, QObject* parent)
    : QObject(parent), m_cancel(std::move(cancel))
{
}

void SearchWorker::run(const SearchRequest& request)
{
    QElapsedTimer clock;
    clock.start();
    SearchOptions options = request.options;
    int lastPercent = -1;
    options.progress = [this, &lastPercent](double f) {
        // Signal at most once per percent: the GUI thread needs no more.
        const int percent = int(f * 100);
        if (percent != lastPercent) {
            lastPercent = percent;
            emit progress(f);
        }
        return !m_cancel->load() && !QThread::currentThread()->isInterruptionRequested();
    };
    SearchReply reply;
    try {
        reply.outcome = searchPlans(request.model, request.cluster, options);
    } catch (const std::exception& e) {
        reply.error = QString::fromStdString(e.what());
    }
    if (m_cancel->load()) reply.outcome.cancelled = true;
    reply.seconds = clock.elapsed() / 1000.0;
    emit finished(reply);
}

} // namespace meshwork::ui
