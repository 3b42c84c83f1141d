// The built-in catalogs of models and GPUs (resources/*.json, compiled in).
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/ModelSpec.h"

#include <optional>
#include <string>
#include <vector>

namespace meshwork {

const std::vector<ModelSpec>& modelCatalog();
const std::vector<GpuSpec>& gpuCatalog();

std::optional<ModelSpec> findModel(const std::string& name);
std::optional<GpuSpec> findGpu(const std::string& id);

// "a, b, c" of every catalog name, for error messages.
std::string modelNames();
std::string gpuIds();

} // namespace meshwork
