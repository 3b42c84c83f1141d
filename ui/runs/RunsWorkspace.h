// The RUNS half of the workbench: the runs table on the left; on the right the live run and
// the comparison. It starts runs of the planner's plan on this machine through LocalLauncher,
// stores their events through an IngestWorker on its own thread, and draws them as they come.
//
// Embedding: `tabs->addTab(new meshwork::ui::RunsWorkspace(QString(), this), tr("Runs"));`
// and connect the planner's Run button to startRun(model, plan) (or with its cluster).
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"
#include "ui/runs/RunOptions.h"
#include "ui/runs/RunTrace.h"

#include <QSize>
#include <QWidget>

#include <memory>

class QLabel;
class QTabWidget;
class QThread;

namespace meshwork {
class RunStore;
class LocalLauncher;
}

namespace meshwork::ui {

class CompareView;
class IngestWorker;
class LiveRunView;
class RunsBrowser;
struct LiveBatch;

class RunsWorkspace : public QWidget {
    Q_OBJECT
public:
    // databasePath: the run store; empty: $XDG_DATA_HOME/meshwork/runs.sqlite. Run folders go
    // beside it, in runs/<run id>/.
    explicit RunsWorkspace(const QString& databasePath = {}, QWidget* parent = nullptr);
    ~RunsWorkspace() override;

    // Starts a run without asking (tests, scripts); returns its id, or empty with error().
    QString launch(const ModelSpec& model, const Plan& plan, const RunOptions& options,
                   const ClusterSpec* cluster = nullptr);
    bool isRunning() const;
    QString error() const { return m_error; }

    void compare(const QStringList& runIds);
    bool showRun(const QString& runId);
    // Reads a trainer's events.jsonl into the store (RunStore::importEventsFile).
    QString importEvents(const QString& path);

    QString databasePath() const { return m_dbPath; }
    RunStore* store() const { return m_store.get(); }
    LiveRunView* liveView() const { return m_live; }
    CompareView* compareView() const { return m_compare; }
    RunsBrowser* browser() const { return m_browser; }
    QTabWidget* tabs() const { return m_tabs; }
    QString runFolder(const QString& runId) const;

    // Renders the workspace as the user sees it into a PNG (tests, docs/screenshots).
    bool renderToPng(const QString& path, QSize size = QSize(1500, 900));

public slots:
    // The planner's Run button: asks for target, data, steps... then starts the run.
    void startRun(const meshwork::ModelSpec& model, const meshwork::Plan& plan);
    void startRunOn(const meshwork::ModelSpec& model, const meshwork::Plan& plan, const meshwork::ClusterSpec& cluster);
    // Asks the trainer to checkpoint and end (the run ends `cancelled`).
    void stopRun();

signals:
    void runStarted(const QString& runId);
    void runFinished(const QString& runId, const QString& status);
    void batchApplied(const meshwork::ui::LiveBatch& batch);

private:
    void onBatch(const LiveBatch& batch);
    void onRunEnded(const QString& runId, const QString& status);
    void startWithDialog(const ModelSpec& model, const Plan& plan, const ClusterSpec* cluster);

    QString m_dbPath;
    QString m_error;
    std::unique_ptr<RunStore> m_store;
    QThread* m_thread = nullptr;
    IngestWorker* m_worker = nullptr;
    LocalLauncher* m_launcher = nullptr;
    QString m_liveId;
    RunOptions m_lastOptions;
    QStringList m_gpus;
    bool m_gpusProbed = false;
    RunsBrowser* m_browser = nullptr;
    LiveRunView* m_live = nullptr;
    CompareView* m_compare = nullptr;
    QTabWidget* m_tabs = nullptr;
    QLabel* m_storeProblem = nullptr;
};

} // namespace meshwork::ui
