#include "remote/LocalLauncher.h"

#include "core/json/Json.h"

#include <QDir>
#include <QFile>
#include <QProcessEnvironment>

#include <csignal>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace meshwork {

namespace {

QString eventsPath(const RunRequest& r, int rank)
{
    return QDir(r.runDir).filePath(rank == 0 ? QStringLiteral("events.jsonl")
                                             : QStringLiteral("events.rank%1.jsonl").arg(rank));
}

// Splits complete lines off the front of buffer; keeps an unfinished tail.
QList<QByteArray> takeLines(QByteArray& buffer)
{
    QList<QByteArray> lines;
    qsizetype start = 0;
    for (qsizetype nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n', start)) {
        lines.append(buffer.mid(start, nl - start));
        start = nl + 1;
    }
    buffer.remove(0, start);
    return lines;
}

} // namespace

LocalLauncher::LocalLauncher(QObject* parent) : Launcher(parent)
{
    m_killTimer.setSingleShot(true);
    connect(&m_killTimer, &QTimer::timeout, this, [this] {
        for (auto& r : m_ranks)
            if (r.process && r.process->state() != QProcess::NotRunning) r.process->kill();
    });
}

LocalLauncher::~LocalLauncher()
{
    for (auto& r : m_ranks) {
        if (r.process && r.process->state() != QProcess::NotRunning) {
            r.process->disconnect(this);
            r.process->kill();
            r.process->waitForFinished(2000);
        }
    }
}

int LocalLauncher::freePort()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 29500;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int port = 29500;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
        && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

QStringList LocalLauncher::rankEnvironment(const RunRequest& r, int rank, int port)
{
    return {QStringLiteral("RANK=%1").arg(rank), QStringLiteral("LOCAL_RANK=%1").arg(rank),
            QStringLiteral("WORLD_SIZE=%1").arg(r.nproc), QStringLiteral("LOCAL_WORLD_SIZE=%1").arg(r.nproc),
            QStringLiteral("MASTER_ADDR=%1").arg(r.masterAddr), QStringLiteral("MASTER_PORT=%1").arg(port)};
}

void LocalLauncher::start(const RunRequest& request)
{
    m_request = request;
    m_ranks.clear();
    m_stopRequested = m_failed = false;
    m_error.clear();
    m_running = 0;
    if (request.nproc < 1) {
        emit finished(QStringLiteral("failed"), QStringLiteral("--nproc must be at least 1"));
        return;
    }
    if (!QDir().mkpath(request.runDir)) {
        emit finished(QStringLiteral("failed"), QStringLiteral("cannot create the run folder %1").arg(request.runDir));
        return;
    }
    const int port = request.masterPort > 0 ? request.masterPort : freePort();
    m_ranks.resize(request.nproc);
    for (int rank = 0; rank < request.nproc; ++rank) {
        Rank& r = m_ranks[rank];
        r.log = std::make_unique<QFile>(QDir(request.runDir).filePath(QStringLiteral("rank%1.log").arg(rank)));
        r.log->open(QIODevice::WriteOnly | QIODevice::Truncate);
        r.process = std::make_unique<QProcess>();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const QString& kv : rankEnvironment(request, rank, port))
            env.insert(kv.section('=', 0, 0), kv.section('=', 1));
        // Several ranks on a few CPU cores: one intra-op thread each, or they thrash.
        if (!env.contains(QStringLiteral("OMP_NUM_THREADS")) && request.nproc > 1)
            env.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
        r.process->setProcessEnvironment(env);
        // Children die with the launcher, so a killed workbench leaves no orphan ranks.
        r.process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
        QStringList args = request.trainerArgs;
        args << QStringLiteral("--events") << eventsPath(request, rank);
        if (!request.runId.isEmpty()) args << QStringLiteral("--run-id") << request.runId;
        connect(r.process.get(), &QProcess::readyReadStandardOutput, this, [this, rank] { onStdout(rank); });
        connect(r.process.get(), &QProcess::readyReadStandardError, this, [this, rank] { onStderr(rank); });
        connect(r.process.get(), &QProcess::finished, this,
                [this, rank](int code, QProcess::ExitStatus st) { onExited(rank, code, st); });
        connect(r.process.get(), &QProcess::errorOccurred, this, [this, rank](QProcess::ProcessError e) {
            if (e == QProcess::FailedToStart) {
                m_failed = true;
                if (m_error.isEmpty())
                    m_error = QStringLiteral("rank %1: cannot start %2: %3")
                                  .arg(rank).arg(m_request.trainerPath, m_ranks[rank].process->errorString());
                onExited(rank, -1, QProcess::CrashExit);
            }
        });
        ++m_running;
        r.process->start(request.trainerPath, args);
    }
}

bool LocalLauncher::isRunning() const { return m_running > 0; }

void LocalLauncher::stop()
{
    m_stopRequested = true;
    terminateAll();
}

void LocalLauncher::terminateAll()
{
    for (auto& r : m_ranks)
        if (r.process && r.process->state() != QProcess::NotRunning) r.process->terminate();
    m_killTimer.start(m_request.graceSeconds * 1000);
}

void LocalLauncher::onStdout(int rank)
{
    Rank& r = m_ranks[rank];
    r.stdoutTail += r.process->readAllStandardOutput();
    for (const QByteArray& line : takeLines(r.stdoutTail)) {
        if (rank == 0) emit eventLine(line);
        else if (r.log) r.log->write(line + '\n');
    }
}

void LocalLauncher::onStderr(int rank)
{
    Rank& r = m_ranks[rank];
    r.stderrTail += r.process->readAllStandardError();
    for (const QByteArray& line : takeLines(r.stderrTail)) {
        if (r.log) { r.log->write(line + '\n'); r.log->flush(); }
        emit logLine(rank, line);
    }
}

QString LocalLauncher::lastError(int rank) const
{
    QFile f(eventsPath(m_request, rank));
    QString message;
    if (f.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : f.readAll().split('\n')) {
            auto j = Json::parse(std::string_view(line.constData(), size_t(line.size())));
            if (!j || !j->isObject()) continue;
            const Json* type = j->find("event");
            const Json* msg = j->find("message");
            if (type && type->isString() && type->asString() == "error" && msg && msg->isString())
                message = QString::fromStdString(msg->asString());
        }
    }
    if (message.isEmpty() && m_ranks[rank].log) {
        // No error event: the last lines it wrote to stderr say what happened.
        QFile log(m_ranks[rank].log->fileName());
        if (log.open(QIODevice::ReadOnly)) {
            QList<QByteArray> lines = log.readAll().trimmed().split('\n');
            message = QString::fromUtf8(lines.mid(std::max<qsizetype>(0, lines.size() - 3)).join(" / "));
        }
    }
    return message;
}

void LocalLauncher::onExited(int rank, int exitCode, QProcess::ExitStatus status)
{
    Rank& r = m_ranks[rank];
    if (r.exited) return;
    r.exited = true;
    --m_running;
    onStdout(rank);
    onStderr(rank);
    if (!r.stdoutTail.isEmpty() && rank == 0) emit eventLine(r.stdoutTail); // a last unterminated line
    if (r.log) r.log->flush();
    const bool crashed = status == QProcess::CrashExit;
    emit rankExited(rank, exitCode, crashed);
    if ((crashed || exitCode != 0) && !m_stopRequested && !m_failed) {
        m_failed = true;
        QString why = lastError(rank);
        m_error = crashed ? QStringLiteral("rank %1 was killed").arg(rank)
                          : QStringLiteral("rank %1 exited with code %2").arg(rank).arg(exitCode);
        if (!why.isEmpty()) m_error += QStringLiteral(": ") + why;
        terminateAll();
    }
    if (m_running == 0) finish();
}

void LocalLauncher::finish()
{
    m_killTimer.stop();
    QString status = m_failed ? QStringLiteral("failed")
                     : m_stopRequested ? QStringLiteral("cancelled") : QStringLiteral("completed");
    emit finished(status, m_error);
}

} // namespace meshwork
