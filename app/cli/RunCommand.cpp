#include "app/cli/RunCommand.h"

#include "remote/LocalLauncher.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTimer>

#include <atomic>
#include <csignal>

namespace meshwork {

namespace {

std::atomic<int> g_signal{0};

const char* kUsage =
    "usage: meshwork-cli run --nproc N [--trainer PATH] [--run-dir DIR] [--events FILE] [trainer options]\n"
    "  Starts N ranks of meshwork-train on this machine (Gloo on CPU, one GPU each with --device cuda).\n"
    "  Rank 0's events go to stdout, or to --events FILE. Every other option goes to the trainer\n"
    "  (see meshwork-train --help). Exit code: 0 completed, 1 failed, 2 bad arguments, 130 cancelled.\n";

QString defaultRunDir(const QString& runId)
{
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (base.isEmpty()) base = QDir::homePath() + "/.local/share";
    return base + "/meshwork/runs/" + runId;
}

} // namespace

int runRunCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    RunRequest request;
    QString eventsFile;
    bool nprocGiven = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* name) -> std::optional<QString> {
            if (i + 1 >= args.size()) {
                err << "meshwork-cli run: " << name << " needs a value\n" << kUsage;
                return std::nullopt;
            }
            return QString::fromStdString(args[++i]);
        };
        if (a == "--help" || a == "-h") {
            out << kUsage;
            return 0;
        } else if (a == "--nproc") {
            auto v = value("--nproc");
            if (!v) return 2;
            bool ok = false;
            request.nproc = v->toInt(&ok);
            if (!ok || request.nproc < 1 || request.nproc > 1024) {
                err << "meshwork-cli run: --nproc must be a whole number from 1 to 1024, got \"" << v->toStdString() << "\"\n";
                return 2;
            }
            nprocGiven = true;
        } else if (a == "--trainer") {
            auto v = value("--trainer");
            if (!v) return 2;
            request.trainerPath = *v;
        } else if (a == "--run-dir") {
            auto v = value("--run-dir");
            if (!v) return 2;
            request.runDir = *v;
        } else if (a == "--events") {
            auto v = value("--events");
            if (!v) return 2;
            eventsFile = *v;
        } else if (a == "--run-id") {
            auto v = value("--run-id");
            if (!v) return 2;
            request.runId = *v;
        } else {
            request.trainerArgs << QString::fromStdString(a);
        }
    }
    if (!nprocGiven) {
        err << "meshwork-cli run: --nproc N is required (the number of ranks to start)\n" << kUsage;
        return 2;
    }

    int argc = 1;
    char arg0[] = "meshwork-cli";
    char* argv[] = {arg0, nullptr};
    std::unique_ptr<QCoreApplication> ownApp;
    if (!QCoreApplication::instance()) ownApp = std::make_unique<QCoreApplication>(argc, argv);

    if (request.trainerPath.isEmpty()) {
        // meshwork-train lives beside meshwork-cli (both land in <build>/bin or <prefix>/bin).
        request.trainerPath = QCoreApplication::applicationDirPath() + "/meshwork-train";
        if (ownApp) {
            char exe[4096];
            ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
            if (n > 0) request.trainerPath = QFileInfo(QString::fromLocal8Bit(exe, int(n))).absolutePath() + "/meshwork-train";
        }
    }
    if (!QFileInfo(request.trainerPath).isExecutable()) {
        err << "meshwork-cli run: the trainer " << request.trainerPath.toStdString()
            << " is missing or not executable; build it (ninja meshwork-train) or pass --trainer PATH\n";
        return 2;
    }
    if (request.runId.isEmpty())
        request.runId = QDateTime::currentDateTimeUtc().toString("yyyyMMdd-HHmmss") + "-"
                      + QString::number(QRandomGenerator::global()->bounded(0x10000), 16);
    if (request.runDir.isEmpty()) request.runDir = defaultRunDir(request.runId);

    std::unique_ptr<QFile> events;
    if (!eventsFile.isEmpty()) {
        events = std::make_unique<QFile>(eventsFile);
        if (!events->open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            err << "meshwork-cli run: cannot write --events " << eventsFile.toStdString() << ": "
                << events->errorString().toStdString() << "\n";
            return 2;
        }
    }

    LocalLauncher launcher;
    int exitCode = 1;
    QObject::connect(&launcher, &Launcher::eventLine, [&](const QByteArray& line) {
        if (events) {
            events->write(line + '\n');
            events->flush();
        } else {
            out << line.toStdString() << '\n' << std::flush;
        }
    });
    QObject::connect(&launcher, &Launcher::logLine, [&](int rank, const QByteArray& line) {
        err << "[rank " << rank << "] " << line.toStdString() << '\n';
    });
    QObject::connect(&launcher, &Launcher::finished, [&](const QString& status, const QString& error) {
        if (status == "completed") exitCode = 0;
        else if (status == "cancelled") exitCode = 130;
        else exitCode = 1;
        if (!error.isEmpty()) err << "meshwork-cli run: " << error.toStdString() << '\n';
        err << "meshwork-cli run: " << status.toStdString() << " (run " << request.runId.toStdString() << ", logs in "
            << request.runDir.toStdString() << ")\n";
        QCoreApplication::exit(0);
    });

    // SIGINT/SIGTERM ask the ranks to checkpoint and end; a second one is not needed.
    g_signal = 0;
    auto onSignal = [](int sig) { g_signal = sig; };
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, [&] {
        if (g_signal.exchange(0) && launcher.isRunning()) launcher.stop();
    });
    poll.start(100);

    QTimer::singleShot(0, [&] { launcher.start(request); });
    QCoreApplication::exec();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    return exitCode;
}

} // namespace meshwork
