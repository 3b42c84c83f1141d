// Stores the events of live runs: a QObject that lives on its own QThread with its own
// RunStore connection (one connection per thread, CONVENTIONS.md), writing each run's events
// through an Ingestor in batched transactions and handing the GUI the new points by signal.
// The GUI thread never waits on SQLite or on the trainer.
#pragma once

#include "ui/runs/LiveBatch.h"

#include <QObject>
#include <QString>

#include <map>
#include <memory>

class QTimer;

namespace meshwork {
class RunStore;
struct Event;
}

namespace meshwork::ui {

// The run record the GUI creates when it starts a run (queued to the worker as one value).
struct RunStartInfo {
    QString runId;
    QString name;
    QString model;
    QString host;
    int worldSize = 1;
    QByteArray planJson;  // Plan::toJson() plus the run options, as JSON text
    double predictedTokensPerS = 0; // 0: no prediction
    double predictedTflops = 0;
    double predictedMemGib = 0;
};

class IngestWorker : public QObject {
    Q_OBJECT
public:
    explicit IngestWorker(const QString& databasePath, QObject* parent = nullptr);
    ~IngestWorker() override;

    // How often pending points go to the GUI and due batches are committed.
    static constexpr int kTickMs = 100;

public slots:
    void open();                                    // on the worker thread, first
    void beginRun(const meshwork::ui::RunStartInfo& info);
    void feedLine(const QString& runId, const QByteArray& line);
    // The launcher's verdict. A run that did not end itself (no run_end: killed, crashed) is
    // ended here with `status` and `error` recorded as its error event.
    void endRun(const QString& runId, const QString& status, const QString& error);
    void tick();                                    // commit what is due, send points
    void close();                                   // commit everything, close the store

signals:
    void opened(const QString& error);              // empty error: ready
    void batchReady(const meshwork::ui::LiveBatch& batch);
    void runEnded(const QString& runId, const QString& status);
    void storeError(const QString& runId, const QString& message);

private:
    struct Live;
    void handle(Live& live, const meshwork::Event& e);
    void send(Live& live);

    QString m_path;
    std::unique_ptr<RunStore> m_store;
    std::map<QString, std::unique_ptr<Live>> m_runs;
    QTimer* m_timer = nullptr;
};

} // namespace meshwork::ui

Q_DECLARE_METATYPE(meshwork::ui::RunStartInfo)
