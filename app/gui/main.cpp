// meshwork: the workbench. Parses arguments and wires the main window; no logic here.
//   meshwork [--open PLAN] [--screenshot FILE] [--palette light|dark] [--state plan|search|memory]
//            [--color-axis tp|pp|dp|cp] [--size WxH]
#include "ui/MainWindow.h"
#include "ui/MeshPanel.h"
#include "ui/SearchPanel.h"
#include "ui/Theme.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QComboBox>
#include <QDockWidget>
#include <QEventLoop>
#include <QTimer>

#include <cstdio>

using meshwork::ui::MainWindow;

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("meshwork"));
    QApplication::setApplicationName(QStringLiteral("meshwork"));

    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("Plan and run distributed LLM training."));
    cli.addHelpOption();
    const QCommandLineOption openOpt(QStringLiteral("open"), QStringLiteral("open a .meshwork.json plan"), QStringLiteral("PLAN"));
    const QCommandLineOption shotOpt(QStringLiteral("screenshot"), QStringLiteral("render the window to a PNG and exit"), QStringLiteral("FILE"));
    const QCommandLineOption paletteOpt(QStringLiteral("palette"), QStringLiteral("light or dark (default: the system's)"), QStringLiteral("NAME"));
    const QCommandLineOption stateOpt(QStringLiteral("state"), QStringLiteral("for screenshots: plan, memory or search"), QStringLiteral("STATE"), QStringLiteral("plan"));
    const QCommandLineOption axisOpt(QStringLiteral("color-axis"), QStringLiteral("colour the mesh by tp, pp, dp or cp"), QStringLiteral("AXIS"));
    const QCommandLineOption sizeOpt(QStringLiteral("size"), QStringLiteral("window size for screenshots"), QStringLiteral("WxH"), QStringLiteral("1480x920"));
    cli.addOptions({openOpt, shotOpt, paletteOpt, stateOpt, axisOpt, sizeOpt});
    cli.process(app);

    if (cli.isSet(paletteOpt)) {
        const QString p = cli.value(paletteOpt);
        if (p != QLatin1String("light") && p != QLatin1String("dark")) {
            std::fprintf(stderr, "meshwork: --palette must be light or dark, not \"%s\"\n", qPrintable(p));
            return 2;
        }
        meshwork::ui::applyPalette(app, p == QLatin1String("dark"));
    }

    const bool screenshot = cli.isSet(shotOpt);
    MainWindow window(MainWindow::Options{!screenshot, !screenshot});
    if (cli.isSet(openOpt) && !window.openFile(cli.value(openOpt))) {
        std::fprintf(stderr, "meshwork: %s\n", qPrintable(window.lastError()));
        if (screenshot) return 1;
    }
    if (cli.isSet(axisOpt)) {
        const QStringList axes = {QStringLiteral("tp"), QStringLiteral("pp"), QStringLiteral("dp"), QStringLiteral("cp")};
        const int i = int(axes.indexOf(cli.value(axisOpt)));
        if (i < 0) {
            std::fprintf(stderr, "meshwork: --color-axis must be tp, pp, dp or cp\n");
            return 2;
        }
        window.meshPanel()->colorAxisBox()->setCurrentIndex(i);
    }
    if (!screenshot) {
        window.show();
        return app.exec();
    }

    const QStringList size = cli.value(sizeOpt).split(QLatin1Char('x'));
    window.resize(size.value(0).toInt() > 0 ? size.value(0).toInt() : 1480, size.value(1).toInt() > 0 ? size.value(1).toInt() : 920);
    window.show();
    const QString state = cli.value(stateOpt);
    if (state == QLatin1String("search")) {
        QEventLoop loop;
        QObject::connect(window.searchPanel(), &meshwork::ui::SearchPanel::searchFinished, &loop, &QEventLoop::quit);
        QTimer::singleShot(300000, &loop, &QEventLoop::quit);
        window.showSearch();
        loop.exec();
    } else if (state == QLatin1String("memory")) {
        window.dock(QStringLiteral("memoryDock"))->raise();
    }
    // Let layouts settle and queued replots run before the picture is taken.
    for (int i = 0; i < 5; ++i) {
        QApplication::processEvents();
        QEventLoop wait;
        QTimer::singleShot(20, &wait, &QEventLoop::quit);
        wait.exec();
    }
    const QString file = cli.value(shotOpt);
    if (!window.grab().save(file)) {
        std::fprintf(stderr, "meshwork: could not write the screenshot to %s\n", qPrintable(file));
        return 1;
    }
    std::printf("meshwork: wrote %s\n", qPrintable(file));
    return 0;
}
