// Optimizers over the flat fp32 parameter and gradient buffers (ParameterLayout.h): a handful
// of vectorized tensor ops per step whatever the number of tensors, no host syncs, and
// states that are plain flat tensors (so ZeRO can later shard them by slicing).
//
// With g the gradient, w the weights, t the step, eta the learning rate, lambda the weight
// decay (applied to the decaying prefix of the buffer only: matrices and embeddings):
//   AdamW (Loshchilov & Hutter 2019): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//       m^ = m/(1-b1^t); v^ = v/(1-b2^t); w <- w - eta (m^/(sqrt(v^)+eps) + lambda w)
//   LAMB (You et al. 2020, as in the Colossal-AI talk), per parameter tensor:
//       u = m^/(sqrt(v^)+eps) + lambda w; r = |w|/|u| when both are positive, else 1;
//       w <- w - eta r u
//   LARS (You et al. 2017; Colossal-AI's Lars), per parameter tensor:
//       r = c |w| / (|g| + lambda |w| + eps) when |w|, |g| > 0, else 1 (c: trust coefficient);
//       b = mu b + eta r (g + lambda w); w <- w - b
//   SGD with momentum (PyTorch's form): b = mu b + (g + lambda w); w <- w - eta b
#pragma once

#include "core/spec/Plan.h"
#include "core/train/ParameterLayout.h"

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace meshwork {

struct OptimizerConfig {
    Optimizer kind = Optimizer::AdamW;
    double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
    double weightDecay = 0.0;
    double momentum = 0.9;     // LARS, SGD
    double larsTrust = 0.001;  // LARS trust coefficient c
};

class FlatOptimizer {
public:
    FlatOptimizer(const OptimizerConfig& config, const ParameterLayout& layout, at::Tensor flatParams,
                  at::Tensor flatGrads);

    // One update with learning rate lr from the gradients as they are (clipped and unscaled).
    void step(double lr);

    // LAMB and LARS scale each tensor by norms of the whole tensor. Where this optimizer holds
    // only pieces of tensors (a ZeRO slice, a tensor-parallel shard), the reducer is given the
    // [2, P] squared norms of its P segments (row 0 |w|^2, row 1 |u|^2 for LAMB or |g|^2 for
    // LARS) and sums in place, per whole tensor, the pieces that other ranks hold.
    using NormReducer = std::function<void(at::Tensor& squaredNorms)>;
    void setNormReducer(NormReducer reducer) { m_normReducer = std::move(reducer); }
    // step() in two halves, for a caller that combines the norms of several optimizers first
    // (ShardedOptimizer's device and host parts): beginStep() updates the moments and returns
    // the [2, P] squared partial norms (undefined for AdamW and SGD, which need none);
    // finishStep() takes the whole tensors' squared norms and updates the weights.
    at::Tensor beginStep();
    void finishStep(double lr, const at::Tensor& squaredNorms);

    int64_t stepCount() const { return m_step; }
    void setStepCount(int64_t t) { m_step = t; }
    // Named flat states, for checkpoints: exp_avg, exp_avg_sq (AdamW, LAMB) or momentum.
    std::vector<std::pair<std::string, at::Tensor>> states() const;
    const OptimizerConfig& config() const { return m_config; }

private:
    at::Tensor perTensorSquaredNorms(const at::Tensor& flat) const; // [P] squared norms of each segment
    at::Tensor perElement(const at::Tensor& perTensor) const; // [P] -> [N], repeated over each segment
    void fusedAdamW(double lr);

    OptimizerConfig m_config;
    at::Tensor m_params, m_grads;
    int64_t m_decay = 0;             // decaying prefix length
    std::vector<int64_t> m_offsets, m_sizes;
    at::Tensor m_sizesTensor;        // on the device, for repeat_interleave
    at::Tensor m_decayPerTensor;     // [P] lambda for decaying tensors, 0 for the rest
    at::Tensor m_m, m_v;             // first and second moments, or m_m = momentum
    at::Tensor m_update;             // LAMB's u between beginStep() and finishStep()
    NormReducer m_normReducer;
    int64_t m_step = 0;
    bool m_fused = false;            // AdamW on a GPU: PyTorch's fused kernel (see fusedAdamW)
    at::Tensor m_stepTensor;         // the step count on the device, for the fused kernel
};

} // namespace meshwork
