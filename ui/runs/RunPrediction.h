// The planner's prediction for a run, drawn as reference lines on the throughput, TFLOPS and
// memory charts: meshwork::estimate() for the plan with Target::Meshwork, on this machine's
// GPU when the run uses it, else on the planner's cluster (and then the label says so).
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"
#include "ui/runs/RunOptions.h"
#include "ui/runs/RunTrace.h"

#include <optional>

namespace meshwork::ui {

// The catalog GPU behind an nvidia-smi line ("NVIDIA H100 80GB HBM3, 81559 MiB"), if any.
std::optional<GpuSpec> catalogGpuFor(const QString& smiLine);

// gpus: this machine's GPUs (RunDialog::detectGpus()); cluster: the planner's, if known.
PredictedFigures predictRun(const ModelSpec& model, const Plan& plan, const RunOptions& options,
                            const QStringList& gpus, const ClusterSpec* cluster);

} // namespace meshwork::ui
