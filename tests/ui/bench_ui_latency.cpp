// Event-loop latency while sliders are dragged: for every degree slider, press the handle,
// step it across its whole range and, after each step, let the event loop run everything it
// has (re-estimate, panel updates, queued replot, repaint). Prints the worst and median
// frame per slider; the budget is one frame at 60 Hz (16 ms).
//   bench_ui_latency [--platform offscreen]   (QT_QPA_PLATFORM=offscreen works too)
#include "core/spec/Catalog.h"
#include "ui/DegreeControl.h"
#include "ui/EstimatePanel.h"
#include "ui/MemoryChart.h"
#include "ui/MeshView.h"
#include "ui/MainWindow.h"
#include "ui/MeshPanel.h"
#include "ui/OptionsPanel.h"
#include "ui/PlanDocument.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QSlider>

#include <qcustomplot.h>

#include <algorithm>
#include <map>
#include <cstdio>
#include <vector>

using namespace meshwork;
using namespace meshwork::ui;

namespace {

// With --paints: which widgets repaint during the drags (a repaint that is not needed is
// the usual reason a frame runs long).
class PaintCounter : public QObject {
public:
    std::map<QString, int> counts;
    bool eventFilter(QObject* o, QEvent* e) override
    {
        if (e->type() == QEvent::Paint) ++counts[QString::fromLatin1(o->metaObject()->className())];
        if (e->type() == QEvent::Resize && o->isWidgetType())
            ++counts[QStringLiteral("resize ") + QString::fromLatin1(o->metaObject()->className()) + QLatin1Char(' ') + o->objectName()];
        return false;
    }
};

struct Figures { double worst = 0, median = 0, medianEdit = 0; int frames = 0, over = 0; };

double medianOf(std::vector<double> v)
{
    std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
    return v[v.size() / 2];
}

Figures drag(QSlider* slider)
{
    std::vector<double> ms, editMs;
    const int from = slider->minimum(), to = slider->maximum();
    emit slider->sliderPressed();
    slider->setSliderDown(true);
    QElapsedTimer t;
    for (int pass = 0; pass < 2; ++pass) { // there and back
        for (int i = 0; i <= to - from; ++i) {
            const int v = pass == 0 ? from + i : to - i;
            t.start();
            slider->setValue(v);
            editMs.push_back(t.nsecsElapsed() / 1e6); // estimate + panel refreshes (synchronous)
            // The slider's signal re-estimates and refreshes the panels synchronously; the
            // event loop then lays out, runs the queued replot and paints what changed.
            QApplication::processEvents();
            ms.push_back(t.nsecsElapsed() / 1e6);
        }
    }
    slider->setSliderDown(false);
    Figures f;
    f.frames = int(ms.size());
    f.worst = *std::max_element(ms.begin(), ms.end());
    f.median = medianOf(ms);
    f.medianEdit = medianOf(editMs);
    f.over = int(std::count_if(ms.begin(), ms.end(), [](double x) { return x > 16.0; }));
    return f;
}

} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("meshwork-bench"));
    QApplication::setApplicationName(QStringLiteral("meshwork-bench"));
    MainWindow window(MainWindow::Options{false, false});
    window.resize(1480, 920);
    window.show();
    QApplication::processEvents();
    PaintCounter paints;
    if (QApplication::arguments().contains(QStringLiteral("--paints"))) app.installEventFilter(&paints);

    struct Scene { const char* name; const char* model; int nodes; int tp; int pp; };
    const Scene scenes[] = {{"gpt2-124m on 1x8 H100", "gpt2-124m", 1, 1, 1},
                            {"llama2-70b on 64x8 H100", "llama2-70b", 64, 8, 4}};
    double worstOverall = 0;
    int over = 0, frames = 0;
    std::printf("%-26s %-12s %7s %10s %10s %10s %8s\n", "scene", "slider", "frames", "edit ms", "median ms", "worst ms", ">16 ms");
    for (const Scene& sc : scenes) {
        PlanState s = window.document()->state();
        s.model = *findModel(sc.model);
        s.cluster.nodes = sc.nodes;
        s.plan.tp = sc.tp;
        s.plan.pp = sc.pp;
        s.plan.dp = sc.nodes * 8 / (sc.tp * sc.pp);
        s.plan.globalBatch = 1024;
        s.plan.seq = 1024;
        window.document()->reset(s);
        QApplication::processEvents();
        std::vector<std::pair<QString, QSlider*>> sliders;
        for (const char* d : {"dp", "tp", "pp", "vpp", "cp"})
            sliders.emplace_back(QString::fromLatin1(d), window.meshPanel()->degree(QString::fromLatin1(d))->slider());
        sliders.emplace_back(QStringLiteral("micro-batch"), window.optionsPanel()->microBatch()->slider());
        // What one repaint of each live widget costs in this scene (mean of 30).
        auto cost = [](auto&& f) {
            QElapsedTimer t;
            t.start();
            for (int i = 0; i < 30; ++i) f();
            return t.nsecsElapsed() / 1e6 / 30;
        };
        std::printf("%-26s paint ms: mesh %.2f, memory replot %.2f, estimate panel %.2f, whole window %.2f\n", sc.name,
                    cost([&] { window.meshPanel()->view()->repaint(); }),
                    cost([&] { window.memoryChart()->plot()->replot(QCustomPlot::rpImmediateRefresh); }),
                    cost([&] { window.estimatePanel()->repaint(); }), cost([&] { window.repaint(); }));
        for (auto& [name, slider] : sliders) {
            const Figures f = drag(slider);
            std::printf("%-26s %-12s %7d %10.2f %10.2f %10.2f %8d\n", sc.name, qPrintable(name), f.frames, f.medianEdit, f.median,
                        f.worst, f.over);
            std::fflush(stdout);
            worstOverall = std::max(worstOverall, f.worst);
            over += f.over;
            frames += f.frames;
        }
    }
    std::printf("worst frame: %.2f ms over %d frames (%d over 16 ms); platform %s\n", worstOverall, frames, over,
                qPrintable(QApplication::platformName()));
    for (const auto& [cls, n] : paints.counts)
        if (n >= frames / 4) std::printf("  painted %6d times: %s\n", n, qPrintable(cls));
    return 0;
}
