// The runs view without processes: smoothing and decimation arithmetic, the trainer's
// command line, the charts receiving points and drawing the prediction error, the runs
// table editing a real SQLite store, and the comparison's config diff.
#include "core/runs/RunStore.h"
#include "core/spec/Catalog.h"
#include "ui/runs/CompareView.h"
#include "ui/runs/MetricChart.h"
#include "ui/runs/RunCharts.h"
#include "ui/runs/RunDialog.h"
#include "ui/runs/RunOptions.h"
#include "ui/runs/RunPrediction.h"
#include "ui/runs/RunsBrowser.h"
#include "ui/runs/RunsTableModel.h"
#include "ui/runs/SeriesMath.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>

using namespace meshwork;
using namespace meshwork::ui;

class TestRunsCharts : public QObject {
    Q_OBJECT
private slots:
    void emaSmoothing_data();
    void emaSmoothing();
    void decimationKeepsExtremes_data();
    void decimationKeepsExtremes();
    void decimationByBlocksIsExact_data();
    void decimationByBlocksIsExact();
    void trainerArguments();
    void runDialogOptions();
    void gpuMatching();
    void chartsReceiveAndDecimate();
    void hostWaitAxisOnlyWithData();
    void liveAppendsDrawWhatARebuildDraws();
    void predictionError();
    void runsTableEdits();
    void compareDiffShowsExactlyTheDifferences();
};

void TestRunsCharts::emaSmoothing_data()
{
    QTest::addColumn<double>("weight");
    QTest::newRow("off") << 0.0;
    QTest::newRow("light") << 0.3;
    QTest::newRow("heavy") << 0.95;
}

void TestRunsCharts::emaSmoothing()
{
    QFETCH(double, weight);
    // A constant stays constant at every weight (the debiasing keeps the start from zero).
    const QVector<double> flat(50, 3.25);
    for (double v : emaSmooth(flat, weight)) QCOMPARE(v, 3.25);
    // A step from 0 to 1: the smoothed value never overshoots and lags by the weight.
    QVector<double> stepUp(40, 0.0);
    for (int i = 20; i < 40; ++i) stepUp[i] = 1.0;
    const QVector<double> s = emaSmooth(stepUp, weight);
    QCOMPARE(s.size(), stepUp.size());
    QCOMPARE(s[0], 0.0);
    for (int i = 20; i < 40; ++i) {
        QVERIFY(s[i] <= 1.0 + 1e-12);
        // After k points of 1 the average is 1 - a^k (up to the debias term, which is tiny here).
        const double expected = 1 - std::pow(weight, i - 19);
        QVERIFY2(std::fabs(s[i] - expected) < 1e-6 + std::pow(weight, 20), qPrintable(QString::number(i)));
    }
    // NaN passes through and does not poison what follows.
    QVector<double> holes{1, NAN, 1, 1};
    const QVector<double> h = emaSmooth(holes, weight);
    QVERIFY(std::isnan(h[1]));
    QCOMPARE(h[3], 1.0);
}

void TestRunsCharts::decimationKeepsExtremes_data()
{
    QTest::addColumn<int>("points");
    QTest::addColumn<int>("columns");
    QTest::newRow("short series copied") << 500 << 400;
    QTest::newRow("100k to 800 columns") << 100000 << 800;
    QTest::newRow("1M to 300 columns") << 1000000 << 300;
}

void TestRunsCharts::decimationKeepsExtremes()
{
    QFETCH(int, points);
    QFETCH(int, columns);
    std::mt19937 rng(42);
    std::normal_distribution<double> noise(0, 1);
    QVector<double> x(points), y(points);
    for (int i = 0; i < points; ++i) { x[i] = i; y[i] = 10 * std::exp(-i / double(points)) + noise(rng); }
    y[points / 3] = 1000;   // spikes that a naive stride would drop
    y[2 * points / 3] = -1000;
    QVector<double> dx, dy;
    decimateMinMax(x.constData(), y.constData(), size_t(points), 0, points - 1, columns, dx, dy);
    if (points <= 4 * columns) {
        QCOMPARE(dx, x);
        QCOMPARE(dy, y);
        return;
    }
    QVERIFY2(dx.size() <= 4 * (columns + 2), qPrintable(QString::number(dx.size())));
    QVERIFY(std::is_sorted(dx.begin(), dx.end()));
    QCOMPARE(*std::max_element(dy.begin(), dy.end()), 1000.0);
    QCOMPARE(*std::min_element(dy.begin(), dy.end()), -1000.0);
    QCOMPARE(dx.first(), 0.0);
    QCOMPARE(dx.last(), double(points - 1));
    // Every kept point is a real point of the series.
    for (int k = 0; k < dx.size(); k += 97) QCOMPARE(dy[k], y[int(dx[k])]);
    // Within each pixel column, the decimated min and max are the true min and max.
    const double scale = columns / double(points - 1);
    for (int col : {0, columns / 2, columns - 1}) {
        double tmin = INFINITY, tmax = -INFINITY, dmin = INFINITY, dmax = -INFINITY;
        for (int i = 0; i < points; ++i)
            if (std::min(int(i * scale), columns) == col) { tmin = std::min(tmin, y[i]); tmax = std::max(tmax, y[i]); }
        for (int k = 0; k < dx.size(); ++k)
            if (std::min(int(dx[k] * scale), columns) == col) { dmin = std::min(dmin, dy[k]); dmax = std::max(dmax, dy[k]); }
        QCOMPARE(dmin, tmin);
        QCOMPARE(dmax, tmax);
    }
}

// The definition of min/max decimation, one point at a time: what the block extremes and the
// bisected columns of decimateMinMax must reproduce exactly, NaNs and ties included.
static void referenceDecimation(const QVector<double>& x, const QVector<double>& y, double xLo, double xHi,
                                int columns, QVector<double>& outX, QVector<double>& outY)
{
    outX.clear();
    outY.clear();
    const qsizetype n = x.size();
    qsizetype lo = std::lower_bound(x.begin(), x.end(), xLo) - x.begin();
    qsizetype hi = std::upper_bound(x.begin(), x.end(), xHi) - x.begin();
    if (lo > 0) --lo;
    if (hi < n) ++hi;
    if (hi - lo <= 4 * qsizetype(columns) || !(xHi > xLo)) {
        outX = x.mid(lo, hi - lo);
        outY = y.mid(lo, hi - lo);
        return;
    }
    const double scale = columns / (xHi - xLo);
    auto columnOf = [&](double v) { return int(std::clamp((v - xLo) * scale, -1.0, double(columns))); };
    for (qsizetype i = lo; i < hi;) {
        qsizetype end = i + 1;
        while (end < hi && columnOf(x[end]) == columnOf(x[i])) ++end;
        qsizetype minI = -1, maxI = -1; // the first minimum and maximum of the non-NaN values
        for (qsizetype k = i; k < end; ++k) {
            if (std::isnan(y[k])) continue;
            if (minI < 0 || y[k] < y[minI]) minI = k;
            if (maxI < 0 || y[k] > y[maxI]) maxI = k;
        }
        if (minI < 0) minI = maxI = end - 1;
        qsizetype prev = -1;
        for (qsizetype k : {i, std::min(minI, maxI), std::max(minI, maxI), end - 1}) {
            if (k == prev) continue;
            outX.append(x[k]);
            outY.append(y[k]);
            prev = k;
        }
        i = end;
    }
}

void TestRunsCharts::decimationByBlocksIsExact_data()
{
    QTest::addColumn<int>("points");
    QTest::addColumn<int>("columns");
    QTest::addColumn<double>("zoomFrom"); // the x-range as fractions of the series
    QTest::addColumn<double>("zoomTo");
    QTest::newRow("whole, 440 columns") << 100000 << 440 << 0.0 << 1.0;
    QTest::newRow("whole, 7 columns") << 20000 << 7 << 0.0 << 1.0;
    QTest::newRow("zoomed in") << 50000 << 300 << 0.31 << 0.47;
    QTest::newRow("zoomed past the end") << 50000 << 250 << 0.8 << 1.3;
    QTest::newRow("columns of 20 points") << 9000 << 450 << 0.0 << 1.0;
}

void TestRunsCharts::decimationByBlocksIsExact()
{
    QFETCH(int, points);
    QFETCH(int, columns);
    QFETCH(double, zoomFrom);
    QFETCH(double, zoomTo);
    std::mt19937 rng(uint32_t(points + columns));
    std::normal_distribution<double> noise(0, 1);
    QVector<double> x(points), y(points);
    double key = -3;
    for (int i = 0; i < points; ++i) {
        key += (rng() % 5 == 0) ? 0.0 : 1.0 + (rng() % 7) * 0.25; // repeated x values too
        x[i] = key;
        const unsigned r = rng() % 40;
        y[i] = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -INFINITY : r < 9 ? double(rng() % 3) : noise(rng);
    }
    for (int i = points / 5; i < points / 5 + 100; ++i) y[i] = NAN; // whole blocks and columns of NaN
    const double xLo = x.first() + zoomFrom * (x.last() - x.first());
    const double xHi = x.first() + zoomTo * (x.last() - x.first());
    QVector<double> refX, refY;
    referenceDecimation(x, y, xLo, xHi, columns, refX, refY);
    // The block extremes as a live run builds them: a few points at a time.
    SeriesExtrema extrema;
    for (int n = 0; n < points;) {
        n = std::min(points, n + 1 + int(rng() % 200));
        extrema.extend(y.constData(), size_t(n));
    }
    QCOMPARE(extrema.size(), size_t(points));
    auto sameAsReference = [&](const QVector<double>& dx, const QVector<double>& dy) {
        if (dx != refX || dx.size() != dy.size()) return false;
        for (qsizetype k = 0; k < dy.size(); ++k)
            if (!(dy[k] == refY[k] || (std::isnan(dy[k]) && std::isnan(refY[k])))) return false;
        return true;
    };
    QVector<double> dx, dy;
    decimateMinMax(x.constData(), y.constData(), size_t(points), xLo, xHi, columns, dx, dy);
    QVERIFY2(sameAsReference(dx, dy), "scanning every point");
    decimateMinMax(x.constData(), y.constData(), size_t(points), xLo, xHi, columns, dx, dy, &extrema);
    QVERIFY2(sameAsReference(dx, dy), "reading whole blocks");
    QVERIFY(refX.size() <= 4 * qsizetype(columns + 2));
}

void TestRunsCharts::trainerArguments()
{
    const ModelSpec nano = *findModel("gpt-nano");
    Plan plan;
    plan.microBatch = 4;
    plan.seq = 64;
    RunOptions o;
    o.steps = 30;
    o.lr = 1e-3;
    o.checkpointEvery = 10;
    const QStringList a = ui::trainerArguments(nano, plan, o, QStringLiteral("/tmp/ck"));
    auto valueOf = [&](const char* flag) { const qsizetype i = a.indexOf(QString::fromLatin1(flag)); return i >= 0 && i + 1 < a.size() ? a[i + 1] : QString(); };
    QCOMPARE(valueOf("--model"), QStringLiteral("gpt-nano"));
    QVERIFY(!a.contains(QStringLiteral("--layers"))); // the catalog model, unchanged
    QCOMPARE(valueOf("--device"), QStringLiteral("cpu"));
    QCOMPARE(valueOf("--precision"), QStringLiteral("fp32")); // CPU trains in fp32 whatever the plan says
    QCOMPARE(valueOf("--data"), QStringLiteral("synthetic"));
    QCOMPARE(valueOf("--steps"), QStringLiteral("30"));
    QCOMPARE(valueOf("--lr"), QStringLiteral("0.001"));
    QCOMPARE(valueOf("--checkpoint-every"), QStringLiteral("10"));
    QCOMPARE(valueOf("--micro-batch"), QStringLiteral("4"));
    QCOMPARE(valueOf("--seq"), QStringLiteral("64"));
    QCOMPARE(valueOf("--checkpoint-dir"), QStringLiteral("/tmp/ck"));

    ModelSpec edited = nano;
    edited.layers = 2;
    o.device = RunOptions::Device::Gpu;
    o.data = RunOptions::Data::TokenFile;
    o.dataPath = QStringLiteral("/data/train.bin");
    plan.dp = 2;
    const QStringList b = ui::trainerArguments(edited, plan, o, QStringLiteral("/tmp/ck"));
    QCOMPARE(b[b.indexOf(QStringLiteral("--layers")) + 1], QStringLiteral("2"));
    QVERIFY(!b.contains(QStringLiteral("--hidden")));
    QCOMPARE(b[b.indexOf(QStringLiteral("--device")) + 1], QStringLiteral("cuda"));
    QCOMPARE(b[b.indexOf(QStringLiteral("--precision")) + 1], QStringLiteral("bf16"));
    QCOMPARE(b[b.indexOf(QStringLiteral("--data")) + 1], QStringLiteral("/data/train.bin"));
    QCOMPARE(ranksFor(plan), 2);

    QVERIFY(checkRunOptions(o).contains(QStringLiteral("token file")));
    o.data = RunOptions::Data::Synthetic;
    QVERIFY(checkRunOptions(o).isEmpty());
}

void TestRunsCharts::runDialogOptions()
{
    RunOptions in;
    in.steps = 123;
    in.lr = 2e-3;
    in.checkpointEvery = 50;
    in.evalEvery = 25;
    in.name = QStringLiteral("try");
    RunDialog d(in, {}, 1, QStringLiteral("gpt-nano"));
    RunOptions out = d.options();
    QCOMPARE(out.steps, qint64(123));
    QCOMPARE(out.lr, 2e-3);
    QCOMPARE(out.checkpointEvery, qint64(50));
    QCOMPARE(out.evalEvery, qint64(25));
    QCOMPARE(out.name, QStringLiteral("try"));
    QCOMPARE(out.device, RunOptions::Device::Cpu);
    auto* ok = d.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
    QVERIFY(ok->isEnabled());
    // A token file without a path cannot run; no GPU on the machine: the GPU target cannot either.
    d.findChild<QComboBox*>(QStringLiteral("dataCombo"))->setCurrentIndex(2);
    QVERIFY(!ok->isEnabled());
    d.findChild<QComboBox*>(QStringLiteral("dataCombo"))->setCurrentIndex(0);
    QVERIFY(ok->isEnabled());
    d.findChild<QComboBox*>(QStringLiteral("deviceCombo"))->setCurrentIndex(1);
    QVERIFY(!ok->isEnabled());
}

void TestRunsCharts::gpuMatching()
{
    QCOMPARE(QString::fromStdString(catalogGpuFor(QStringLiteral("NVIDIA H100 80GB HBM3, 81559 MiB"))->id), QStringLiteral("h100-sxm"));
    QCOMPARE(QString::fromStdString(catalogGpuFor(QStringLiteral("NVIDIA H100 PCIe, 81559 MiB"))->id), QStringLiteral("h100-pcie"));
    QCOMPARE(QString::fromStdString(catalogGpuFor(QStringLiteral("NVIDIA A100-SXM4-40GB, 40960 MiB"))->id), QStringLiteral("a100-40gb"));
    QVERIFY(!catalogGpuFor(QStringLiteral("Intel Arc A770, 16384 MiB")));
    // A CPU run without a cluster has no prediction, and says why.
    Plan plan;
    const PredictedFigures none = predictRun(*findModel("gpt-nano"), plan, RunOptions{}, {}, nullptr);
    QVERIFY(!none.any());
    QVERIFY(none.source.contains(QStringLiteral("CPU")));
    ClusterSpec c;
    c.gpu = *findGpu("h100-sxm");
    c.gpusPerNode = 1;
    const PredictedFigures p = predictRun(*findModel("gpt-nano"), plan, RunOptions{}, {}, &c);
    QVERIFY(p.tokensPerS > 0 && p.tflops > 0 && p.memGib > 0);
    QVERIFY(p.source.contains(QStringLiteral("H100")));
}

void TestRunsCharts::chartsReceiveAndDecimate()
{
    RunCharts charts;
    charts.resize(1200, 700);
    charts.show();
    QVERIFY(QTest::qWaitForWindowExposed(&charts));
    charts.setSmoothing(0);
    QSignalSpy points(&charts, &RunCharts::pointsAdded);
    QSignalSpy replots(&charts, &RunCharts::replotted);
    charts.setRun(QStringLiteral("a"), QStringLiteral("run a"), Qt::blue, {});
    // Three small live batches coalesce into appends.
    for (int b = 0; b < 3; ++b) {
        MetricPoints loss;
        for (int i = 0; i < 10; ++i) loss.append(b * 10 + i, (b * 10 + i) * 100.0, b + i * 0.1, 5.0 - 0.01 * (b * 10 + i));
        charts.appendPoints(QStringLiteral("a"), {{QStringLiteral("loss"), loss}});
    }
    QCOMPARE(points.count(), 3);
    QVERIFY(replots.wait(1000));
    MetricChart* loss = charts.chart(QStringLiteral("loss"));
    QVERIFY(loss);
    QCOMPARE(loss->graph(0)->data()->size(), 30);
    QCOMPARE(loss->xAxis->range().lower, 0.0);
    QCOMPARE(loss->xAxis->range().upper, 29.0);
    // By tokens, the same points spread to 0..2900.
    charts.setXAxis(XAxisKind::Tokens);
    charts.replotNow();
    QCOMPARE(loss->xAxis->range().upper, 2900.0);
    // A long run is drawn decimated: no more than 4 points per pixel column.
    MetricPoints big;
    for (int i = 0; i < 200000; ++i) big.append(i, i, i * 0.01, std::sin(i * 0.001));
    charts.setXAxis(XAxisKind::Step);
    charts.setRunMetrics(QStringLiteral("a"), {{QStringLiteral("loss"), big}});
    charts.replotNow();
    const int cols = loss->axisRect()->width();
    QVERIFY(cols > 100);
    QVERIFY2(loss->graph(0)->data()->size() <= 4 * (cols + 2), qPrintable(QString::number(loss->graph(0)->data()->size())));
    QVERIFY(loss->graph(0)->data()->size() > cols); // but a real picture, not a handful
}

void TestRunsCharts::hostWaitAxisOnlyWithData()
{
    // The throughput chart's right axis (host wait, dotted) shows once a run has host_wait_ms,
    // which only GPU runs write; a CPU run's chart has no empty axis.
    RunCharts charts;
    charts.resize(1200, 700);
    charts.show();
    QVERIFY(QTest::qWaitForWindowExposed(&charts));
    charts.setRun(QStringLiteral("cpu"), QStringLiteral("cpu run"), Qt::blue, {});
    MetricPoints tps, wait;
    for (int i = 1; i <= 20; ++i) {
        tps.append(i, i * 8192.0, i * 0.03, 280000.0 + i);
        wait.append(i, i * 8192.0, i * 0.03, 0.1);
    }
    charts.setRunMetrics(QStringLiteral("cpu"), {{QStringLiteral("tokens_per_s"), tps}});
    charts.replotNow();
    MetricChart* throughput = charts.chart(QStringLiteral("throughput"));
    QVERIFY(throughput);
    QVERIFY(!throughput->yAxis2->visible());
    charts.setRun(QStringLiteral("gpu"), QStringLiteral("gpu run"), Qt::red, {});
    charts.setRunMetrics(QStringLiteral("gpu"), {{QStringLiteral("tokens_per_s"), tps}, {QStringLiteral("host_wait_ms"), wait}});
    charts.replotNow();
    QVERIFY(throughput->yAxis2->visible());
    QCOMPARE(throughput->yAxis2->label(), QStringLiteral("host wait ms"));
    QVERIFY(throughput->yAxis2->range().contains(0.1));
}

void TestRunsCharts::liveAppendsDrawWhatARebuildDraws()
{
    // Point by point, the smoothed line, its block extremes and the decimated graphs are
    // extended rather than recomputed: the picture must be the one a fresh chart draws.
    auto series = [](int from, int to) {
        MetricPoints p;
        for (int i = from; i < to; ++i) p.append(i, i * 4096.0, i * 0.05, 2 + std::exp(-i / 8000.0) + 0.05 * std::sin(i * 0.37));
        return p;
    };
    const int start = 40000, added = 37;
    RunCharts live;
    live.resize(1500, 900);
    live.setSmoothing(0.6);
    live.show();
    QVERIFY(QTest::qWaitForWindowExposed(&live));
    live.setRun(QStringLiteral("a"), QStringLiteral("a"), Qt::blue, {});
    live.setRunMetrics(QStringLiteral("a"), {{QStringLiteral("loss"), series(0, start)}});
    live.replotNow();
    for (int i = start; i < start + added; ++i) {
        live.appendPoints(QStringLiteral("a"), {{QStringLiteral("loss"), series(i, i + 1)}});
        if (i % 5 == 0) live.replotNow(); // several points per replot, and one
    }
    live.replotNow();

    RunCharts fresh;
    fresh.resize(1500, 900);
    fresh.setSmoothing(0.6);
    fresh.show();
    QVERIFY(QTest::qWaitForWindowExposed(&fresh));
    fresh.setRun(QStringLiteral("a"), QStringLiteral("a"), Qt::blue, {});
    fresh.setRunMetrics(QStringLiteral("a"), {{QStringLiteral("loss"), series(0, start + added)}});
    fresh.replotNow();
    fresh.replotNow(); // decimated again for the plot width that the first layout settled on

    MetricChart* a = live.chart(QStringLiteral("loss"));
    MetricChart* b = fresh.chart(QStringLiteral("loss"));
    QCOMPARE(a->axisRect()->width(), b->axisRect()->width());
    QCOMPARE(a->graphCount(), 3); // smoothed, validation (none here) and faded raw
    QCOMPARE(b->graphCount(), a->graphCount());
    int drawn = 0;
    for (int g = 0; g < a->graphCount(); ++g) {
        const auto* da = a->graph(g)->data().data();
        const auto* db = b->graph(g)->data().data();
        QCOMPARE(da->size(), db->size());
        if (da->isEmpty()) continue;
        ++drawn;
        QVERIFY(da->size() < start / 10); // decimated
        for (int k = 0; k < da->size(); ++k) {
            QCOMPARE(da->at(k)->key, db->at(k)->key);
            QCOMPARE(da->at(k)->value, db->at(k)->value);
        }
    }
    QCOMPARE(drawn, 2);
    // A dense, decimated line is drawn without antialiasing; a short one keeps it.
    QVERIFY(!a->graph(0)->antialiased());
    live.setRunMetrics(QStringLiteral("a"), {{QStringLiteral("loss"), series(0, 50)}});
    live.replotNow();
    QVERIFY(a->graph(0)->antialiased());
    QCOMPARE(a->graph(0)->data()->size(), 50);
}

void TestRunsCharts::predictionError()
{
    RunCharts charts;
    charts.resize(1200, 700);
    PredictedFigures p;
    p.tokensPerS = 11000;
    p.memGib = 100; // far above the data: drawn off chart and said so
    charts.setRun(QStringLiteral("a"), QStringLiteral("run a"), Qt::red, p);
    MetricPoints tps, mem;
    // The first step pays warm-up and is left out of the mean: measured = 10000.
    tps.append(1, 512, 1, 2000);
    for (int i = 2; i <= 10; ++i) tps.append(i, i * 512.0, i, 10000);
    for (int i = 1; i <= 10; ++i) mem.append(i, i * 512.0, i, 1.0);
    charts.appendPoints(QStringLiteral("a"), {{QStringLiteral("tokens_per_s"), tps}, {QStringLiteral("mem_peak_gib"), mem}});
    charts.replotNow();
    const QStringList t = charts.chart(QStringLiteral("throughput"))->predictionTexts();
    QCOMPARE(t.size(), 1);
    QVERIFY2(t.first().contains(QStringLiteral("error +10.0%")), qPrintable(t.first()));
    QVERIFY(charts.chart(QStringLiteral("throughput"))->yAxis->range().contains(11000));
    const QStringList m = charts.chart(QStringLiteral("memory"))->predictionTexts();
    QVERIFY2(m.first().contains(QStringLiteral("off chart")), qPrintable(m.first()));
    QVERIFY(!charts.chart(QStringLiteral("memory"))->yAxis->range().contains(100));
    QVERIFY(charts.chart(QStringLiteral("loss"))->predictionTexts().isEmpty());
}

namespace {

// A run as the trainer writes it: run_start with the plan, steps, run_end.
void writeEvents(const QString& path, const QString& id, double lr, int microBatch, int seq, double lossScale)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QStringLiteral("{\"v\":1,\"event\":\"run_start\",\"t\":0,\"run_id\":\"%1\",\"world_size\":1,\"trainer\":\"0.1.0\","
                           "\"hosts\":[\"box\"],\"plan\":{\"model\":\"gpt-nano\",\"dp\":1,\"tp\":1,\"pp\":1,\"micro_batch\":%2,"
                           "\"seq\":%3,\"precision\":\"fp32\",\"optimizer\":\"adamw\",\"steps\":20,\"lr\":%4}}\n")
                .arg(id).arg(microBatch).arg(seq).arg(lr).toUtf8());
    for (int s = 1; s <= 20; ++s)
        f.write(QStringLiteral("{\"v\":1,\"event\":\"step\",\"t\":%1,\"step\":%1,\"loss\":%2,\"lr\":%3,\"grad_norm\":1,\"tokens\":%4,"
                               "\"tokens_per_s\":%5,\"tflops\":0.01,\"mfu\":0.001,\"step_ms\":50,\"mem_peak_gib\":0.1}\n")
                    .arg(s).arg(lossScale * (5.5 - 0.1 * s)).arg(lr).arg(s * microBatch * seq).arg(1000 * microBatch).toUtf8());
    f.write("{\"v\":1,\"event\":\"run_end\",\"t\":21,\"status\":\"completed\",\"steps\":20,\"wall_s\":21}\n");
}

} // namespace

void TestRunsCharts::runsTableEdits()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
    for (const char* id : {"r-alpha", "r-beta", "r-gamma"}) {
        const QString path = dir.filePath(QString::fromLatin1(id) + QStringLiteral(".jsonl"));
        writeEvents(path, QString::fromLatin1(id), 1e-3, 2, 64, 1.0);
        store.importEventsFile(path.toStdString());
    }
    RunsBrowser browser(store);
    RunsTableModel* m = browser.model();
    QCOMPARE(m->rowCount(), 3);
    const int row = m->rowOf(QStringLiteral("r-beta"));
    QVERIFY(row >= 0);
    QVERIFY(m->setData(m->index(row, RunsTableModel::Name), QStringLiteral("baseline"), Qt::EditRole));
    QVERIFY(m->setData(m->index(row, RunsTableModel::Tags), QStringLiteral("cpu, nano"), Qt::EditRole));
    QVERIFY(m->setData(m->index(row, RunsTableModel::Notes), QStringLiteral("first try"), Qt::EditRole));
    QCOMPARE(QString::fromStdString(store.runById("r-beta")->name), QStringLiteral("baseline"));
    QCOMPARE(store.runById("r-beta")->tags, (std::vector<std::string>{"cpu", "nano"}));
    QCOMPARE(QString::fromStdString(store.runById("r-beta")->notes), QStringLiteral("first try"));
    // Search by the new name, filter by tag, then by status.
    browser.findChild<QLineEdit*>(QStringLiteral("runSearch"))->setText(QStringLiteral("basel"));
    QCOMPARE(m->rowCount(), 1);
    QCOMPARE(m->runId(0), QStringLiteral("r-beta"));
    browser.findChild<QLineEdit*>(QStringLiteral("runSearch"))->clear();
    browser.findChild<QLineEdit*>(QStringLiteral("tagFilter"))->setText(QStringLiteral("nano"));
    QCOMPARE(m->rowCount(), 1);
    browser.findChild<QLineEdit*>(QStringLiteral("tagFilter"))->clear();
    QCOMPARE(m->rowCount(), 3);
    // Sorting by final loss sorts numerically through the proxy.
    browser.view()->sortByColumn(RunsTableModel::Name, Qt::AscendingOrder);
    QCOMPARE(browser.view()->model()->index(0, RunsTableModel::Name).data().toString(), QStringLiteral("baseline"));
    // Delete asks first: a "no" keeps the run, a "yes" deletes it.
    QString asked;
    browser.setConfirm([&](const QString& q) { asked = q; return false; });
    QCOMPARE(browser.deleteRuns({QStringLiteral("r-alpha")}), 0);
    QVERIFY(asked.contains(QStringLiteral("r-alpha")));
    QVERIFY(store.runById("r-alpha").has_value());
    browser.setConfirm([](const QString&) { return true; });
    QCOMPARE(browser.deleteRuns({QStringLiteral("r-alpha")}), 1);
    QVERIFY(!store.runById("r-alpha").has_value());
    QCOMPARE(m->rowCount(), 2);
}

void TestRunsCharts::compareDiffShowsExactlyTheDifferences()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
    struct R { const char* id; double lr; int mb; int seq; };
    // lr and micro_batch differ; seq and everything else is the same.
    for (const R& r : {R{"c-1", 1e-3, 2, 64}, R{"c-2", 3e-3, 2, 64}, R{"c-3", 1e-3, 4, 64}}) {
        const QString path = dir.filePath(QString::fromLatin1(r.id) + QStringLiteral(".jsonl"));
        writeEvents(path, QString::fromLatin1(r.id), r.lr, r.mb, r.seq, r.mb == 4 ? 0.9 : 1.0);
        store.importEventsFile(path.toStdString());
    }
    CompareView view(store);
    view.resize(1400, 900);
    QVERIFY(view.setRuns({QStringLiteral("c-1"), QStringLiteral("c-2"), QStringLiteral("c-3")}));
    view.setOnlyDifferences(true);
    QStringList opts = view.diffOptions();
    opts.sort();
    QCOMPARE(opts, (QStringList{QStringLiteral("lr"), QStringLiteral("micro_batch")}));
    QCOMPARE(view.diffTable()->item(0, 0)->text() == QLatin1String("micro_batch") ? view.diffTable()->item(0, 3)->text()
                                                                                  : view.diffTable()->item(1, 3)->text(),
             QStringLiteral("4"));
    view.setOnlyDifferences(false);
    QVERIFY(view.diffOptions().contains(QStringLiteral("seq")));
    QVERIFY(view.diffOptions().size() > 2);
    // One colour per run, the same in every chart.
    for (MetricChart* c : view.charts()->charts()) {
        if (c->graphCount() == 0) continue;
        QSet<QRgb> colours;
        for (int g = 0; g < c->graphCount(); ++g)
            if (c->graph(g)->pen().style() == Qt::SolidLine && c->graph(g)->pen().color().alpha() == 255)
                colours.insert(c->graph(g)->pen().color().rgb());
        QCOMPARE(colours.size(), 3);
    }
    // Summary: final loss of c-3 is 0.9 * (5.5 - 2).
    QTableWidget* s = view.summaryTable();
    QCOMPARE(s->rowCount(), 3);
    QCOMPARE(s->item(2, 2)->text(), QStringLiteral("3.1500"));
    // Exports: a CSV per run with a header and 20 rows; a PNG and a PDF per chart.
    QTemporaryDir out;
    const QStringList csv = view.exportCsv(out.path());
    QCOMPARE(csv.size(), 3);
    QFile f(csv.first());
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 21);
    QVERIFY(lines.first().startsWith("step"));
    QCOMPARE(view.exportCharts(out.path(), QStringLiteral("png")).size(), 6);
    const QStringList pdfs = view.exportCharts(out.path(), QStringLiteral("pdf"));
    QCOMPARE(pdfs.size(), 6);
    QFile pdf(pdfs.first());
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.read(5) == "%PDF-");
}

QTEST_MAIN(TestRunsCharts)
#include "test_runs_charts.moc"
