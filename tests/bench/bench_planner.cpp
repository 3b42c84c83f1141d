// Planner speed and sanity figures: one estimate (target: <= 20 us), the whole search for
// LLaMA-2 70B on 64 nodes x 8 H100 (target: <= 200 ms), and GPT-2 124M on one H100 against
// what eager PyTorch trainers reach. Prints figures; asserts nothing (speed is not a test).
#include "core/json/Json.h"
#include "core/planner/Estimate.h"
#include "core/planner/Search.h"
#include "core/spec/Catalog.h"

#include <chrono>
#include <ctime>
#include <cstdio>

using namespace meshwork;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// CPU seconds of this process: the machine is shared, so wall time over-states our cost
// when other jobs run; both are printed.
double cpuSeconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

ClusterSpec cluster(const char* gpu, int nodes, int perNode)
{
    ClusterSpec c;
    c.gpu = *findGpu(gpu);
    c.nodes = nodes;
    c.gpusPerNode = perNode;
    return c;
}

void printEstimate(const char* label, const Estimate& e)
{
    std::printf("%s\n  valid %d, memory %.1f / %.1f GiB (stage %d), step %.4f s, %.0f tokens/s, %.1f TFLOPS/GPU, MFU %.1f%%\n",
                label, e.valid ? 1 : 0, e.memory.totalGiB, e.memory.capacityGiB, e.memory.fullestStage, e.time.step,
                e.throughput.tokensPerS, e.throughput.tflopsPerGpu, 100 * e.throughput.mfu);
    const TimeEstimate& t = e.time;
    std::printf("  time: compute %.4f attention %.4f memory-bound %.4f recompute %.4f tp %.4f cp %.4f host %.4f pp %.4f bubble %.4f dp %.4f (of %.4f) optimizer %.4f\n",
                t.compute, t.attention, t.memoryBound, t.recompute, t.tpComm, t.cpComm, t.host, t.ppComm, t.bubble, t.dpComm,
                t.dpCommTotal, t.optimizer);
    const StageMemory& s = e.memory.stages[size_t(e.memory.fullestStage)];
    std::printf("  memory (stage %d): weights %.2f grads %.2f optimizer %.2f activations %.2f logits %.2f buffers %.2f context %.2f reserve %.2f host %.2f GiB\n",
                s.stage, s.weights, s.gradients, s.optimizer, s.activations, s.logits, s.buffers, s.context, s.reserve, s.host);
    for (const std::string& w : e.errors) std::printf("  error: %s\n", w.c_str());
    for (const std::string& w : e.warnings) std::printf("  warning: %s\n", w.c_str());
}

} // namespace

int main()
{
    // GPT-2 124M, 16 x 1024, bf16, one H100, our trainer.
    {
        Plan p;
        p.microBatch = 16;
        p.globalBatch = 16;
        p.seq = 1024;
        const Estimate e = estimate(*findModel("gpt2-124m"), cluster("h100-sxm", 1, 1), p, Target::Meshwork);
        printEstimate("GPT-2 124M, B=16 x T=1024, bf16, 1 x H100 (meshwork); eager PyTorch ~300k tok/s, llm.c ~465k:", e);
    }

    // One estimate: LLaMA-2 70B on 64 x 8 H100, tp 8, pp 4, vpp 5, sp, ZeRO-1, selective.
    const ModelSpec llama = *findModel("llama2-70b");
    const ClusterSpec big = cluster("h100-sxm", 64, 8);
    Plan p;
    p.tp = 8; p.pp = 4; p.vpp = 5; p.dp = 16; p.sp = true; p.zero = 1;
    p.recompute = Recompute::Selective; p.microBatch = 1; p.globalBatch = 1024; p.seq = 4096;
    printEstimate("LLaMA-2 70B, 64 x 8 H100, tp 8 pp 4 vpp 5 dp 16 sp zero 1 selective, mb 1, B 1024 x 4096 (meshwork):",
                  estimate(llama, big, p, Target::Meshwork));
    printEstimate("  same plan, megatron target:", estimate(llama, big, p, Target::Megatron));
    {
        const int n = 20000;
        double sink = 0;
        const auto t0 = Clock::now();
        const double c0 = cpuSeconds();
        for (int i = 0; i < n; ++i) {
            p.microBatch = 1 + (i & 1);
            sink += estimate(llama, big, p, Target::Meshwork).time.step;
        }
        const auto t1 = Clock::now();
        std::printf("\none estimate (pp = 4): %.2f us wall, %.2f us CPU (target <= 20 us)  [checksum %.3g]\n",
                    seconds(t0, t1) / n * 1e6, (cpuSeconds() - c0) / n * 1e6, sink);
        p.pp = 16; p.vpp = 1; p.dp = 4; p.microBatch = 1;
        const auto t2 = Clock::now();
        for (int i = 0; i < n; ++i) sink += estimate(llama, big, p, Target::Meshwork).time.step;
        const auto t3 = Clock::now();
        std::printf("one estimate (pp = 16): %.2f us  [checksum %.3g]\n", seconds(t2, t3) / n * 1e6, sink);
        const auto t4 = Clock::now();
        for (int i = 0; i < 2000; ++i) sink += double(estimateToJson(estimate(llama, big, p, Target::Meshwork)).size());
        const auto t5 = Clock::now();
        std::printf("estimate + estimateToJson: %.2f us\n", seconds(t4, t5) / 2000 * 1e6);
    }

    // The whole search.
    SearchOptions o;
    o.base.seq = 4096;
    o.base.globalBatch = 1024;
    for (Target target : {Target::Meshwork, Target::Megatron}) {
        o.target = target;
        double best = 1e300, bestCpu = 1e300;
        SearchOutcome r;
        for (int rep = 0; rep < 5; ++rep) {
            r = SearchOutcome{}; // freeing the previous results is not part of the search
            const auto t0 = Clock::now();
            const double c0 = cpuSeconds();
            r = searchPlans(llama, big, o);
            best = std::min(best, seconds(t0, Clock::now()));
            bestCpu = std::min(bestCpu, cpuSeconds() - c0);
        }
        size_t front = 0;
        for (const SearchResult& x : r.results) front += x.pareto ? 1 : 0;
        std::printf("\nsearch LLaMA-2 70B, 64 x 8 H100, seq 4096, B 1024 (%s): %.1f ms wall, %.1f ms CPU (target <= 200 ms), %zu considered, %zu valid, %zu on the Pareto front\n",
                    toString(target), best * 1e3, bestCpu * 1e3, r.considered, r.results.size(), front);
        for (size_t i = 0; i < r.results.size() && i < 5; ++i) {
            const SearchResult& x = r.results[i];
            std::printf("  #%zu tp %d pp %d vpp %d cp %d dp %d sp %d zero %d %s %s mb %lld: %.0f tok/s, %.1f TFLOPS, MFU %.1f%%, %.1f GiB headroom%s\n",
                        i + 1, x.plan.tp, x.plan.pp, x.plan.vpp, x.plan.cp, x.plan.dp, x.plan.sp ? 1 : 0, x.plan.zero,
                        toString(x.plan.recompute), toString(x.plan.offload), (long long)x.plan.microBatch,
                        x.estimate.throughput.tokensPerS, x.estimate.throughput.tflopsPerGpu, 100 * x.estimate.throughput.mfu,
                        x.headroomGiB, x.pareto ? " [pareto]" : "");
        }
    }
    return 0;
}
