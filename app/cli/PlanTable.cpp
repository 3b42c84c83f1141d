#include "app/cli/PlanTable.h"

#include "app/cli/TextTable.h"
#include "core/spec/Catalog.h"
#include "core/spec/StageLayers.h"

#include <algorithm>

namespace meshwork::cli {

namespace {

using Col = TextTable::Column;
constexpr auto L = TextTable::Align::Left;
constexpr auto R = TextTable::Align::Right;

std::string s(int64_t v) { return std::to_string(v); }

std::string gib(double v) { return fixed(v, 2); }

std::string countWithUnit(double n)
{
    if (n >= 1e12) return fixed(n / 1e12, 2) + "T";
    if (n >= 1e9) return fixed(n / 1e9, 2) + "B";
    if (n >= 1e6) return fixed(n / 1e6, 1) + "M";
    return withThousands(n);
}

std::string heading(const Setup& st)
{
    const auto& c = st.cluster;
    return st.model.name + " (" + countWithUnit(double(st.model.parameterCount())) + " parameters) on "
        + s(c.nodes) + (c.nodes == 1 ? " node" : " nodes") + " x " + s(c.gpusPerNode) + " " + c.gpu.name + " ("
        + s(c.worldSize()) + " GPUs), target " + toString(st.target) + "\n";
}

std::string memorySection(const Estimate& e)
{
    const MemoryEstimate& m = e.memory;
    std::string out = "Memory per GPU in GiB (capacity " + gib(m.capacityGiB) + "):\n";
    TextTable t({Col{"stage", R}, Col{"layers", R}, Col{"weights", R}, Col{"grads", R}, Col{"optimizer", R},
                 Col{"activations", R}, Col{"logits", R}, Col{"buffers", R}, Col{"context", R}, Col{"reserve", R},
                 Col{"total", R}, Col{"host", R}});
    for (const StageMemory& st : m.stages)
        t.addRow({s(st.stage), s(st.layers), gib(st.weights), gib(st.gradients), gib(st.optimizer),
                  gib(st.activations), gib(st.logits), gib(st.buffers), gib(st.context), gib(st.reserve),
                  gib(st.total), gib(st.host)});
    out += t.render("  ");
    const double share = m.capacityGiB > 0 ? m.totalGiB / m.capacityGiB : 0;
    out += "  fullest GPU: stage " + s(m.fullestStage) + ", " + gib(m.totalGiB) + " of " + gib(m.capacityGiB)
        + " GiB (" + percent(share, 0) + ")" + (m.fits() ? ", fits" : ", DOES NOT FIT");
    if (m.hostGiB > 0) out += "; host RAM " + gib(m.hostGiB) + " GiB per GPU";
    return out + "\n";
}

std::string timeSection(const Estimate& e)
{
    const TimeEstimate& t = e.time;
    std::string out = "Step time:\n";
    TextTable table({Col{"term", L}, Col{"time", R}, Col{"share", R}});
    auto row = [&](const char* name, double v) {
        if (v <= 0) return;
        table.addRow({name, duration(v), t.step > 0 ? percent(v / t.step) : "-"});
    };
    row("compute (matmuls)", t.compute);
    row("attention", t.attention);
    row("memory-bound ops", t.memoryBound);
    row("recompute", t.recompute);
    row("tensor-parallel comm", t.tpComm);
    row("context-parallel comm", t.cpComm);
    row("waiting for the host", t.host);
    row("pipeline sends", t.ppComm);
    row("pipeline bubble", t.bubble);
    row("data-parallel comm (exposed)", t.dpComm);
    row("optimizer step", t.optimizer);
    table.addRow({"step", duration(t.step), ""});
    out += table.render("  ");
    if (t.dpCommTotal > t.dpComm)
        out += "  data-parallel comm before overlap with the backward pass: " + duration(t.dpCommTotal) + "\n";
    return out;
}

std::string throughputSection(const Setup& st, const Estimate& e, std::optional<double> tokens)
{
    std::string out = "Throughput:\n";
    out += "  tokens/s (cluster)  " + withThousands(e.throughput.tokensPerS) + "\n";
    out += "  TFLOPS per GPU      " + fixed(e.throughput.tflopsPerGpu, 1) + " (model FLOPs";
    if (st.plan.recompute != Recompute::None)
        out += "; " + fixed(e.throughput.hardwareTflopsPerGpu, 1) + " counting the recomputation";
    out += ")\n";
    out += "  MFU                 " + percent(e.throughput.mfu) + " of " + fixed(st.cluster.gpu.peakTflops(st.plan.precision), 0)
        + " TFLOPS " + toString(st.plan.precision) + " peak\n";
    if (tokens) {
        const double hours = e.hoursToTrain(*tokens);
        auto amount = [](double v) { return v < 100 ? fixed(v, 1) : withThousands(v); };
        out += "  to train " + countWithUnit(*tokens) + " tokens: " + amount(hours) + " h (" + amount(hours / 24.0)
            + " days), " + withThousands(hours * st.cluster.worldSize()) + " GPU-hours";
        if (st.cluster.pricePerGpuHour > 0)
            out += ", cost " + withThousands(e.costToTrain(*tokens, st.cluster)) + " at "
                + fixed(st.cluster.pricePerGpuHour, 2) + " per GPU-hour";
        else
            out += " (give --price for the cost)";
        out += "\n";
    }
    return out;
}

} // namespace

std::string describePlan(const Plan& p)
{
    std::string w = "dp " + s(p.dp) + " x tp " + s(p.tp) + " x pp " + s(p.pp) + " x cp " + s(p.cp);
    if (p.vpp > 1) w += ", vpp " + s(p.vpp);
    if (!p.stageLayers.empty()) w += ", stage layers " + formatStageLayers(p.stageLayers);
    w += p.sp ? ", sp on" : ", sp off";
    w += ", zero " + s(p.zero);
    if (p.offload != Offload::None) {
        w += ", offload " + std::string(toString(p.offload));
        if (p.offloadFraction < 1) w += " (" + percent(p.offloadFraction, 0) + ")";
    }
    w += ", recompute " + std::string(toString(p.recompute));
    w += ", micro-batch " + s(p.microBatch) + " (" + s(p.microBatches()) + " per step), global batch "
        + s(p.effectiveGlobalBatch()) + " x seq " + s(p.seq) + " (" + countWithUnit(double(p.tokensPerStep()))
        + " tokens/step), " + toString(p.precision);
    if (p.gradReduce != Plan().gradReduce) w += ", grad-reduce " + std::string(toString(p.gradReduce));
    w += ", " + std::string(toString(p.optimizer));
    if (p.order != Plan().order) w += ", order " + p.order;
    return w;
}

std::string formatEstimate(const Setup& st, const Estimate& e, std::optional<double> tokens)
{
    std::string out = heading(st);
    out += "Plan: " + describePlan(st.plan) + "\n\n";
    if (!e.memory.stages.empty()) out += memorySection(e) + "\n";
    if (e.time.step > 0) out += timeSection(e) + "\n" + throughputSection(st, e, tokens);
    if (!e.warnings.empty()) {
        out += "\nWarnings:\n";
        for (const auto& w : e.warnings) out += "  - " + w + "\n";
    }
    if (!e.errors.empty()) {
        out += "\nErrors (the plan is invalid):\n";
        for (const auto& err : e.errors) out += "  - " + err + "\n";
    } else {
        out += "\nThe plan is valid.\n";
    }
    return out;
}

std::string formatSearch(const Setup& st, const SearchOutcome& outcome, size_t top)
{
    std::string out = heading(st);
    out += "Fixed: global batch " + s(st.plan.effectiveGlobalBatch()) + " x seq " + s(st.plan.seq) + ", "
        + toString(st.plan.precision);
    if (st.plan.gradReduce != Plan().gradReduce) out += ", grad-reduce " + std::string(toString(st.plan.gradReduce));
    out += ", " + std::string(toString(st.plan.optimizer)) + "\n";
    const size_t valid = std::count_if(outcome.results.begin(), outcome.results.end(),
                                       [](const SearchResult& r) { return r.estimate.valid; });
    if (outcome.results.empty()) {
        out += "\nNo plan fits: " + withThousands(double(outcome.considered))
            + " layouts considered. Try more GPUs, a larger --gpu, a shorter --seq or a smaller --global-batch.\n";
        return out;
    }
    TextTable t({Col{"#", R}, Col{"pareto", L}, Col{"dp", R}, Col{"tp", R}, Col{"pp", R}, Col{"vpp", R},
                 Col{"stage layers", L}, Col{"cp", R}, Col{"sp", L}, Col{"zero", R}, Col{"offload", L}, Col{"recompute", L}, Col{"mb", R},
                 Col{"tokens/s", R}, Col{"TFLOPS/GPU", R}, Col{"MFU", R}, Col{"mem GiB", R}, Col{"headroom", R}});
    const size_t n = std::min(top, outcome.results.size());
    for (size_t i = 0; i < n; ++i) {
        const SearchResult& r = outcome.results[i];
        const Plan& p = r.plan;
        t.addRow({s(int64_t(i + 1)), r.pareto ? "*" : "", s(p.dp), s(p.tp), s(p.pp), s(p.vpp),
                  p.stageLayers.empty() ? "even" : formatStageLayers(p.stageLayers), s(p.cp),
                  p.sp ? "on" : "off", s(p.zero), toString(p.offload), toString(p.recompute), s(p.microBatch),
                  withThousands(r.estimate.throughput.tokensPerS), fixed(r.estimate.throughput.tflopsPerGpu, 1),
                  percent(r.estimate.throughput.mfu), gib(r.estimate.memory.totalGiB), gib(r.headroomGiB)});
    }
    out += "\n" + t.render();
    out += "\n" + withThousands(double(outcome.considered)) + " layouts considered, " + withThousands(double(valid))
        + " valid; showing " + s(int64_t(n)) + " (--top N for more). * = on the Pareto front of tokens/s against memory headroom.\n";
    std::string args;
    for (const auto& a : planToArgs(outcome.results.front().plan)) args += " " + a;
    if (st.target != Target::Meshwork) args += " --target " + std::string(toString(st.target));
    out += "The best plan in detail: meshwork-cli plan " + st.modelAndClusterArgs + args + "\n";
    return out;
}

std::string formatModelCatalog()
{
    TextTable t({Col{"name", L}, Col{"family", L}, Col{"params", R}, Col{"layers", R}, Col{"hidden", R},
                 Col{"heads", R}, Col{"kv", R}, Col{"ffn", R}, Col{"vocab", R}, Col{"seq", R}});
    for (const ModelSpec& m : modelCatalog())
        t.addRow({m.name, m.family, countWithUnit(double(m.parameterCount())), s(m.layers), s(m.hidden), s(m.heads),
                  s(m.kvHeads), s(m.ffn), s(m.vocab), s(m.maxSeq)});
    return t.render() + "\nUse one with --model NAME, or give the path of a Hugging Face config.json.\n";
}

std::string formatGpuCatalog()
{
    TextTable t({Col{"id", L}, Col{"name", L}, Col{"memory GiB", R}, Col{"bf16 TFLOPS", R}, Col{"HBM GB/s", R},
                 Col{"link GB/s", R}, Col{"link", L}});
    for (const GpuSpec& g : gpuCatalog())
        t.addRow({g.id, g.name, fixed(g.memoryGiB, 1), fixed(g.bf16Tflops, 0), withThousands(g.hbmGBps),
                  fixed(g.intraNodeGBps, 0), g.intraNodeLink});
    return t.render() + "\nUse one with --gpu ID.\n";
}

} // namespace meshwork::cli
