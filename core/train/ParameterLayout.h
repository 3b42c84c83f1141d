// Every tensor the trainer allocates, sized in one place (llm.c sizes all buffers before
// allocating; the planner's memory model mirrors these figures for Target::Meshwork).
// No LibTorch here: the layout is a pure function of the ModelSpec and the plan.
//
// Memory layout (keep the planner in step):
//   parameters   fp32 master weights, one flat buffer, each tensor a view into it
//   gradients    fp32, one flat buffer of the same layout
//   optimizer    AdamW/LAMB: two fp32 states (m, v); LARS/SGD: one (momentum)
//   under autocast the matmul weights are cast to bf16/fp16 per use (not kept)
#pragma once

#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace meshwork {

enum class ParamRole {
    Embedding,      // token embedding (also the head when tied)
    Position,       // learned positions
    Linear,         // a matmul weight inside a block
    ResidualLinear, // a matmul whose output joins the residual stream (init scaled by 1/sqrt(2L))
    Head,           // untied output head
    Bias,
    NormWeight,
    NormBias,
};

struct ParamInfo {
    std::string name;              // e.g. "h.3.attn.qkv.weight"
    std::vector<int64_t> shape;    // torch layout: linear weights are [out, in]
    ParamRole role = ParamRole::Linear;
    int64_t offset = 0;            // elements from the start of the flat buffer
    int64_t numel() const;
    bool decays() const;           // weight decay on matrices and embeddings only
};

// The parameters in allocation order: all decaying tensors first, then the rest, so that
// weight decay applies to one prefix [0, decayElements) of the flat buffer.
struct ParameterLayout {
    std::vector<ParamInfo> params;
    int64_t totalElements = 0;
    int64_t decayElements = 0;
    const ParamInfo* find(const std::string& name) const;
};

// Names and shapes follow one vocabulary for both families:
//   wte [V, C], wpe [maxSeq, C] (learned positions only)
//   h.i.ln_1.{weight,bias}, h.i.attn.qkv.{weight [C + 2 KV, C], bias}, h.i.attn.proj.{weight [C, C], bias}
//   h.i.ln_2.{weight,bias}, h.i.mlp.fc.{weight [F or 2F, C], bias} (SwiGLU: gate rows then up rows),
//   h.i.mlp.proj.{weight [C, F], bias}, ln_f.{weight,bias}, lm_head [V, C] (untied only)
// V is the padded vocabulary. Sum of numel == ModelSpec::allocatedParameterCount().
ParameterLayout parameterLayout(const ModelSpec& model);

// The unit of the model's forward (TransformerModel's ParameterUnitHooks) that a parameter of
// this layout belongs to: 0 the embeddings (wte, wpe), 1..L the layers ("h.<i>."), L+1 the rest
// (final norm, untied head).
int parameterUnit(const std::string& name, int64_t layers);

int optimizerStatesPerParameter(Optimizer o); // AdamW/LAMB 2, LARS/SGD 1

// Bytes of the persistent training buffers of one GPU without ZeRO.
struct TrainBuffers {
    int64_t parameters = 0;   // elements
    int64_t masterBytes = 0;  // fp32 parameters
    int64_t gradientBytes = 0;
    int64_t optimizerBytes = 0;
    int64_t totalBytes() const { return masterBytes + gradientBytes + optimizerBytes; }
};
TrainBuffers trainBuffers(const ModelSpec& model, const Plan& plan);

} // namespace meshwork
