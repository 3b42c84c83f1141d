// The live run: its charts, a status line (steps, events, skipped lines, committed rows), an
// error banner that says in plain words why a run failed, a Stop button, and the run's
// notices (checkpoints, logs, the trainer's stderr). It also shows a stored run, read back.
#pragma once

#include "ui/runs/LiveBatch.h"
#include "ui/runs/RunTrace.h"

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace meshwork {
class RunStore;
}

namespace meshwork::ui {

class RunCharts;

class LiveRunView : public QWidget {
    Q_OBJECT
public:
    explicit LiveRunView(QWidget* parent = nullptr);

    void beginRun(const QString& runId, const QString& label, const PredictedFigures& predicted, const QString& command);
    void applyBatch(const LiveBatch& batch);
    void finishRun(const QString& status);
    void appendLog(const QString& line);
    // Shows a finished run from the store (no Stop).
    bool showStored(RunStore& store, const QString& runId);

    RunCharts* charts() const { return m_charts; }
    QString runId() const { return m_runId; }
    QString statusText() const;
    QString errorText() const;
    qint64 skippedLines() const { return m_skipped; }
    qint64 events() const { return m_events; }
    QStringList notices() const { return m_notices; }
    QPushButton* stopButton() const { return m_stop; }

signals:
    void stopRequested();

private:
    void updateStatus();

    RunCharts* m_charts;
    QLabel* m_title;
    QLabel* m_status;
    QLabel* m_banner;
    QPushButton* m_stop;
    QPlainTextEdit* m_log;
    QString m_runId;
    QString m_state;          // running | completed | failed | cancelled | stored status
    qint64 m_events = 0;
    qint64 m_skipped = 0;
    qint64 m_committed = 0;
    double m_lastStep = -1;
    double m_lastLoss = NAN;
    QString m_lastProblem;
    QString m_error;
    QStringList m_notices;
};

} // namespace meshwork::ui
