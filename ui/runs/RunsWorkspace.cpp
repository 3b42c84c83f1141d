#include "ui/runs/RunsWorkspace.h"

#include "core/runs/RunStore.h"
#include "remote/LocalLauncher.h"
#include "ui/runs/CompareView.h"
#include "ui/runs/IngestWorker.h"
#include "ui/runs/LiveRunView.h"
#include "ui/runs/RunCharts.h"
#include "ui/runs/RunDialog.h"
#include "ui/runs/RunPrediction.h"
#include "ui/runs/RunsBrowser.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLabel>
#include <QMessageBox>
#include <QPixmap>
#include <QRandomGenerator>
#include <QSplitter>
#include <QSysInfo>
#include <QTabWidget>
#include <QThread>
#include <QVBoxLayout>

namespace meshwork::ui {

RunsWorkspace::RunsWorkspace(const QString& databasePath, QWidget* parent)
    : QWidget(parent), m_dbPath(databasePath.isEmpty() ? QString::fromStdString(defaultRunStorePath()) : databasePath)
{
    setObjectName(QStringLiteral("runsWorkspace"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    try {
        m_store = std::make_unique<RunStore>(m_dbPath.toStdString()); // marks dead `running` runs interrupted
    } catch (const std::exception& e) {
        m_error = QString::fromUtf8(e.what());
        m_storeProblem = new QLabel(tr("The run store cannot be opened: %1").arg(m_error));
        m_storeProblem->setWordWrap(true);
        layout->addWidget(m_storeProblem);
        return;
    }

    m_browser = new RunsBrowser(*m_store);
    m_live = new LiveRunView;
    m_compare = new CompareView(*m_store);
    m_tabs = new QTabWidget;
    m_tabs->setObjectName(QStringLiteral("runsTabs"));
    m_tabs->addTab(m_live, tr("Live run"));
    m_tabs->addTab(m_compare, tr("Compare"));
    auto* split = new QSplitter(Qt::Horizontal);
    split->setObjectName(QStringLiteral("runsSplitter"));
    split->addWidget(m_browser);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 5);
    layout->addWidget(split);

    // The ingest worker: its own thread, its own connection to the same file.
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("meshwork-ingest"));
    m_worker = new IngestWorker(m_dbPath);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &IngestWorker::batchReady, this, &RunsWorkspace::onBatch);
    connect(m_worker, &IngestWorker::runEnded, this, &RunsWorkspace::onRunEnded);
    connect(m_worker, &IngestWorker::storeError, this, [this](const QString& id, const QString& msg) {
        m_live->appendLog(tr("Run store: %1").arg(msg));
    });
    connect(m_worker, &IngestWorker::opened, this, [this](const QString& err) {
        if (!err.isEmpty()) m_live->appendLog(tr("The run store cannot be opened for writing: %1").arg(err));
    });
    m_thread->start();
    QMetaObject::invokeMethod(m_worker, &IngestWorker::open, Qt::QueuedConnection);

    m_launcher = new LocalLauncher(this);
    connect(m_launcher, &Launcher::eventLine, this, [this](const QByteArray& line) {
        const QString id = m_liveId;
        QMetaObject::invokeMethod(m_worker, [w = m_worker, id, line] { w->feedLine(id, line); }, Qt::QueuedConnection);
    });
    connect(m_launcher, &Launcher::logLine, this, [this](int rank, const QByteArray& line) {
        m_live->appendLog(QStringLiteral("rank %1: %2").arg(rank).arg(QString::fromUtf8(line)));
    });
    connect(m_launcher, &Launcher::finished, this, [this](const QString& status, const QString& error) {
        const QString id = m_liveId;
        QMetaObject::invokeMethod(m_worker, [w = m_worker, id, status, error] { w->endRun(id, status, error); },
                                  Qt::QueuedConnection);
    });
    connect(m_live, &LiveRunView::stopRequested, this, &RunsWorkspace::stopRun);
    connect(m_browser, &RunsBrowser::compareRequested, this, &RunsWorkspace::compare);
    connect(m_browser, &RunsBrowser::runActivated, this, &RunsWorkspace::showRun);
    connect(m_browser, &RunsBrowser::importRequested, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Import a run's events"), {}, tr("Events (*.jsonl);;All files (*)"));
        if (!f.isEmpty()) importEvents(f);
    });
}

RunsWorkspace::~RunsWorkspace()
{
    if (m_launcher) {
        m_launcher->disconnect(this);
        delete m_launcher; // kills and reaps the ranks
        m_launcher = nullptr;
    }
    if (m_thread) {
        // Commit what is pending on the worker's own thread, then stop it.
        QMetaObject::invokeMethod(m_worker, &IngestWorker::close, Qt::BlockingQueuedConnection);
        m_thread->quit();
        m_thread->wait();
    }
}

QString RunsWorkspace::runFolder(const QString& runId) const
{
    return QFileInfo(m_dbPath).absoluteDir().filePath(QStringLiteral("runs/") + runId);
}

bool RunsWorkspace::isRunning() const { return m_launcher && m_launcher->isRunning(); }

void RunsWorkspace::startRun(const ModelSpec& model, const Plan& plan) { startWithDialog(model, plan, nullptr); }

void RunsWorkspace::startRunOn(const ModelSpec& model, const Plan& plan, const ClusterSpec& cluster)
{
    startWithDialog(model, plan, &cluster);
}

void RunsWorkspace::startWithDialog(const ModelSpec& model, const Plan& plan, const ClusterSpec* cluster)
{
    if (!m_store) return;
    if (isRunning()) {
        QMessageBox::information(this, tr("Run"), tr("A run is in progress: stop it first, or wait for it to end."));
        return;
    }
    if (!m_gpusProbed) {
        m_gpus = RunDialog::detectGpus();
        m_gpusProbed = true;
    }
    const QString summary = tr("%1, dp %2 · tp %3 · pp %4 · cp %5, micro-batch %6, seq %7 (%8 rank(s))")
                                .arg(QString::fromStdString(model.name)).arg(plan.dp).arg(plan.tp).arg(plan.pp).arg(plan.cp)
                                .arg(plan.microBatch).arg(plan.seq).arg(ranksFor(plan));
    RunDialog dialog(m_lastOptions, m_gpus, ranksFor(plan), summary, this);
    if (dialog.exec() != QDialog::Accepted) return;
    m_lastOptions = dialog.options();
    if (launch(model, plan, m_lastOptions, cluster).isEmpty())
        QMessageBox::warning(this, tr("Run"), m_error);
}

QString RunsWorkspace::launch(const ModelSpec& model, const Plan& plan, const RunOptions& options, const ClusterSpec* cluster)
{
    m_error.clear();
    if (!m_store) { m_error = tr("the run store is not open"); return {}; }
    if (isRunning()) { m_error = tr("a run is in progress"); return {}; }
    if (QString problem = checkRunOptions(options); !problem.isEmpty()) { m_error = problem; return {}; }
    const QString trainer = trainerPath();
    if (!QFileInfo(trainer).isExecutable()) {
        m_error = tr("The trainer %1 is missing or not executable: build it (ninja meshwork-train) or set MESHWORK_TRAINER.").arg(trainer);
        return {};
    }
    if (!m_gpusProbed && options.device == RunOptions::Device::Gpu) {
        m_gpus = RunDialog::detectGpus();
        m_gpusProbed = true;
    }
    const QString id = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss")) + QLatin1Char('-')
                     + QString::number(QRandomGenerator::global()->bounded(0x10000), 16).rightJustified(4, QLatin1Char('0'));
    const QString dir = runFolder(id);
    const PredictedFigures predicted = predictRun(model, plan, options, m_gpus, cluster);

    RunRequest req;
    req.trainerPath = trainer;
    req.trainerArgs = trainerArguments(model, plan, options, QDir(dir).filePath(QStringLiteral("ckpt")));
    req.nproc = ranksFor(plan);
    req.runDir = dir;
    req.runId = id;

    RunStartInfo info;
    info.runId = id;
    info.name = options.name;
    info.model = QString::fromStdString(model.name);
    info.host = QSysInfo::machineHostName();
    info.worldSize = req.nproc;
    Json planJson = plan.toJson();
    planJson.set("model", model.name);
    info.planJson = QByteArray::fromStdString(planJson.dump());
    info.predictedTokensPerS = predicted.tokensPerS;
    info.predictedTflops = predicted.tflops;
    info.predictedMemGib = predicted.memGib;
    QMetaObject::invokeMethod(m_worker, [w = m_worker, info] { w->beginRun(info); }, Qt::QueuedConnection);

    m_liveId = id;
    m_live->beginRun(id, options.name.isEmpty() ? id : options.name, predicted,
                     QStringLiteral("%1 %2 (%3 rank(s))").arg(trainer, req.trainerArgs.join(QLatin1Char(' '))).arg(req.nproc));
    m_tabs->setCurrentWidget(m_live);
    m_launcher->start(req);
    emit runStarted(id);
    return id;
}

void RunsWorkspace::stopRun()
{
    if (m_launcher && m_launcher->isRunning()) {
        m_live->appendLog(tr("Stopping: the trainer checkpoints and ends."));
        m_launcher->stop();
    }
}

void RunsWorkspace::onBatch(const LiveBatch& batch)
{
    const bool first = m_live->events() == 0 && batch.events > 0;
    m_live->applyBatch(batch);
    if (first) m_browser->refresh();
    emit batchApplied(batch);
}

void RunsWorkspace::onRunEnded(const QString& runId, const QString& status)
{
    if (runId == m_live->runId()) m_live->finishRun(status);
    m_browser->refresh();
    emit runFinished(runId, status);
}

void RunsWorkspace::compare(const QStringList& runIds)
{
    if (!m_compare) return;
    if (runIds.size() < 2) {
        m_error = tr("Select at least two runs to compare.");
        return;
    }
    m_compare->setRuns(runIds);
    m_tabs->setCurrentWidget(m_compare);
}

bool RunsWorkspace::showRun(const QString& runId)
{
    if (!m_live || runId.isEmpty() || (isRunning() && runId != m_liveId)) return false;
    if (runId == m_liveId && isRunning()) { m_tabs->setCurrentWidget(m_live); return true; }
    const bool ok = m_live->showStored(*m_store, runId);
    m_tabs->setCurrentWidget(m_live);
    return ok;
}

QString RunsWorkspace::importEvents(const QString& path)
{
    if (!m_store) return {};
    try {
        ImportResult r = m_store->importEventsFile(path.toStdString());
        m_browser->refresh();
        if (r.lines.skipped() > 0)
            m_live->appendLog(tr("Imported %1: %2 events, %3 malformed line(s) skipped")
                                  .arg(path).arg(r.events).arg(r.lines.skipped()));
        return QString::fromStdString(r.runId);
    } catch (const std::exception& e) {
        m_error = QString::fromUtf8(e.what());
        QMessageBox::warning(this, tr("Import events"), m_error);
        return {};
    }
}

bool RunsWorkspace::renderToPng(const QString& path, QSize size)
{
    resize(size);
    if (!isVisible()) {
        setAttribute(Qt::WA_DontShowOnScreen, true);
        show();
    }
    QCoreApplication::processEvents();
    if (m_live) m_live->charts()->replotNow();
    if (m_compare) m_compare->charts()->replotNow();
    QCoreApplication::processEvents();
    QDir().mkpath(QFileInfo(path).absolutePath());
    return grab().save(path);
}

} // namespace meshwork::ui
