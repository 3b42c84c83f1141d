// Prints how long the run charts take to replot 8 runs x 100k points (target: 16 ms, one
// frame at 60 Hz), with min/max decimation per pixel column as RunCharts does it, and without
// it for reference. Each figure is the median of repeated replots after one new point per run
// (what a live update costs), drawn into the offscreen buffer (rpImmediateRefresh). On a
// shared, loaded machine wall time also counts other processes' turns: the process CPU time
// of the same replots is printed beside it.
#include "ui/runs/MetricChart.h"
#include "ui/runs/RunCharts.h"
#include "ui/runs/SeriesMath.h"
#include "ui/Theme.h"

#include <QApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

using namespace meshwork::ui;

namespace {

constexpr int kRuns = 8;
constexpr int kPoints = 100000;
constexpr int kRepeats = 25;

MetricPoints makeSeries(int run, double base, double noise, std::mt19937& rng)
{
    std::normal_distribution<double> n(0, noise);
    MetricPoints p;
    p.step.resize(kPoints);
    p.tokens.resize(kPoints);
    p.t.resize(kPoints);
    p.value.resize(kPoints);
    for (int i = 0; i < kPoints; ++i) {
        p.step[i] = i;
        p.tokens[i] = double(i) * 4096;
        p.t[i] = i * 0.05;
        p.value[i] = base * (1 + 2 * std::exp(-i / 20000.0)) * (1 + 0.02 * run) + n(rng);
    }
    return p;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    std::mt19937 rng(7);

    // 1. The loss chart alone: 8 runs x 100k points.
    RunCharts charts;
    charts.resize(1500, 900);
    charts.setSmoothing(0.6);
    charts.show();
    QApplication::processEvents();
    for (int r = 0; r < kRuns; ++r) {
        const QString id = QStringLiteral("run%1").arg(r);
        charts.setRun(id, id, categoryColor(r), {});
        QHash<QString, MetricPoints> m;
        m.insert(QStringLiteral("loss"), makeSeries(r, 2.0, 0.05, rng));
        charts.setRunMetrics(id, m);
    }
    charts.replotNow();
    MetricChart* loss = charts.chart(QStringLiteral("loss"));
    const int columns = loss->axisRect()->width();

    auto timeCharts = [&](const char* what, const QList<MetricChart*>& which) {
        std::vector<double> ms, cpuMs;
        qsizetype drawn = 0;
        for (int k = 0; k < kRepeats; ++k) {
            for (int r = 0; r < kRuns; ++r) {
                MetricPoints one;
                const double step = kPoints + k;
                one.append(step, step * 4096, step * 0.05, 2.0);
                QHash<QString, MetricPoints> add;
                for (MetricChart* c : which) add.insert(c->spec().metric, one);
                charts.appendPoints(QStringLiteral("run%1").arg(r), add);
            }
            QElapsedTimer t;
            t.start();
            const std::clock_t c0 = std::clock();
            charts.replotNow(); // decimate what changed, then draw every chart now
            ms.push_back(t.nsecsElapsed() / 1e6);
            cpuMs.push_back(double(std::clock() - c0) * 1e3 / CLOCKS_PER_SEC);
        }
        drawn = 0;
        for (MetricChart* c : which) drawn += c->drawnPoints();
        std::printf("%-58s median %6.2f ms  max %6.2f ms  cpu median %6.2f ms  (%lld points drawn)\n", what, median(ms),
                    *std::max_element(ms.begin(), ms.end()), median(cpuMs), static_cast<long long>(drawn));
        return median(ms);
    };

    std::printf("bench_replot: %d runs x %d points, %d repeats, chart plot area %d px wide\n", kRuns, kPoints, kRepeats, columns);
    // replotNow() draws all six charts; only the loss chart has data here.
    const double lossMs = timeCharts("loss chart, 8 x 100k, EMA 0.6 + raw, decimated", {loss});
    {
        // Where the time goes: the data side (EMA, decimation, setData) alone, then drawing alone.
        QList<const RunTrace*> runs;
        for (int r = 0; r < kRuns; ++r) runs << charts.run(QStringLiteral("run%1").arg(r));
        std::vector<double> syncMs, drawMs;
        for (int k = 0; k < kRepeats; ++k) {
            QElapsedTimer t;
            t.start();
            loss->sync(runs, XAxisKind::Step, 0.6, false);
            syncMs.push_back(t.nsecsElapsed() / 1e6);
            t.restart();
            loss->replot(QCustomPlot::rpImmediateRefresh);
            drawMs.push_back(t.nsecsElapsed() / 1e6);
        }
        std::printf("%-58s median %6.2f ms\n", "  of which data (EMA + decimation + setData)", median(syncMs));
        std::printf("%-58s median %6.2f ms\n", "  of which drawing the loss chart", median(drawMs));
        loss->setNotAntialiasedElements(QCP::aeAll);
        drawMs.clear();
        for (int k = 0; k < kRepeats; ++k) {
            QElapsedTimer t;
            t.start();
            loss->replot(QCustomPlot::rpImmediateRefresh);
            drawMs.push_back(t.nsecsElapsed() / 1e6);
        }
        std::printf("%-58s median %6.2f ms\n", "  drawing the loss chart without antialiasing", median(drawMs));
        loss->setNotAntialiasedElements(QCP::aeNone);
    }

    // 2. Every chart full: 8 runs x 100k points in each of the seven metrics.
    for (int r = 0; r < kRuns; ++r) {
        QHash<QString, MetricPoints> m = charts.run(QStringLiteral("run%1").arg(r))->metrics;
        for (const char* name : {"val_loss", "tokens_per_s", "tflops", "mfu", "mem_peak_gib", "grad_norm", "lr"})
            m.insert(QString::fromLatin1(name), makeSeries(r, 1.0, 0.02, rng));
        charts.setRunMetrics(QStringLiteral("run%1").arg(r), m);
    }
    charts.replotNow();
    timeCharts("all six charts, 8 runs x 100k points per metric, decimated", charts.charts());

    // 3. Reference: the loss chart given every point (no decimation; QCustomPlot's own
    //    adaptive sampling still applies when drawing).
    {
        QCustomPlot plot;
        plot.resize(loss->size());
        plot.show();
        for (int r = 0; r < kRuns; ++r) {
            const MetricPoints& p = charts.run(QStringLiteral("run%1").arg(r))->metrics[QStringLiteral("loss")];
            QCPGraph* g = plot.addGraph();
            g->setPen(QPen(categoryColor(r), 1.8));
            g->setData(p.step, emaSmooth(p.value, 0.6), true);
            QCPGraph* raw = plot.addGraph();
            raw->setPen(QPen(categoryColor(r), 1));
            raw->setData(p.step, p.value, true);
        }
        plot.rescaleAxes();
        std::vector<double> ms;
        for (int k = 0; k < kRepeats; ++k) {
            QElapsedTimer t;
            t.start();
            for (int r = 0; r < kRuns; ++r) {
                const double step = kPoints + 100 + k;
                plot.graph(2 * r)->addData(step, 2.0);
                plot.graph(2 * r + 1)->addData(step, 2.0);
            }
            plot.replot(QCustomPlot::rpImmediateRefresh);
            ms.push_back(t.nsecsElapsed() / 1e6);
        }
        std::printf("%-58s median %6.2f ms  max %6.2f ms\n", "reference: loss chart, every point given to QCustomPlot",
                    median(ms), *std::max_element(ms.begin(), ms.end()));
    }
    std::printf("target: loss chart with 8 x 100k points replotted in <= 16 ms: %s (%.2f ms)\n",
                lossMs <= 16 ? "met" : "NOT met", lossMs);
    return 0;
}
