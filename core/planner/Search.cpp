#include "core/planner/Search.h"

#include "core/planner/EstimateCore.h"
#include "core/planner/MemoryModel.h"
#include "core/planner/StageBalance.h"
#include "core/planner/TimeModel.h"

#include <algorithm>

namespace meshwork {

namespace {

std::vector<int> divisors(int64_t n)
{
    std::vector<int> d;
    for (int64_t i = 1; i <= n; ++i)
        if (n % i == 0) d.push_back(int(i));
    return d;
}

// Tensor-parallel degrees the model allows: heads, KV heads and the FFN split evenly.
std::vector<int> tpCandidates(const ModelSpec& m, int world)
{
    std::vector<int> out;
    for (int t : divisors(world))
        if (m.heads % t == 0 && m.kvHeads % t == 0 && m.ffn % t == 0) out.push_back(t);
    return out;
}

// Context-parallel degrees: powers of two with seq divisible by 2 cp (load-balanced causal CP).
std::vector<int> cpCandidates(int64_t seq, int rest)
{
    std::vector<int> out{1};
    for (int c = 2; c <= rest; c *= 2)
        if (rest % c == 0 && seq % (2 * c) == 0) out.push_back(c);
    return out;
}

void markPareto(std::vector<SearchResult>& results)
{
    // Best throughput first (ties: more headroom first); a plan is on the front when no plan
    // at least as fast has as much headroom. Sorted through indices: results are heavy to move.
    struct Key {
        double tokensPerS, headroom;
        size_t index;
    };
    std::vector<Key> keys(results.size());
    for (size_t i = 0; i < keys.size(); ++i)
        keys[i] = {results[i].estimate.throughput.tokensPerS, results[i].headroomGiB, i};
    std::stable_sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
        if (a.tokensPerS != b.tokensPerS) return a.tokensPerS > b.tokensPerS;
        return a.headroom > b.headroom;
    });
    // Apply the permutation in place, cycle by cycle (no second copy of tens of thousands of
    // results): position i receives results[keys[i].index].
    std::vector<char> placed(results.size(), 0);
    for (size_t start = 0; start < results.size(); ++start) {
        if (placed[start]) continue;
        SearchResult carry = std::move(results[start]);
        size_t i = start;
        while (true) {
            placed[i] = 1;
            const size_t from = keys[i].index;
            if (from == start) {
                results[i] = std::move(carry);
                break;
            }
            results[i] = std::move(results[from]);
            i = from;
        }
    }
    double bestHeadroom = -1e300;
    for (SearchResult& r : results) {
        r.pareto = r.estimate.valid && r.headroomGiB > bestHeadroom;
        if (r.estimate.valid) bestHeadroom = std::max(bestHeadroom, r.headroomGiB);
    }
}

} // namespace

SearchOutcome searchPlans(const ModelSpec& model, const ClusterSpec& cluster, const SearchOptions& options)
{
    SearchOutcome out;
    const int world = cluster.worldSize();
    if (world < 1 || model.layers < 1 || model.heads < 1 || model.kvHeads < 1) return out;
    const Plan& base = options.base;
    // The global batch stays fixed while dp varies; a base without one trains micro-batch x world.
    const int64_t globalBatch = base.globalBatch > 0 ? base.globalBatch : base.microBatch * world;
    const double capacity = cluster.gpu.memoryGiB;
    const bool flash = usesFlashAttention(options.target, options.estimateOptions);

    const std::vector<int> tps = tpCandidates(model, world);
    const std::vector<int> pps = divisors(model.layers);
    const double outerTotal = double(tps.size() * pps.size());
    double outerDone = 0;

    // Address space for the results up front: pages are touched only as results arrive, and
    // the vector does not move its contents while it grows.
    out.results.reserve(size_t(1) << 16);

    Plan p = base;
    p.globalBatch = globalBatch;
    p.offloadFraction = 1.0;
    for (int tp : tps) {
        for (int pp : pps) {
            outerDone += 1;
            if (options.progress && !options.progress(outerDone / outerTotal * 0.98)) {
                out.cancelled = true;
                markPareto(out.results);
                return out;
            }
            if (world % (tp * pp) != 0) continue;
            for (int cp : cpCandidates(base.seq, world / (tp * pp))) {
                const int dp = world / (tp * pp * cp);
                if (globalBatch % dp != 0) continue;
                const int64_t perDp = globalBatch / dp;
                std::vector<int> vpps{1};
                if (pp > 1)
                    for (int v : divisors(model.layers / pp))
                        if (v > 1) vpps.push_back(v);
                for (int vpp : vpps) {
                    // Micro-batch sizes: divisors of the per-dp batch; interleaving also needs the
                    // number of micro-batches to be a multiple of pp.
                    std::vector<int64_t> mbs;
                    for (int64_t mb = 1; mb <= perDp; ++mb)
                        if (perDp % mb == 0 && (vpp == 1 || (perDp / mb) % pp == 0)) mbs.push_back(mb);
                    if (mbs.empty()) continue;
                    for (int sp = 0; sp < (tp > 1 ? 2 : 1); ++sp) {
                        p.tp = tp; p.pp = pp; p.cp = cp; p.dp = dp; p.vpp = vpp; p.sp = sp != 0;
                        // What Plan::validate checks beyond what this enumeration guarantees
                        // (batch divisibility, offload needing ZeRO) depends only on the degrees:
                        // check once here and share the answer with every variant below.
                        p.zero = 0; p.offload = Offload::None; p.recompute = Recompute::None; p.microBatch = mbs.front();
                        p.stageLayers.clear();
                        std::vector<std::string> planErrors = model.validate();
                        for (std::string& e : p.validate(model, &cluster)) planErrors.push_back(std::move(e));
                        if (!planErrors.empty() && !options.includeInvalid) continue;
                        // Stages of equal time, once per layout (at its smallest micro-batch and
                        // without recomputation): each plan below keeps it where it fits and is
                        // faster than the even split, which the micro-batch, recomputation and
                        // the fuller first stage's data-parallel traffic can undo.
                        // Layouts whose slowest rank it makes less than 3% faster stay even: the
                        // search then estimates their plans once (large models, whose head is a
                        // small share of a stage, mostly).
                        std::vector<int> balanced;
                        if (options.balanceStages && planErrors.empty() && pp > 1) {
                            Plan b = p;
                            b.stageLayers = balancedStageLayers(model, cluster, p, options.target, flash);
                            const StageCost cost = stageCost(model, cluster, p, options.target, flash);
                            if (!b.stageLayers.empty()
                                && slowestStageSeconds(model, cost, b) < 0.97 * slowestStageSeconds(model, cost, p))
                                balanced = b.stageLayers;
                        }
                        // ZeRO stages beyond 0 shard over dp: with dp = 1 they are the same plan.
                        for (int zero = 0; zero <= (dp > 1 ? 3 : 0); ++zero) {
                            for (Offload off : {Offload::None, Offload::Optimizer, Offload::OptimizerParams}) {
                                if (off != Offload::None && !options.includeOffload) continue;
                                if (off == Offload::Optimizer && zero < 1) continue;
                                if (off == Offload::OptimizerParams && zero < 3) continue;
                                for (Recompute rc : {Recompute::None, Recompute::Selective, Recompute::Full}) {
                                    for (int64_t mb : mbs) {
                                        p.zero = zero; p.offload = off; p.recompute = rc; p.microBatch = mb;
                                        p.stageLayers = balanced;
                                        ++out.considered;
                                        // Memory only grows with the micro-batch: once one does not
                                        // fit, no larger one will. A balanced split holds more layers
                                        // on the first stage: where it does not fit, the even one may.
                                        double full = fullestStageGiB(model, p, options.target, flash);
                                        if (full > capacity && !p.stageLayers.empty()) {
                                            p.stageLayers.clear();
                                            full = fullestStageGiB(model, p, options.target, flash);
                                        }
                                        if (full > capacity && !options.includeInvalid) break;
                                        SearchResult r;
                                        r.plan = p;
                                        r.estimate.errors = planErrors;
                                        computeEstimate(model, cluster, p, options.target, flash, r.estimate);
                                        if (!p.stageLayers.empty()) {
                                            SearchResult even;
                                            even.plan = p;
                                            even.plan.stageLayers.clear();
                                            even.estimate.errors = planErrors;
                                            computeEstimate(model, cluster, even.plan, options.target, flash, even.estimate);
                                            if (even.estimate.throughput.tokensPerS >= r.estimate.throughput.tokensPerS
                                                || (!r.estimate.valid && even.estimate.valid))
                                                r = std::move(even);
                                        }
                                        if (!r.estimate.valid && !options.includeInvalid) continue;
                                        r.headroomGiB = capacity - r.estimate.memory.totalGiB;
                                        out.results.push_back(std::move(r));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    markPareto(out.results);
    if (options.progress) options.progress(1.0);
    return out;
}

} // namespace meshwork
