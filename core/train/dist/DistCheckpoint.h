// Checkpoints of distributed runs: every rank writes its own part, rank 0 a manifest last.
//   <dir>/step_NNNNNNNN/rank_RRRRR.ckpt  this rank's local flat parameters (its tp/pp shard)
//       and optimizer states (its ZeRO slice, or the whole replicated states), in the
//       single-process file format (Checkpoint.h), the loop position in its header
//   <dir>/step_NNNNNNNN/manifest.json    the world layout (world size, dp, tp, pp, vpp, cp,
//       zero, order), the optimizer, the model and the step
// Each file is written to .tmp and renamed. The ranks agree (an all-reduce) that every part is
// in place before rank 0 writes the manifest, so a step directory without one is a checkpoint
// cut short (a kill, a full disk) and resuming skips it: the previous complete one is used.
// (Megatron's per-rank mp_rank_XX_YYY files and its latest_checkpointed_iteration.txt written
// last follow the same rule.)
#pragma once

#include "core/train/Checkpoint.h"

#include <string>

namespace meshwork {

class Mesh;
struct TrainConfig;

// What one rank saves and restores: its tensors (in a fixed order) and its optimizer's step.
struct DistCheckpointPart {
    NamedTensors tensors;
    int64_t optimizerStep = 0;
};

// Collective over the world: every rank calls it at the same step. Returns the step directory.
// Throws TrainError (io) on every rank when any rank could not write its part.
std::string saveDistCheckpoint(const std::string& dir, const LoopState& state, const TrainConfig& config, Mesh& mesh,
                               int rank, const DistCheckpointPart& part);

// The complete checkpoint (one with a manifest) of the highest step in dir; empty when none.
std::string latestDistCheckpoint(const std::string& dir);

// The step directory that --resume names: --resume=PATH (the directory or its manifest), else
// the latest complete one in --checkpoint-dir. Throws TrainError (config) when there is none.
std::string distResumeDirectory(const TrainConfig& config);

// Throws TrainError (config) when the manifest in stepDir does not describe this run's layout,
// optimizer and model: the message names every field that differs and the flags to resume with.
void checkDistManifest(const std::string& stepDir, const TrainConfig& config, int worldSize);

// Collective: checks the manifest, then reads this rank's part into part.tensors (same names
// and sizes) and returns the loop state; part.optimizerStep is set. Every rank throws when any
// rank could not read its part.
LoopState loadDistCheckpoint(const std::string& stepDir, const TrainConfig& config, Mesh& mesh, int rank,
                             DistCheckpointPart& part);

} // namespace meshwork
