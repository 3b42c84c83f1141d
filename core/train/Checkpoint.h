// Checkpoints: the flat fp32 parameters, the optimizer's flat states and the loop's position
// (step, data position, loss scale), in one file of our own format:
//   "MWCKPT01", uint64 header length, the header (JSON: run, step, model, tensor index), raw
//   little-endian fp32 tensors.
// Written to "<name>.tmp", flushed to disk, then renamed: a kill mid-write leaves the previous
// checkpoint intact and at worst a stray .tmp file (which resuming ignores).
#pragma once

#include "core/json/Json.h"

#include <cstdint>
#include <string>

namespace meshwork {

class TransformerModel;
class FlatOptimizer;

struct LoopState {
    int64_t step = 0;             // optimizer steps done
    int64_t trainPosition = 0;    // TokenLoader position
    double lossScale = 1.0;       // fp16 dynamic loss scaling
    int64_t goodSteps = 0;        // steps since the loss scale last changed
    std::string runId;
};

// Returns the path written: <dir>/step_<NNNNNNNN>.ckpt. Throws TrainError (io).
std::string saveCheckpoint(const std::string& dir, const LoopState& state, const TransformerModel& model,
                           const FlatOptimizer& optimizer);

// Restores model weights, optimizer states and step into the objects. Throws TrainError: io for
// an unreadable or damaged file, config for a checkpoint of another model or optimizer.
LoopState loadCheckpoint(const std::string& path, TransformerModel& model, FlatOptimizer& optimizer);

// The checkpoint of the highest step in dir; empty when there is none.
std::string latestCheckpoint(const std::string& dir);

} // namespace meshwork
