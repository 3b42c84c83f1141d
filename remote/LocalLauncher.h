// N meshwork-train processes on this machine, rendezvousing through c10d's TCPStore on
// loopback. If one rank dies the others are stopped and the run ends `failed` with that
// rank's error: no orphans (children die with us through PR_SET_PDEATHSIG), no hang.
#pragma once

#include "remote/Launcher.h"

#include <QProcess>
#include <QTimer>
#include <memory>
#include <vector>

class QFile;

namespace meshwork {

class LocalLauncher : public Launcher {
    Q_OBJECT
public:
    explicit LocalLauncher(QObject* parent = nullptr);
    ~LocalLauncher() override;

    void start(const RunRequest& request) override;
    void stop() override;
    bool isRunning() const override;

    // The environment rank `rank` gets (torchrun's names), for tests and the SSH launcher.
    static QStringList rankEnvironment(const RunRequest& request, int rank, int port);
    // A TCP port on loopback that nothing listens on right now.
    static int freePort();

private:
    struct Rank {
        std::unique_ptr<QProcess> process;
        std::unique_ptr<QFile> log;
        QByteArray stdoutTail;
        QByteArray stderrTail;
        bool exited = false;
    };

    void onStdout(int rank);
    void onStderr(int rank);
    void onExited(int rank, int exitCode, QProcess::ExitStatus status);
    void terminateAll();
    QString lastError(int rank) const;
    void finish();

    RunRequest m_request;
    std::vector<Rank> m_ranks;
    QTimer m_killTimer;
    int m_running = 0;
    bool m_stopRequested = false;
    bool m_failed = false;
    QString m_error;
};

} // namespace meshwork
