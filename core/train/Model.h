// The transformer language model built from a ModelSpec: the GPT-2 family (LayerNorm, GELU
// tanh, learned positions, tied embeddings, biases) and the LLaMA family (RMSNorm, SwiGLU,
// RoPE, grouped-query attention, untied head), and any mix the spec's flags describe.
// Functional over ATen: the parameters are fp32 masters living in one flat buffer (their
// gradients in another, same layout: ParameterLayout.h), so optimizers and, later, ZeRO work
// on slices of two big tensors. Attention is at::scaled_dot_product_attention (flash/cuDNN on GPU).
#pragma once

#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"
#include "core/train/ParameterLayout.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <map>
#include <string>
#include <vector>

namespace meshwork {

// Called around each parameter unit's use in the forward pass: units are 0 the embeddings,
// 1..L the layers, L+1 the final norm and head. ZeRO-3 (core/train/dist/Zero3.h) gathers a
// unit's parameters in enter() and frees them in leave(), which hooks `out` so that its
// backward gathers them again; leave() returns the tensor the forward goes on with.
class ParameterUnitHooks {
public:
    virtual ~ParameterUnitHooks() = default;
    virtual void enter(int unit) = 0;
    virtual at::Tensor leave(int unit, const at::Tensor& out) = 0;
    // Whether the parameters' gradient buffers may be written whenever the backward reaches a
    // use of them (AutocastWeight.h), or only once AccumulateGrad runs: ZeRO-3 makes a unit's
    // buffers live when that unit's backward begins, after a tied head's.
    virtual bool gradientBuffersLive() const { return true; }
};

// Takes the gradient of the token-embedding lookup's output, [B, T, C] with the ids [B, T]
// that were looked up, in place of the dense [V, C] gradient that embedding's backward would
// add into wte's. Data parallelism gathers these rows from every rank (EmbeddingRowSync.h).
class LookupGradientSink {
public:
    virtual ~LookupGradientSink() = default;
    virtual void lookupGradient(const at::Tensor& ids, const at::Tensor& rows) = 0;
};

class TransformerModel {
public:
    TransformerModel(const ModelSpec& spec, Recompute recompute, c10::Device device);

    // Deterministic initial weights (generated on the CPU, so every device gets the same):
    // normal(0, 0.02) for matrices and embeddings, 0.02/sqrt(2L) for the projections into the
    // residual stream (GPT-2), zeros for biases, ones for norm gains.
    void initialize(uint64_t seed);

    // Mean cross-entropy over B x T next-token predictions; idx and targets are int64 [B, T].
    at::Tensor loss(const at::Tensor& idx, const at::Tensor& targets);
    // The logits [B, T, Vpadded] (for tests and evaluation).
    at::Tensor logits(const at::Tensor& idx);

    void zeroGrad();
    // Frees the flat gradient buffer: every parameter's .grad becomes undefined and autograd
    // gives each a tensor of its own (ZeRO-2's partitioned gradients, GradientSync.h, keep the
    // shard's sums elsewhere). flatGrads() is then undefined and zeroGrad() does nothing.
    void releaseGradients();
    // Not owned; null (the default) runs every unit with its parameters resident.
    void setUnitHooks(ParameterUnitHooks* hooks) { m_hooks = hooks; }
    // Not owned; null (the default) leaves the lookup's gradient to autograd. While set, wte
    // gets no gradient from the lookup (the head's, when tied, still comes through autograd).
    void setLookupSink(LookupGradientSink* sink) { m_lookupSink = sink; }
    at::Tensor& flatParams() { return m_flatParams; }
    at::Tensor& flatGrads() { return m_flatGrads; }
    const at::Tensor& flatParams() const { return m_flatParams; }
    const at::Tensor& flatGrads() const { return m_flatGrads; }
    const ParameterLayout& layout() const { return m_layout; }
    // One tensor per ParamInfo (same order), each a leaf sharing the flat buffers' storage.
    const std::vector<at::Tensor>& parameters() const { return m_params; }
    const at::Tensor& parameter(const std::string& name) const;
    int64_t parameterCount() const { return m_layout.totalElements; }
    const ModelSpec& spec() const { return m_spec; }
    c10::Device device() const { return m_device; }

private:
    struct Layer {
        at::Tensor ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, mlpw, mlpb;
        std::vector<at::Tensor> list() const;        // defined tensors, in field order
        void assign(const std::vector<at::Tensor>& v, size_t first); // the inverse of list()
    };

    at::Tensor hidden(const at::Tensor& idx);
    at::Tensor block(const Layer& p, const at::Tensor& x) const;
    at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const;
    at::Tensor norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const;
    // x W^T + b. The weights are cast through autocastWeight (AutocastWeight.h), their gradients
    // added into the fp32 buffers as the backward reaches them, unless the unit hooks say the
    // buffers are not live then (ZeRO-3) or MESHWORK_UNFUSED_GRAD_ACCUM=1: there autocast casts them.
    at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const;
    at::Tensor rope(const at::Tensor& x) const; // x [B, NH, T, hd]
    void prepareRope(int64_t T, c10::ScalarType type);

    ModelSpec m_spec;
    Recompute m_recompute;
    c10::Device m_device;
    ParameterLayout m_layout;
    at::Tensor m_flatParams, m_flatGrads;
    std::vector<at::Tensor> m_params;
    std::map<std::string, size_t> m_index;
    at::Tensor m_wte, m_wpe, m_lnfw, m_lnfb, m_head;
    std::vector<Layer> m_layers;
    at::Tensor m_cos, m_sin; // RoPE tables [T, hd] in the compute type
    ParameterUnitHooks* m_hooks = nullptr;
    bool m_fuseGradAccumulation = true; // gradAccumulationFusionEnabled() when built
    LookupGradientSink* m_lookupSink = nullptr;
};

} // namespace meshwork
