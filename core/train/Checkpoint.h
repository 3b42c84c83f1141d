// Checkpoints: the flat fp32 parameters, the optimizer's flat states and the loop's position
// (step, data position, loss scale), in one file of our own format:
//   "MWCKPT01", uint64 header length, the header (JSON: run, step, model, tensor index), raw
//   little-endian fp32 tensors.
// Written to "<name>.tmp", flushed to disk, then renamed: a kill mid-write leaves the previous
// checkpoint intact and at worst a stray .tmp file (which resuming ignores).
#pragma once

#include "core/json/Json.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

// The file format itself, shared by the single-process checkpoint above and the per-rank
// parts of a distributed one (dist/DistCheckpoint.h).
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Writes header (an object; "tensors", the index, is added) and the tensors as fp32 to
// path.tmp, fsyncs, renames it to path and fsyncs the directory. Throws TrainError (io).
void writeCheckpointFile(const std::string& path, Json header, const NamedTensors& tensors);

// Writes text to path.tmp, fsyncs, renames it to path and fsyncs the directory (a manifest).
void writeTextFileAtomically(const std::string& path, const std::string& text);

// Opens a checkpoint file and parses its header; read() then fills tensors in file order.
class CheckpointReader {
public:
    explicit CheckpointReader(const std::string& path); // throws TrainError (io)
    const Json& header() const { return m_header; }
    double number(const char* key) const;               // throws TrainError (io) when absent
    // Copies the stored tensors into `into` (same names, order and sizes as written; a size
    // that differs is a config error: the checkpoint belongs to another model or layout).
    void read(const NamedTensors& into);

private:
    struct Closer { void operator()(std::FILE* f) const { if (f) std::fclose(f); } };
    std::string m_path;
    std::unique_ptr<std::FILE, Closer> m_file;
    Json m_header;
};

} // namespace meshwork
