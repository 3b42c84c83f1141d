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
#include <QMetaEnum>
#include <QScrollArea>
#include <QSlider>

#include <qcustomplot.h>

#include <algorithm>
#include <map>
#include <cstdio>
#include <ctime>
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

// With --events: where a frame's time goes, as the time spent handling each kind of event
// the event loop delivers (outermost deliveries only, so nothing is counted twice): layout
// requests, update requests (painting), timers (queued replots), ...
QString whereIs(QObject* o)
{
    // Unnamed widgets and scroll area viewports: say which named panel holds them.
    if (!o->objectName().isEmpty() && !o->objectName().startsWith(QLatin1String("qt_"))) return {};
    if (auto* area = qobject_cast<QScrollArea*>(o->parent()); area && area->widget())
        return QStringLiteral(" of ") + area->widget()->objectName();
    for (QObject* p = o->parent(); p; p = p->parent())
        if (!p->objectName().isEmpty() && !p->objectName().startsWith(QLatin1String("qt_")))
            return QStringLiteral(" in ") + p->objectName();
    return {};
}

class TimingApplication : public QApplication {
public:
    using QApplication::QApplication;
    bool timing = false;
    std::map<QString, std::pair<double, int>> spent; // "event type on class" -> ms, count
    std::vector<std::pair<double, QString>> frame;    // this frame's events over 0.5 ms
    bool notify(QObject* o, QEvent* e) override
    {
        if (!timing || m_depth > 0) return QApplication::notify(o, e);
        ++m_depth;
        QElapsedTimer t;
        t.start();
        const QString key = QString::number(int(e->type())).rightJustified(3) + QLatin1Char(' ') +
                            QString::fromLatin1(QMetaEnum::fromType<QEvent::Type>().valueToKey(e->type())) +
                            QStringLiteral(" on ") + QString::fromLatin1(o->metaObject()->className()) + QLatin1Char(' ') +
                            o->objectName() + whereIs(o);
        const bool r = QApplication::notify(o, e);
        const double took = t.nsecsElapsed() / 1e6;
        auto& [ms, n] = spent[key];
        ms += took;
        ++n;
        if (took > 0.5) frame.emplace_back(took, key);
        --m_depth;
        return r;
    }

private:
    int m_depth = 0;
};

struct Figures {
    double worst = 0, median = 0, medianEdit = 0, medianCpu = 0, worstCpu = 0;
    int frames = 0, over = 0;
    QString worstFrame; // with --events: what the worst frame spent its time on
};

// This thread's CPU time: what a frame costs, whatever else the machine runs (the wall-clock
// figures are what the user sees, and they grow when other processes take the cores).
double threadCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

double medianOf(std::vector<double> v)
{
    std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
    return v[v.size() / 2];
}

Figures drag(TimingApplication& app, QSlider* slider)
{
    std::vector<double> ms, editMs, cpuMs;
    QString worstFrame;
    const int from = slider->minimum(), to = slider->maximum();
    emit slider->sliderPressed();
    slider->setSliderDown(true);
    QElapsedTimer t;
    for (int pass = 0; pass < 2; ++pass) { // there and back
        for (int i = 0; i <= to - from; ++i) {
            const int v = pass == 0 ? from + i : to - i;
            app.frame.clear();
            t.start();
            const double cpu0 = threadCpuMs();
            slider->setValue(v);
            editMs.push_back(t.nsecsElapsed() / 1e6); // estimate + panel refreshes (synchronous)
            // The slider's signal re-estimates and refreshes the panels synchronously; the
            // event loop then lays out, runs the queued replot and paints what changed.
            QApplication::processEvents();
            ms.push_back(t.nsecsElapsed() / 1e6);
            cpuMs.push_back(threadCpuMs() - cpu0);
            if (app.timing && ms.back() >= *std::max_element(ms.begin(), ms.end())) {
                worstFrame = QStringLiteral("value %1: edit %2 ms").arg(v).arg(editMs.back(), 0, 'f', 2);
                for (const auto& [took, key] : app.frame) worstFrame += QStringLiteral(", %1 ms %2").arg(took, 0, 'f', 2).arg(key.simplified());
            }
        }
    }
    slider->setSliderDown(false);
    Figures f;
    f.frames = int(ms.size());
    f.worst = *std::max_element(ms.begin(), ms.end());
    f.median = medianOf(ms);
    f.medianEdit = medianOf(editMs);
    f.medianCpu = medianOf(cpuMs);
    f.worstCpu = *std::max_element(cpuMs.begin(), cpuMs.end());
    f.worstFrame = worstFrame;
    f.over = int(std::count_if(ms.begin(), ms.end(), [](double x) { return x > 16.0; }));
    return f;
}

} // namespace

int main(int argc, char** argv)
{
    TimingApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("meshwork-bench"));
    QApplication::setApplicationName(QStringLiteral("meshwork-bench"));
    MainWindow window(MainWindow::Options{false, false});
    window.resize(1480, 920);
    window.show();
    QApplication::processEvents();
    PaintCounter paints;
    if (QApplication::arguments().contains(QStringLiteral("--paints"))) app.installEventFilter(&paints);
    const bool timeEvents = QApplication::arguments().contains(QStringLiteral("--events"));

    struct Scene { const char* name; const char* model; int nodes; int tp; int pp; };
    const Scene scenes[] = {{"gpt2-124m on 1x8 H100", "gpt2-124m", 1, 1, 1},
                            {"llama2-70b on 64x8 H100", "llama2-70b", 64, 8, 4}};
    double worstOverall = 0, worstCpuOverall = 0;
    int over = 0, frames = 0;
    std::printf("%-26s %-12s %7s %8s %10s %9s %8s %8s %8s\n", "scene", "slider", "frames", "edit ms", "median ms", "worst ms",
                ">16 ms", "cpu med", "cpu max");
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
            app.timing = timeEvents; // the drags only, not the per-widget costs above
            const Figures f = drag(app, slider);
            app.timing = false;
            std::printf("%-26s %-12s %7d %8.2f %10.2f %9.2f %8d %8.2f %8.2f\n", sc.name, qPrintable(name), f.frames, f.medianEdit,
                        f.median, f.worst, f.over, f.medianCpu, f.worstCpu);
            if (!f.worstFrame.isEmpty()) std::printf("    worst frame, %s\n", qPrintable(f.worstFrame));
            std::fflush(stdout);
            worstOverall = std::max(worstOverall, f.worst);
            worstCpuOverall = std::max(worstCpuOverall, f.worstCpu);
            over += f.over;
            frames += f.frames;
        }
    }
    std::printf("worst frame: %.2f ms over %d frames (%d over 16 ms), %.2f ms of CPU at most; platform %s\n", worstOverall,
                frames, over, worstCpuOverall, qPrintable(QApplication::platformName()));
    for (const auto& [key, v] : app.spent)
        if (v.first > 1.0) std::printf("  %9.1f ms in %6d events: %s\n", v.first, v.second, qPrintable(key));
    for (const auto& [cls, n] : paints.counts)
        if (n >= frames / 4) std::printf("  painted %6d times: %s\n", n, qPrintable(cls));
    return 0;
}
