// Terminal reports of the planner's answers: one plan, a search, the catalogs.
#pragma once

#include "app/cli/CliSetup.h"
#include "core/planner/Search.h"

#include <optional>
#include <string>

namespace meshwork::cli {

// Memory per stage (each term in GiB) against the capacity, the step-time breakdown,
// throughput, time and cost for `tokens` when given, then warnings and errors.
std::string formatEstimate(const Setup& setup, const Estimate& e, std::optional<double> tokens);

// The first `top` results, best throughput first; Pareto-front plans marked.
std::string formatSearch(const Setup& setup, const SearchOutcome& outcome, size_t top);

std::string formatModelCatalog();
std::string formatGpuCatalog();

// "dp 4 x tp 8 x pp 2 x cp 1, sp on, zero 1, ..." for headings.
std::string describePlan(const Plan& p);

} // namespace meshwork::cli
