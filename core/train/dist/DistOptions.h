// Where this rank sits in the run and how it reaches the others: from flags, else from the
// variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), else from Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID), so one
// binary starts under meshwork-cli, torchrun or srun. No LibTorch here: parsed and checked
// without the engine, tested without processes.
#pragma once

#include "core/planner/TrainerSupport.h"
#include "core/spec/Options.h"
#include "core/spec/Plan.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace meshwork {

struct DistConfig {
    int rank = 0;
    int worldSize = 1;
    int localRank = 0;
    int localWorldSize = 1;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    double collectiveTimeoutS = 300;  // every collective and the rendezvous; then an `error` of kind comm
    double bucketMb = kDefaultBucketMb; // gradient all-reduce bucket (PyTorch DDP's default 25 MB)
    // How data parallelism reduces the token embedding's lookup gradient: "rows" gathers the
    // looked-up rows (EmbeddingRowSync.h), "dense" all-reduces the [V, C] gradient, "auto"
    // takes rows where they are fewer bytes.
    std::string embeddingGrad = "auto";
    // When ZeRO-1/2 bring the updated shards to every rank: "overlap" during the next forward
    // (ShardedOptimizer::overlapGather), "blocking" at the end of the optimizer step.
    std::string paramGather = "overlap";
    std::string dumpParams;           // write the final parameters (full single-process layout) here
    std::string source = "defaults";  // "flags", "torchrun", "slurm" or "defaults": for the run_start log
    bool distributed() const { return worldSize > 1; }
};

// --rank --world-size --local-rank --master-addr --master-port --collective-timeout --bucket-mb
// --embedding-grad --param-gather --dump-params
const std::vector<OptionSpec>& distOptions();

using EnvLookup = std::function<const char*(const char*)>;

// Flags win over torchrun's variables, which win over Slurm's. Throws SpecError naming the
// flag or variable that is malformed or out of range.
DistConfig parseDistConfig(const ParsedArgs& args, const EnvLookup& env);
DistConfig parseDistConfig(const ParsedArgs& args); // the process environment

// The plan against the launch: world size must equal dp x tp x pp x cp. Empty when fine.
std::vector<std::string> checkWorldSize(const Plan& plan, const DistConfig& dist);

// What the distributed trainer cannot run yet (unsupportedParallelism, shared with the
// planner): core/planner/TrainerSupport.h. parseTrainConfig() adds it to the plan's problems.

} // namespace meshwork
