#include "core/train/dist/DistOptions.h"

#include "core/spec/SpecError.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace meshwork {

const std::vector<OptionSpec>& distOptions()
{
    static const std::vector<OptionSpec> o = {
        {"rank", "N", "this process's global rank (default: $RANK or $SLURM_PROCID, else 0)"},
        {"world-size", "N", "number of ranks (default: $WORLD_SIZE or $SLURM_NTASKS, else 1)"},
        {"local-rank", "N", "rank on this host, picks the GPU (default: $LOCAL_RANK or $SLURM_LOCALID)"},
        {"master-addr", "HOST", "address of rank 0's rendezvous store (default: $MASTER_ADDR or 127.0.0.1)"},
        {"master-port", "PORT", "port of rank 0's rendezvous store (default: $MASTER_PORT or 29500)"},
        {"collective-timeout", "S", "seconds before a collective or the rendezvous gives up (default 300)"},
        {"bucket-mb", "X", "gradient all-reduce bucket size in MB (default 25)"},
        {"embedding-grad", "MODE", "data parallelism reduces the token embedding's lookup gradient as gathered rows "
                                   "(rows), as one dense matrix (dense), or whichever moves fewer bytes (auto, the default)"},
        {"param-gather", "MODE", "ZeRO-1/2 bring the updated parameter shards to every rank while the next forward "
                                 "runs, each before the first layer that reads it (overlap, the default), or at "
                                 "the end of the optimizer step (blocking)"},
        {"dump-params", "FILE", "(testing) write the final fp32 parameters, single-process layout, to FILE"},
    };
    return o;
}

namespace {

int toInt(const std::string& what, const std::string& v, int min, int max)
{
    int out = 0;
    auto res = std::from_chars(v.data(), v.data() + v.size(), out);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size())
        throw SpecError(what + ": expected a whole number, got \"" + v + "\"");
    if (out < min || out > max)
        throw SpecError(what + " must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got "
                        + v + ")");
    return out;
}

double toNumber(const std::string& what, const std::string& v, double min)
{
    double out = 0;
    auto res = std::from_chars(v.data(), v.data() + v.size(), out);
    if (res.ec != std::errc() || res.ptr != v.data() + v.size() || !std::isfinite(out))
        throw SpecError(what + ": expected a number, got \"" + v + "\"");
    if (out < min) throw SpecError(what + " must be above " + std::to_string(min) + " (got " + v + ")");
    return out;
}

} // namespace

DistConfig parseDistConfig(const ParsedArgs& a, const EnvLookup& env)
{
    DistConfig c;
    auto get = [&](const char* name) -> std::string {
        const char* v = env ? env(name) : nullptr;
        return v ? std::string(v) : std::string();
    };
    // One source for rank and world size: mixing torchrun's RANK with Slurm's NTASKS would
    // silently build the wrong mesh.
    std::string rank, world, local, localWorld;
    if (!get("RANK").empty() || !get("WORLD_SIZE").empty()) {
        c.source = "torchrun";
        rank = get("RANK"), world = get("WORLD_SIZE"), local = get("LOCAL_RANK"), localWorld = get("LOCAL_WORLD_SIZE");
        if (rank.empty() || world.empty())
            throw SpecError("the environment sets only one of RANK and WORLD_SIZE: set both (torchrun does) or neither");
    } else if (!get("SLURM_PROCID").empty() && !get("SLURM_NTASKS").empty()) {
        c.source = "slurm";
        rank = get("SLURM_PROCID"), world = get("SLURM_NTASKS"), local = get("SLURM_LOCALID");
        localWorld = get("SLURM_NTASKS_PER_NODE");
    }
    const std::string envName = c.source == "slurm" ? "$SLURM_" : "$";
    if (!world.empty()) c.worldSize = toInt(envName + (c.source == "slurm" ? "NTASKS" : "WORLD_SIZE"), world, 1, 1 << 20);
    if (!rank.empty()) c.rank = toInt(envName + (c.source == "slurm" ? "PROCID" : "RANK"), rank, 0, 1 << 20);
    if (!local.empty()) c.localRank = toInt(envName + (c.source == "slurm" ? "LOCALID" : "LOCAL_RANK"), local, 0, 1 << 20);
    // SLURM_NTASKS_PER_NODE may read "4(x2)"; only the leading count matters here.
    if (!localWorld.empty()) {
        auto cut = localWorld.find('(');
        c.localWorldSize = toInt("local world size", localWorld.substr(0, cut), 1, 1 << 20);
    } else {
        c.localWorldSize = c.worldSize;
    }
    if (!get("MASTER_ADDR").empty()) c.masterAddr = get("MASTER_ADDR");
    if (!get("MASTER_PORT").empty()) c.masterPort = toInt("$MASTER_PORT", get("MASTER_PORT"), 1, 65535);

    bool flags = false;
    if (a.has("world-size")) c.worldSize = toInt("--world-size", a.value("world-size"), 1, 1 << 20), flags = true;
    if (a.has("rank")) c.rank = toInt("--rank", a.value("rank"), 0, 1 << 20), flags = true;
    if (a.has("local-rank")) c.localRank = toInt("--local-rank", a.value("local-rank"), 0, 1 << 20), flags = true;
    if (a.has("master-addr")) c.masterAddr = a.value("master-addr"), flags = true;
    if (a.has("master-port")) c.masterPort = toInt("--master-port", a.value("master-port"), 1, 65535), flags = true;
    if (flags) c.source = "flags";
    if (a.has("collective-timeout")) c.collectiveTimeoutS = toNumber("--collective-timeout", a.value("collective-timeout"), 0.001);
    if (a.has("bucket-mb")) c.bucketMb = toNumber("--bucket-mb", a.value("bucket-mb"), 0.0001);
    if (a.has("embedding-grad")) {
        c.embeddingGrad = a.value("embedding-grad");
        if (c.embeddingGrad != "auto" && c.embeddingGrad != "rows" && c.embeddingGrad != "dense")
            throw SpecError("--embedding-grad must be auto, rows or dense (got \"" + c.embeddingGrad + "\")");
    }
    if (a.has("param-gather")) {
        c.paramGather = a.value("param-gather");
        if (c.paramGather != "overlap" && c.paramGather != "blocking")
            throw SpecError("--param-gather must be overlap or blocking (got \"" + c.paramGather + "\")");
    }
    c.dumpParams = a.value("dump-params");

    if (c.rank >= c.worldSize)
        throw SpecError("rank " + std::to_string(c.rank) + " is not below the world size " + std::to_string(c.worldSize)
                        + " (from " + c.source + "): ranks count from 0");
    if (c.masterAddr.empty()) throw SpecError("--master-addr: expected a host name or address");
    return c;
}

DistConfig parseDistConfig(const ParsedArgs& a)
{
    return parseDistConfig(a, [](const char* name) -> const char* { return std::getenv(name); });
}

std::vector<std::string> checkWorldSize(const Plan& plan, const DistConfig& dist)
{
    if (plan.worldSize() == dist.worldSize) return {};
    const auto n = [](int64_t v) { return std::to_string(v); };
    return {"the plan needs dp x tp x pp x cp = " + n(plan.dp) + " x " + n(plan.tp) + " x " + n(plan.pp) + " x "
            + n(plan.cp) + " = " + n(plan.worldSize()) + " ranks but the launch has " + n(dist.worldSize) + " (from "
            + dist.source + "): start " + n(plan.worldSize()) + " ranks (meshwork-cli run --nproc "
            + n(plan.worldSize()) + ") or change the degrees"};
}

} // namespace meshwork
