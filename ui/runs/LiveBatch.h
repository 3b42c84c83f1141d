// What the ingest worker hands the GUI after each batch: the new metric points of one run
// and the events a user should read (errors, checkpoints, the end). Passed by value across
// threads through a queued signal.
#pragma once

#include <QHash>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QVector>

namespace meshwork::ui {

// One metric's points, parallel vectors in step order (x may be step, tokens or wall time).
struct MetricPoints {
    QVector<double> step;
    QVector<double> tokens; // cumulative tokens at that step (NaN when the trainer did not say)
    QVector<double> t;      // seconds since the run began
    QVector<double> value;
    qsizetype size() const { return value.size(); }
    void append(double s, double tok, double time, double v)
    {
        step.append(s);
        tokens.append(tok);
        t.append(time);
        value.append(v);
    }
    void append(const MetricPoints& o)
    {
        step += o.step;
        tokens += o.tokens;
        t += o.t;
        value += o.value;
    }
};

struct RunNotice {
    QString type;    // "error", "checkpoint", "log", "run_start", "run_end"
    QString text;    // in plain words
    double t = 0;
};

struct LiveBatch {
    QString runId;
    QHash<QString, MetricPoints> metrics; // by series name: loss, val_loss, tokens_per_s, ...
    QList<RunNotice> notices;
    QString endStatus;                    // set once: completed | failed | cancelled
    qint64 events = 0;                    // events read so far
    qint64 skippedLines = 0;              // malformed lines skipped so far (total)
    QString lastProblem;                  // the reader's latest warning, for a tooltip
    qint64 committedRows = 0;             // rows safely in the database so far
};

// "ran out of memory: ...": an error event's kind and message as a user reads them.
QString describeError(const QString& kind, const QString& message);

} // namespace meshwork::ui

Q_DECLARE_METATYPE(meshwork::ui::LiveBatch)
