#include "ui/runs/IngestWorker.h"

#include "core/events/Event.h"
#include "core/events/EventReader.h"
#include "core/runs/Ingestor.h"
#include "core/runs/RunStore.h"

#include <QDateTime>
#include <QTimer>

#include <cmath>
#include <exception>

namespace meshwork::ui {

QString describeError(const QString& kind, const QString& message)
{
    QString what;
    if (kind == QLatin1String("oom")) what = QStringLiteral("The run ran out of memory");
    else if (kind == QLatin1String("nan")) what = QStringLiteral("The loss or the gradients became NaN or infinite");
    else if (kind == QLatin1String("config")) what = QStringLiteral("The trainer refused its configuration");
    else if (kind == QLatin1String("comm")) what = QStringLiteral("The ranks lost contact with each other");
    else if (kind == QLatin1String("io")) what = QStringLiteral("A file could not be read or written");
    else if (kind == QLatin1String("internal")) what = QStringLiteral("The trainer failed");
    else what = QStringLiteral("The run failed");
    return message.isEmpty() ? what + QLatin1Char('.') : what + QStringLiteral(": ") + message;
}

struct IngestWorker::Live {
    QString id;
    std::unique_ptr<Ingestor> ingestor;
    EventReader reader;
    LiveBatch pending;
    bool dirty = false;
    bool ended = false;
    bool sawError = false;
    QString endStatus;   // run_end's, once it came
    double lastT = 0;
    double lastStep = -1;
};

IngestWorker::IngestWorker(const QString& databasePath, QObject* parent) : QObject(parent), m_path(databasePath)
{
    qRegisterMetaType<LiveBatch>();
    qRegisterMetaType<RunStartInfo>();
}

IngestWorker::~IngestWorker() { close(); }

void IngestWorker::open()
{
    try {
        RunStore::Options o;
        o.markInterruptedOnOpen = false; // the GUI's own connection does that, once
        m_store = std::make_unique<RunStore>(m_path.toStdString(), o);
    } catch (const std::exception& e) {
        emit opened(QString::fromUtf8(e.what()));
        return;
    }
    m_timer = new QTimer(this);
    m_timer->setInterval(kTickMs);
    connect(m_timer, &QTimer::timeout, this, &IngestWorker::tick);
    m_timer->start();
    emit opened({});
}

void IngestWorker::beginRun(const RunStartInfo& info)
{
    if (!m_store) return;
    auto live = std::make_unique<Live>();
    live->id = info.runId;
    live->pending.runId = info.runId;
    try {
        RunInfo r;
        r.id = info.runId.toStdString();
        r.name = (info.name.isEmpty() ? info.runId : info.name).toStdString();
        r.status = RunStatus::Running;
        r.created = QDateTime::currentSecsSinceEpoch();
        r.host = info.host.toStdString();
        r.model = info.model.toStdString();
        r.worldSize = info.worldSize;
        if (auto plan = Json::parse(std::string_view(info.planJson.constData(), size_t(info.planJson.size()))))
            r.plan = *plan;
        auto opt = [](double v) { return v > 0 ? std::optional<double>(v) : std::nullopt; };
        r.predicted = {opt(info.predictedTokensPerS), opt(info.predictedTflops), opt(info.predictedMemGib)};
        r.status = RunStatus::Running;
        m_store->createRun(r);
        Ingestor::Options io;
        io.maxDelay = std::chrono::milliseconds(500); // a killed workbench loses at most half a second
        live->ingestor = std::make_unique<Ingestor>(*m_store, r.id, io);
    } catch (const std::exception& e) {
        emit storeError(info.runId, QString::fromUtf8(e.what()));
    }
    m_runs[info.runId] = std::move(live);
}

void IngestWorker::handle(Live& live, const Event& e)
{
    LiveBatch& b = live.pending;
    live.lastT = e.t;
    const QString type = QString::fromStdString(e.type);
    if (e.type == "step") {
        const double step = e.number("step").value_or(live.lastStep + 1);
        live.lastStep = step;
        const double tokens = e.number("tokens").value_or(std::nan(""));
        static const char* kMetrics[] = {"loss", "lr", "grad_norm", "tokens_per_s", "tflops", "mfu", "step_ms", "mem_peak_gib",
                                         "host_wait_ms"};
        for (const char* m : kMetrics)
            if (auto v = e.number(m)) b.metrics[QString::fromLatin1(m)].append(step, tokens, e.t, *v);
    } else if (e.type == "eval") {
        const double step = e.number("step").value_or(live.lastStep);
        if (auto v = e.number("val_loss")) b.metrics[QStringLiteral("val_loss")].append(step, std::nan(""), e.t, *v);
    } else if (e.type == "error") {
        live.sawError = true;
        b.notices.append({type, describeError(QString::fromStdString(e.string("kind")),
                                              QString::fromStdString(e.string("message"))), e.t});
    } else if (e.type == "checkpoint") {
        b.notices.append({type, QStringLiteral("Checkpoint at step %1: %2")
                                    .arg(e.number("step").value_or(live.lastStep))
                                    .arg(QString::fromStdString(e.string("path"))), e.t});
    } else if (e.type == "log") {
        b.notices.append({type, QString::fromStdString(e.string("message")), e.t});
    } else if (e.type == "run_start") {
        b.notices.append({type, QStringLiteral("Started: %1 on %2")
                                    .arg(QString::fromStdString(e.string("run_id")))
                                    .arg(QString::fromStdString(e.string("trainer"))), e.t});
    } else if (e.type == "run_end") {
        live.ended = true;
        live.endStatus = QString::fromStdString(e.string("status", "completed"));
        b.endStatus = QString::fromStdString(e.string("status", "completed"));
        b.notices.append({type, QStringLiteral("Ended %1 after %2 steps")
                                    .arg(b.endStatus).arg(e.number("steps").value_or(live.lastStep)), e.t});
    }
    live.dirty = true;
}

void IngestWorker::feedLine(const QString& runId, const QByteArray& line)
{
    auto it = m_runs.find(runId);
    if (it == m_runs.end()) return;
    Live& live = *it->second;
    QByteArray bytes = line;
    bytes.append('\n'); // the launcher hands whole lines, or a dying trainer's unfinished tail
    const int64_t skippedBefore = live.reader.stats().skipped();
    try {
        live.reader.feed(std::string_view(bytes.constData(), size_t(bytes.size())), [&](Event&& e) {
            if (live.ingestor) live.ingestor->add(e);
            handle(live, e);
        });
    } catch (const std::exception& e) {
        emit storeError(runId, QString::fromUtf8(e.what()));
    }
    if (live.reader.stats().skipped() != skippedBefore) {
        live.dirty = true;
        if (!live.reader.warnings().empty())
            live.pending.lastProblem = QString::fromStdString(live.reader.warnings().back());
    }
}

void IngestWorker::send(Live& live)
{
    if (!live.dirty) return;
    LiveBatch& b = live.pending;
    b.events = live.reader.stats().events;
    b.skippedLines = live.reader.stats().skipped();
    b.committedRows = live.ingestor ? live.ingestor->committedRows() : 0;
    emit batchReady(b);
    LiveBatch fresh;
    fresh.runId = live.id;
    fresh.lastProblem = b.lastProblem;
    b = std::move(fresh);
    live.dirty = false;
}

void IngestWorker::tick()
{
    for (auto& [id, live] : m_runs) {
        try {
            if (live->ingestor) live->ingestor->flushIfDue();
        } catch (const std::exception& e) {
            emit storeError(id, QString::fromUtf8(e.what()));
        }
        send(*live);
    }
}

void IngestWorker::endRun(const QString& runId, const QString& status, const QString& error)
{
    auto it = m_runs.find(runId);
    if (it == m_runs.end()) return;
    Live& live = *it->second;
    QString finalStatus = status;
    try {
        live.reader.finish([&](Event&& e) {
            if (live.ingestor) live.ingestor->add(e);
            handle(live, e);
        });
        if (!live.ended) {
            // The trainer did not say how it ended (killed, crashed): the launcher's verdict
            // stands, and its reason becomes the run's error event.
            auto synth = [&](const char* type, Json fields) {
                Event e;
                e.type = type;
                e.t = live.lastT;
                fields.set("v", kReadableEventProtocolVersion).set("event", type).set("t", live.lastT);
                e.fields = std::move(fields);
                if (live.ingestor) live.ingestor->add(e);
                handle(live, e);
            };
            if (finalStatus == QLatin1String("completed")) finalStatus = QStringLiteral("failed"); // exit 0 without run_end
            if (!live.sawError && finalStatus == QLatin1String("failed"))
                synth("error", Json::object().set("kind", "internal").set("message",
                    (error.isEmpty() ? QStringLiteral("the trainer stopped without saying why") : error).toStdString()));
            synth("run_end", Json::object().set("status", finalStatus.toStdString())
                                 .set("steps", live.lastStep < 0 ? 0.0 : live.lastStep));
        } else {
            finalStatus = live.endStatus;
        }
        if (live.ingestor) live.ingestor->finish();
    } catch (const std::exception& e) {
        emit storeError(runId, QString::fromUtf8(e.what()));
    }
    live.dirty = true;
    send(live);
    m_runs.erase(it);
    emit runEnded(runId, finalStatus);
}

void IngestWorker::close()
{
    if (m_timer) m_timer->stop();
    for (auto& [id, live] : m_runs) {
        try {
            if (live->ingestor) live->ingestor->finish();
        } catch (const std::exception&) {
            // Closing: the batch rolls back with the Ingestor; the run stays `running` and the
            // next start marks it interrupted.
        }
    }
    m_runs.clear();
    m_store.reset();
}

} // namespace meshwork::ui
