// Renders the runs workspace as a user sees it, light and dark, into docs/screenshots:
//   run-live-{light,dark}.png   a real gpt-nano CPU run streaming (meshwork-train from bin/)
//   compare-{light,dark}.png    three finished runs compared
// usage: runs_screenshots [OUTPUT_DIR]   (default: <source>/docs/screenshots)
#include "core/spec/Catalog.h"
#include "core/spec/GpuSpec.h"
#include "ui/Theme.h"
#include "ui/runs/CompareView.h"
#include "ui/runs/LiveRunView.h"
#include "ui/runs/RunCharts.h"
#include "ui/runs/RunsBrowser.h"
#include "ui/runs/RunsWorkspace.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>

using namespace meshwork;
using namespace meshwork::ui;

namespace {

void waitFor(const std::function<bool()>& done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < timeoutMs) QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
}

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QString out = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral(MESHWORK_SOURCE_DIR "/docs/screenshots");
    QDir().mkpath(out);
    if (qEnvironmentVariableIsEmpty("MESHWORK_TRAINER"))
        qputenv("MESHWORK_TRAINER", MESHWORK_BINARY_DIR "/bin/meshwork-train");
    QTemporaryDir dir;
    applyPalette(app, false);

    RunsWorkspace w(dir.filePath(QStringLiteral("runs.sqlite")));
    w.resize(1600, 960);
    w.setAttribute(Qt::WA_DontShowOnScreen, true);
    w.show();

    const ModelSpec nano = *findModel("gpt-nano");
    // The planner's cluster: one H100, to show the reference lines (the label says the run is on the CPU).
    ClusterSpec cluster;
    cluster.gpu = *findGpu("h100-sxm");
    cluster.nodes = 1;
    cluster.gpusPerNode = 1;

    auto runOnce = [&](const QString& name, int64_t seq, double lr, qint64 steps, bool shootLive) {
        Plan plan;
        plan.microBatch = 4;
        plan.seq = seq;
        RunOptions o;
        o.name = name;
        o.steps = steps;
        o.lr = lr;
        o.evalEvery = 10;
        o.checkpointEvery = 30;
        o.threads = 1;
        QSignalSpy done(&w, &RunsWorkspace::runFinished);
        const QString id = w.launch(nano, plan, o, &cluster);
        if (id.isEmpty()) {
            std::fprintf(stderr, "runs_screenshots: %s\n", qPrintable(w.error()));
            return QString();
        }
        if (shootLive) {
            // Mid-run: the live view as it streams.
            waitFor([&] { return w.liveView()->events() > steps * 0.6 || done.count() > 0; }, 300000);
            w.renderToPng(out + QStringLiteral("/run-live-light.png"), QSize(1600, 960));
            applyPalette(app, true);
            QCoreApplication::processEvents();
            w.renderToPng(out + QStringLiteral("/run-live-dark.png"), QSize(1600, 960));
            applyPalette(app, false);
            std::printf("wrote %s/run-live-{light,dark}.png\n", qPrintable(out));
        }
        waitFor([&] { return done.count() > 0; }, 600000);
        return id;
    };
    QStringList ids;
    ids << runOnce(QStringLiteral("nano seq 64, lr 1e-3"), 64, 1e-3, 60, true);
    ids << runOnce(QStringLiteral("nano seq 32, lr 1e-3"), 32, 1e-3, 60, false);
    ids << runOnce(QStringLiteral("nano seq 64, lr 3e-3"), 64, 3e-3, 60, false);
    ids.removeAll(QString());
    if (ids.size() < 2) return 1;
    w.browser()->refresh();
    w.browser()->selectRuns(ids);
    w.compare(ids);
    w.renderToPng(out + QStringLiteral("/compare-light.png"), QSize(1600, 960));
    applyPalette(app, true);
    QCoreApplication::processEvents();
    w.renderToPng(out + QStringLiteral("/compare-dark.png"), QSize(1600, 960));
    std::printf("wrote %s/compare-{light,dark}.png\n", qPrintable(out));
    return 0;
}
