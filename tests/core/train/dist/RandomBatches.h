// Random token micro-batches for the tests of one distributed piece (EmbeddingRowSync,
// partitioned ZeRO-2 gradients): `count` pairs of int64 [2, 16] inputs and targets, the same
// for a seed on every rank.
#pragma once

#include "core/spec/ModelSpec.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <vector>

namespace meshwork::test {

struct Batch {
    at::Tensor x, y;
};

inline std::vector<Batch> randomBatches(const ModelSpec& spec, int count, uint64_t seed)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    std::vector<Batch> out;
    for (int i = 0; i < count; ++i)
        out.push_back({at::randint(spec.vocab, {2, 16}, gen, at::TensorOptions().dtype(at::kLong)),
                       at::randint(spec.vocab, {2, 16}, gen, at::TensorOptions().dtype(at::kLong))});
    return out;
}

} // namespace meshwork::test
