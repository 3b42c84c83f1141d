// Training data as token ids: the synthetic corpus, a plain text file (byte-level tokens) or a
// pre-tokenized llm.c token file; a train/validation split; and a loader that hands each
// data-parallel rank its own shard of every step (the distributed launcher only passes the
// rank in). No LibTorch here. Errors are TrainError kind io (the file) or config (the flags).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace meshwork {

inline constexpr int32_t kLlmcMagic = 20240520;   // llm.c token files: 256 x int32 header
inline constexpr int32_t kLlmcVersion = 1;        // header[1]; header[2] = token count; then uint16

struct TokenDataset {
    std::string description;         // "synthetic (seed 1)", "text file a.txt", "llm.c tokens x.bin"
    std::vector<int32_t> train;
    std::vector<int32_t> val;
};

// spec: "synthetic" or a file path. Tokens must be < vocab (the published vocabulary).
// valFraction: the tail of the data held out for validation.
TokenDataset loadDataset(const std::string& spec, int64_t vocab, uint64_t seed, double valFraction);

// The synthetic corpus: a random order-2 Markov chain. Every token a has 4 successors (chosen
// by a hash of the seed and a); which successor is favoured (p = 0.7, the others 0.1) is set
// by the token before a. Its entropy rate is about 0.94 nats, far below ln(V): a falling loss
// proves learning, and an order-2 model beats an order-1 one (about 1.39 nats).
std::vector<int32_t> syntheticTokens(int64_t count, int64_t vocab, uint64_t seed);

// Reads an llm.c token file or a text file (chosen by the magic number; a .bin file must have it).
std::vector<int32_t> readTokenFile(const std::string& path, int64_t vocab, std::string* kind = nullptr);

// Sequential batches over one split. One global micro-batch is dpSize x B x T tokens; rank r
// reads the r-th B x T window (+1 token for the shifted targets); at the end it wraps to 0.
class TokenLoader {
public:
    TokenLoader(const std::vector<int32_t>& tokens, int64_t B, int64_t T, int dpRank, int dpSize,
                const std::string& splitName);
    // Fills inputs[B*T] and targets[B*T] (targets are inputs shifted by one) and advances.
    void next(int32_t* inputs, int32_t* targets);
    int64_t position() const { return m_position; }
    void setPosition(int64_t p) { m_position = p; }

private:
    const std::vector<int32_t>* m_tokens;
    int64_t m_B, m_T;
    int m_rank, m_size;
    int64_t m_position = 0;
};

} // namespace meshwork
