// Starts the ranks of a run and reports on them; local processes and SSH hosts share it.
#pragma once

#include "remote/RunRequest.h"

#include <QObject>

namespace meshwork {

class Launcher : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    ~Launcher() override = default;

    // Starts every rank. Failures to start are reported through finished().
    virtual void start(const RunRequest& request) = 0;
    // Asks every rank to checkpoint and end (SIGTERM); the run ends `cancelled`.
    virtual void stop() = 0;
    virtual bool isRunning() const = 0;

signals:
    // One line of rank 0's event stream (JSON, without the newline), in order.
    void eventLine(const QByteArray& line);
    // A line a rank wrote to its standard error.
    void logLine(int rank, const QByteArray& line);
    void rankExited(int rank, int exitCode, bool crashed);
    // status: completed | failed | cancelled. error: the failing rank's error, in plain words.
    void finished(const QString& status, const QString& error);
};

} // namespace meshwork
