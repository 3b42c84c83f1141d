// What Meshwork's own trainer (core/train, the planner's Target::Meshwork) cannot run yet, one
// message per feature naming the flag to change. Both sides use this one function, so they
// say the same: the trainer refuses such a plan (parseTrainConfig, exit 2) and the planner's
// estimate for Target::Meshwork lists the messages among its errors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace meshwork {

struct Plan;

std::vector<std::string> unsupportedParallelism(const Plan& plan);

// Whether gathering the token embedding's looked-up rows (EmbeddingRowSync.h) moves fewer bytes
// than all-reducing its [vocab, C] gradient: (ranks - 1) tokens C against 2 (ranks - 1) / ranks
// vocab C, for `tokens` looked up per rank and step over `ranks` data-parallel ranks.
bool embeddingRowsFewerBytes(int64_t tokens, int64_t vocab, int ranks);
// Whether the trainer, left at --embedding-grad auto, gathers those rows for this plan: data
// parallelism over the whole model (tp = pp = 1) whose gradients GradientSync reduces (ZeRO
// 0-2), with fewer bytes so. `vocab` is the padded vocabulary.
bool gathersEmbeddingRows(const Plan& plan, int64_t vocab);

// Whether the trainer, left at --param-gather overlap, broadcasts ZeRO-1/2's updated shards in
// pieces during the next forward (ShardedOptimizer::overlapGather): ZeRO-1 or 2 over a
// data-parallel group of several ranks (the forward, whole or split over tp and pp, waits unit
// by unit).
bool overlapsParameterGather(const Plan& plan);

// Whether the trainer's ZeRO-2 keeps the gradients of its shard alone (GradientSync's
// Mode::Partitioned): ZeRO-2 without pipeline parallelism over a data-parallel group of several
// ranks, which then reduces after every micro-batch. A pipeline interleaves its micro-batches'
// backward passes: it keeps the whole gradient buffer, as ZeRO-1 does.
bool partitionsGradients(const Plan& plan);

// The trainer's gradient bucket, --bucket-mb's default (PyTorch DDP's 25 MB of fp32).
inline constexpr double kDefaultBucketMb = 25;

} // namespace meshwork
