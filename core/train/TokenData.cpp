#include "core/train/TokenData.h"

#include "core/train/TrainError.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace meshwork {

namespace {

// splitmix64 (Steele et al. 2014): a fast, well-mixed, reproducible hash/generator.
uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct FileCloser { void operator()(std::FILE* f) const { if (f) std::fclose(f); } };
using File = std::unique_ptr<std::FILE, FileCloser>;

[[noreturn]] void ioError(const std::string& path, const std::string& problem)
{
    throw TrainError(TrainErrorKind::Io, "data file " + path + ": " + problem);
}

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

std::vector<int32_t> syntheticTokens(int64_t count, int64_t vocab, uint64_t seed)
{
    std::vector<int32_t> out(static_cast<size_t>(count));
    const uint64_t salt = mix(seed ^ 0x5eedULL);
    uint64_t state = mix(salt + 1);
    auto successor = [&](uint64_t a, uint64_t j) {
        return static_cast<int32_t>(mix(salt ^ (a * 8 + j)) % static_cast<uint64_t>(vocab));
    };
    int32_t prev2 = 0, prev = 0;
    for (int64_t t = 0; t < count; ++t) {
        state = mix(state);
        int32_t tok;
        if (t < 2) {
            tok = static_cast<int32_t>(state % static_cast<uint64_t>(vocab));
        } else {
            // The favoured successor of prev is picked by prev2; u in [0, 1).
            const uint64_t favoured = mix(salt + 7 + static_cast<uint64_t>(prev2)) % 4;
            const double u = static_cast<double>(state >> 11) * 0x1.0p-53;
            uint64_t j = favoured;
            if (u >= 0.7) j = (favoured + 1 + static_cast<uint64_t>((u - 0.7) / 0.1)) % 4;
            tok = successor(static_cast<uint64_t>(prev), j);
        }
        out[static_cast<size_t>(t)] = tok;
        prev2 = prev;
        prev = tok;
    }
    return out;
}

std::vector<int32_t> readTokenFile(const std::string& path, int64_t vocab, std::string* kind)
{
    File f(std::fopen(path.c_str(), "rb"));
    if (!f) ioError(path, std::string("cannot open it: ") + std::strerror(errno));
    std::fseek(f.get(), 0, SEEK_END);
    const long size = std::ftell(f.get());
    std::fseek(f.get(), 0, SEEK_SET);
    if (size < 0) ioError(path, "cannot read its size");

    int32_t magic = 0;
    const bool hasMagic = size >= 4 && std::fread(&magic, 4, 1, f.get()) == 1 && magic == kLlmcMagic;
    std::fseek(f.get(), 0, SEEK_SET);
    std::vector<int32_t> tokens;

    if (hasMagic || endsWith(path, ".bin")) {
        if (kind) *kind = "llm.c tokens";
        int32_t header[256] = {};
        if (size < static_cast<long>(sizeof header))
            ioError(path, "truncated: an llm.c token file starts with a 1024-byte header, the file has "
                              + std::to_string(size) + " bytes");
        if (std::fread(header, sizeof header, 1, f.get()) != 1) ioError(path, "cannot read the header");
        if (header[0] != kLlmcMagic)
            ioError(path, "wrong magic number " + std::to_string(header[0]) + " (an llm.c token file starts with "
                              + std::to_string(kLlmcMagic) + "); give a token file or a text file without .bin");
        if (header[1] != kLlmcVersion)
            ioError(path, "unsupported version " + std::to_string(header[1]) + " (expected "
                              + std::to_string(kLlmcVersion) + ": uint16 tokens)");
        const int64_t count = header[2];
        if (count <= 0) ioError(path, "the header says it holds " + std::to_string(count) + " tokens");
        const int64_t expected = static_cast<int64_t>(sizeof header) + 2 * count;
        if (size < expected)
            ioError(path, "truncated: the header says " + std::to_string(count) + " tokens ("
                              + std::to_string(expected) + " bytes), the file has " + std::to_string(size) + " bytes");
        std::vector<uint16_t> raw(static_cast<size_t>(count));
        if (std::fread(raw.data(), 2, raw.size(), f.get()) != raw.size()) ioError(path, "cannot read the tokens");
        tokens.assign(raw.begin(), raw.end());
    } else {
        if (kind) *kind = "text (byte tokens)";
        if (vocab < 256)
            throw TrainError(TrainErrorKind::Config, "data file " + path + ": a text file has byte tokens (0-255), "
                             "the model's vocabulary is " + std::to_string(vocab) + "; use --vocab 256 or more");
        std::vector<unsigned char> raw(static_cast<size_t>(size));
        if (size > 0 && std::fread(raw.data(), 1, raw.size(), f.get()) != raw.size())
            ioError(path, "cannot read it");
        tokens.assign(raw.begin(), raw.end());
    }

    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] >= vocab)
            throw TrainError(TrainErrorKind::Config, "data file " + path + ": token id " + std::to_string(tokens[i])
                             + " at position " + std::to_string(i) + " is beyond the model's vocabulary ("
                             + std::to_string(vocab) + "); use a model with a larger --vocab");
    return tokens;
}

TokenDataset loadDataset(const std::string& spec, int64_t vocab, uint64_t seed, double valFraction)
{
    TokenDataset d;
    std::vector<int32_t> all;
    if (spec == "synthetic") {
        // 2M tokens: more than the tests and the GPU benchmark read in one pass.
        all = syntheticTokens(int64_t(1) << 21, vocab, seed);
        d.description = "synthetic order-2 Markov corpus (seed " + std::to_string(seed) + ")";
    } else {
        std::string kind;
        all = readTokenFile(spec, vocab, &kind);
        d.description = kind + " " + spec;
    }
    const size_t valCount = static_cast<size_t>(static_cast<double>(all.size()) * valFraction);
    d.val.assign(all.end() - static_cast<std::ptrdiff_t>(valCount), all.end());
    all.resize(all.size() - valCount);
    d.train = std::move(all);
    return d;
}

TokenLoader::TokenLoader(const std::vector<int32_t>& tokens, int64_t B, int64_t T, int dpRank, int dpSize,
                         const std::string& splitName)
    : m_tokens(&tokens), m_B(B), m_T(T), m_rank(dpRank), m_size(dpSize)
{
    const int64_t need = static_cast<int64_t>(dpSize) * B * T + 1;
    if (static_cast<int64_t>(tokens.size()) < need)
        throw TrainError(TrainErrorKind::Config, "the " + splitName + " split has " + std::to_string(tokens.size())
                         + " tokens, one step needs dp x micro-batch x seq + 1 = " + std::to_string(need)
                         + "; use more data or a smaller --micro-batch/--seq (or --val-fraction)");
}

void TokenLoader::next(int32_t* inputs, int32_t* targets)
{
    const int64_t window = m_B * m_T;
    const int64_t stride = static_cast<int64_t>(m_size) * window;
    if (m_position + stride + 1 > static_cast<int64_t>(m_tokens->size())) m_position = 0;
    const int32_t* src = m_tokens->data() + m_position + static_cast<int64_t>(m_rank) * window;
    std::copy(src, src + window, inputs);
    std::copy(src + 1, src + window + 1, targets);
    m_position += stride;
}

} // namespace meshwork
