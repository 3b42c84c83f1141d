// Internal to the exporters (Export*.cpp): one writer per framework and the helpers they share.
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace meshwork::export_detail {

struct ExportInput {
    const ModelSpec& model;
    const ClusterSpec& cluster;
    const Plan& plan;
};

std::string writeMegatron(const ExportInput& in);
std::string writeDeepSpeed(const ExportInput& in);
std::string writeColossalAI(const ExportInput& in);
std::string writeTorchtitan(const ExportInput& in);

// The comment block every export starts with: framework, model, cluster, the plan in words,
// and the meshwork-cli line that reproduces it. `prefix` is the comment marker ("# ").
std::string header(const ExportInput& in, const std::string& framework, const std::string& prefix);

// "Not expressible in X:" lines, one per item; empty when nothing was lost.
std::string notesBlock(const std::vector<std::string>& notes, const std::string& framework,
                       const std::string& prefix);

// 6738415616 -> "6.74B", 124439808 -> "124M".
std::string formatCount(int64_t n);
// Shortest text that reads back as v ("1e-05", "10000").
std::string number(double v);
// A Python/TOML float literal: always has a point or an exponent ("10000.0", "1e-05").
std::string floatLiteral(double v);

// Layers per virtual pipeline stage (model chunk): L / (pp * vpp).
int64_t layersPerChunk(const ExportInput& in);
// Sequences each data-parallel rank processes per optimizer step: global batch / dp.
int64_t localBatch(const ExportInput& in);

} // namespace meshwork::export_detail
