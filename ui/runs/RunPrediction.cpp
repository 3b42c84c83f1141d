#include "ui/runs/RunPrediction.h"

#include "core/planner/Estimate.h"
#include "core/spec/Catalog.h"

#include <QRegularExpression>

namespace meshwork::ui {

std::optional<GpuSpec> catalogGpuFor(const QString& smiLine)
{
    const QString name = smiLine.section(QLatin1Char(','), 0, 0).toLower();
    const double mib = smiLine.section(QLatin1Char(','), 1, 1).trimmed().section(QLatin1Char(' '), 0, 0).toDouble();
    const double gib = mib / 1024;
    std::optional<GpuSpec> best;
    int bestScore = 0;
    for (const GpuSpec& g : gpuCatalog()) {
        // "h100-sxm" -> {h100, sxm}: every part of the id found in the name scores; the
        // model part (first) must match. Memory breaks ties (A100 40 GB vs 80 GB).
        const QStringList parts = QString::fromStdString(g.id).split(QLatin1Char('-'));
        if (parts.isEmpty() || !name.contains(parts.first())) continue;
        int score = 10;
        for (qsizetype i = 1; i < parts.size(); ++i) score += name.contains(parts[i]) ? 3 : 0;
        if (gib > 0 && std::abs(g.memoryGiB - gib) < 0.15 * g.memoryGiB) score += 2;
        if (score > bestScore) { bestScore = score; best = g; }
    }
    return best;
}

PredictedFigures predictRun(const ModelSpec& model, const Plan& plan, const RunOptions& options,
                            const QStringList& gpus, const ClusterSpec* cluster)
{
    PredictedFigures out;
    ClusterSpec c;
    Plan p = plan;
    if (options.device == RunOptions::Device::Gpu && !gpus.isEmpty()) {
        auto gpu = catalogGpuFor(gpus.first());
        if (!gpu) {
            out.source = QStringLiteral("this machine's GPU (%1) is not in the catalog").arg(gpus.first().section(QLatin1Char(','), 0, 0));
            return out;
        }
        c.gpu = *gpu;
        c.nodes = 1;
        c.gpusPerNode = std::max(1, int(gpus.size()));
        out.source = QStringLiteral("planner, %1 on this machine").arg(QString::fromStdString(gpu->name));
    } else if (cluster) {
        c = *cluster;
        if (options.device == RunOptions::Device::Cpu) p.precision = Precision::Fp32; // as the run trains
        out.source = QStringLiteral("planner, %1%2").arg(QString::fromStdString(c.gpu.name.empty() ? c.gpu.id : c.gpu.name),
                                                         options.device == RunOptions::Device::Cpu
                                                             ? QStringLiteral(" (the planner's cluster; this run is on the CPU)")
                                                             : QString());
    } else {
        out.source = QStringLiteral("the planner models GPUs, and this run is on the CPU");
        return out;
    }
    try {
        const Estimate e = estimate(model, c, p, Target::Meshwork);
        out.tokensPerS = e.throughput.tokensPerS;
        out.tflops = e.throughput.tflopsPerGpu;
        // The allocator's peak, as the trainer measures mem_peak_gib (no CUDA context, no reserve).
        out.memGib = e.memory.stages.empty() ? e.memory.totalGiB : e.memory.stages[size_t(e.memory.fullestStage)].allocated();
        if (!e.valid && !e.errors.empty())
            out.source += QStringLiteral("; the planner flags: %1").arg(QString::fromStdString(e.errors.front()));
    } catch (const std::exception& ex) {
        out = {};
        out.source = QStringLiteral("the planner could not estimate this plan: %1").arg(QString::fromUtf8(ex.what()));
    }
    return out;
}

} // namespace meshwork::ui
