// Import of a Hugging Face config.json (GPT-2, LLaMA, Mistral and Qwen2 families).
#pragma once

#include "core/spec/ModelSpec.h"

#include <string>
#include <string_view>

namespace meshwork {

// Builds a ModelSpec from the text of a config.json. Throws SpecError naming the key
// (or the JSON position) on malformed, unsupported or hostile input; never crashes.
ModelSpec modelFromHfConfig(std::string_view text, const std::string& name);

// Reads a model file: a Hugging Face config.json, or Meshwork's own model JSON
// (the form of resources/models.json). Throws SpecError naming the file and the problem.
ModelSpec loadModelFile(const std::string& path);

} // namespace meshwork
