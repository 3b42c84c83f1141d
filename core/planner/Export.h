// A plan written for other frameworks.
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"

#include <optional>
#include <string>

namespace meshwork {

enum class ExportFormat { Megatron, DeepSpeed, ColossalAI, Torchtitan };
const char* toString(ExportFormat f);
std::optional<ExportFormat> parseExportFormat(const std::string& s);

// Megatron-LM: pretrain_gpt.py arguments. DeepSpeed: ds_config.json plus its launch line.
// Colossal-AI: HybridParallelPlugin(...) and Booster code. torchtitan: a job TOML.
// Every value comes from the model, the cluster and the plan; what the target framework
// cannot express is said in a comment line of the output rather than silently dropped.
// Throws SpecError listing every violated constraint (Plan::validate against the model and
// the cluster) when the plan is not a layout any framework could run.
std::string exportPlan(const ModelSpec& model, const ClusterSpec& cluster, const Plan& plan, ExportFormat format);

} // namespace meshwork
