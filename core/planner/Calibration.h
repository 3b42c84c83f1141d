// The few global constants of the time and memory models. They are the same for every
// plan, model and GPU (no per-row fudge factors); docs/validation.md shows how well they
// reproduce published measured runs and tests/core/planner/test_validation.cpp regenerates
// that table. Change one only with the table regenerated beside it.
#pragma once

namespace meshwork::calib {

// --- matmul efficiency --------------------------------------------------------------------
// A GEMM of M x N x K runs at  peak * kMatmulPeakFraction * g(M) * g(N) * g(K),
// g(x) = x / (x + x0): each small dimension leaves tensor cores idle (tile quantisation,
// too few CTAs for the SMs, prologue/epilogue not amortised). x0 grows with the GPU's peak
// as (peak / 312 TFLOPS)^(1/2): a faster GPU needs proportionally larger tiles in flight to hide
// its memory latency. Large cuBLAS bf16 GEMMs reach ~80% of the dense peak on A100 (and an
// 8192^3 product ~80% of the H100's, as measured on this project's device machines); the
// curve brings shapes like GPT-2's (C = 768) down to ~60%. Set from these figures and left
// unchanged by the validation table (docs/validation.md).
inline constexpr double kMatmulPeakFraction = 0.80;
inline constexpr double kMatmulHalfSize = 96.0;          // x0 on a 312-TFLOPS A100
inline constexpr double kMatmulReferenceTflops = 312.0;

// --- attention core -------------------------------------------------------------------------
// FlashAttention-2 reaches 50-73% of peak forward and ~40-60% backward on A100/H100
// (Dao 2023, Figures 4-7); causal masking skips half of the blocks, so the time is that of
// half the FLOPs Flops.h counts (Flops.h counts QK^T and AV in full, as the papers do).
// The backward pass does 2.5x the forward's matmuls (it recomputes S = QK^T).
inline constexpr double kAttentionEfficiency = 0.50;
inline constexpr double kCausalFraction = 0.5;
inline constexpr double kAttentionBackwardRatio = 2.5;
// The materialised attention core (Megatron-LM 2021-22: baddbmm, fused scale-mask-softmax,
// dropout, bmm) runs QK^T and AV as batched GEMMs of head-dim depth over the full s x s
// scores, and streams the scores through HBM: forward, scores written, read and written by
// softmax, read and written by dropout (+ a 1-byte mask), read by AV: 6.5 elements of 16 bits;
// the backward pass about twice that.
inline constexpr double kScoreElementsForward = 6.5;
inline constexpr double kScoreElementsBackward = 13.0;

// --- memory-bound work -------------------------------------------------------------------
// Elementwise kernels (norms, residual adds, activation functions, dropout, softmax
// cross-entropy, the optimizer) stream at this fraction of the HBM datasheet bandwidth
// (STREAM-like copy kernels reach ~85-90%; short kernels less).
inline constexpr double kHbmEfficiency = 0.70;
// Elements of the hidden size read or written per token per layer in the forward pass:
// two norms (read + write: 4), two residual adds (2 reads + 1 write each: 6), bias-dropout
// (2) -- in the residual stream precision; and of the FFN size: activation function
// (read + write, 3 with the SwiGLU gate). The backward pass moves about twice as much.
inline constexpr double kHiddenElementsPerLayer = 12.0;
inline constexpr double kFfnElementsPerLayer = 3.0;
inline constexpr double kBackwardMemoryRatio = 2.0;
// Our trainer (target meshwork) runs eager LibTorch: unfused bias adds, autocast casts,
// separate elementwise kernels and launch gaps. Its forward/backward kernel time is the
// model's divided by this factor (not the output head's: one large GEMM a pass, at its own
// efficiency). Fitted with the parameter traffic and the host time below to meshwork-train's
// six one-GPU runs on an H200 (docs/validation.md, 2026-11-28, with the fused cross-entropy
// kernel; measured again with the gradient-accumulation fusion): GPT-2 124M at 8 and 16 x 1024
// (16 with each recomputation) and LLaMA-1B at 2 and 4 x 2048, every one within 6% (before
// those two terms, 0.81 alone: within 10%, LLaMA-1B 10% too fast and GPT-2 at 16 x 1024 8% too
// slow), and to LLaMA-1B's pipeline splits on 2 H200s
// (9,7 the fastest of 8,8 to 12,4, each predicted within 3%).
inline constexpr double kEagerEfficiency = 0.85;
// The host's seconds to issue one layer's forward and backward in our trainer (eager LibTorch:
// about 100 ops and autograd nodes a layer). A stage whose device work is shorter waits for the
// host: GPT-2 124M at 8 x 1024 on an H200 (22.1 ms a step, where 16 x 1024 takes 38.5: its
// device time alone would give 19.8), and the first stage of its pipelines (2 H200s: 7,5 the
// fastest split, 9.5% ahead of 6,6; with these constants every split within 6%).
inline constexpr double kHostSecondsPerLayer = 1.45e-3;
// And once a step: the optimizer's launches, the loss's sync and the restart after it.
inline constexpr double kHostSecondsPerStep = 2.0e-3;
// The embedding's ops, and the final norm's, the head's and the loss's, each about half a layer's.
inline constexpr double kHostLayersForEmbedding = 0.5;
inline constexpr double kHostLayersForHead = 0.5;
// The host's seconds per c10d collective in our trainer (the work object, its events, the stream
// waits; 2 x H200, `meshwork-train --profile` of GPT-2 under tp 2: about 150 us each).
inline constexpr double kHostSecondsPerCollective = 150e-6;
// The loss over the logits in our trainer without tp (the whole model, or a pipeline's last
// stage), as bytes per 16-bit logit streamed at kHbmEfficiency (no eager factor on top), fitted
// on one H200 to `meshwork-kernel-check --bench` for GPT-2's 8192 x 50304 logits: the two
// kernels (kernels/cross_entropy.cu: the logits read forward and backward, the gradient
// written) 0.73 ms, where ATen's cross-entropy on an fp32 copy with its backward took 5.40 ms
// (44 bytes a logit). An fp32 logit costs twice the kernels' bytes.
inline constexpr double kFusedLossBytesPerLogit = 6.0;
// Our trainer keeps fp32 parameters and a flat fp32 gradient buffer (core/train/ParameterLayout.h)
// and autocasts, so every micro-batch streams each matmul weight whatever its tokens: the
// forward casts it to 16 bits (read 4, write 2 bytes), the backward casts its 16-bit gradient up
// (read 2, write 4) and adds it into the buffer (read 4 + 4, write 4). fp32 keeps the add alone.
// The embedding's lookup gradient is a dense fp32 table, zeroed and then added: 16 bytes.
// Fitted with kEagerEfficiency to the one-GPU runs (LLaMA-1B's 1.2 B parameters take about
// 8 ms a micro-batch at 2 x 2048 tokens, measured as 2 x (90.5 - x) = 160.7 - x). The whole
// model now adds the 16-bit gradient into the buffer in one kernel (core/train/AutocastWeight.h),
// 16 bytes by count. An A/B on one machine (docs/bench gpu-h200x4-dp-ab.txt call 2, three rounds)
// measured it 2.3% faster for GPT-2 and 2.0% for LLaMA-1B, where 16 bytes here predicts 4% for
// LLaMA-1B; refitted with 16 (kEagerEfficiency 0.83-0.84) the six runs and the pp splits, all
// measured again with the fusion, land further off (6.4% and 6.1% at worst) than with 24 and
// 0.85 (5.2% and 3.1%). So 24 stays, an effective traffic fitted with kEagerEfficiency.
inline constexpr double kCastBytesPerParam = 24.0;
inline constexpr double kFp32AddBytesPerParam = 12.0;
inline constexpr double kEmbeddingGradBytesPerParam = 16.0;

// --- communication -------------------------------------------------------------------------
// NCCL ring collectives reach this fraction of the link's datasheet bandwidth (nccl-tests
// bus bandwidth on DGX A100/H100: ~80% of NVLink, ~90% of InfiniBand line rate).
inline constexpr double kIntraNodeCommEfficiency = 0.80;
inline constexpr double kInterNodeCommEfficiency = 0.85;
inline constexpr double kCollectiveLatencyS = 15e-6;   // per collective (launch + ring setup)
inline constexpr double kP2pLatencyS = 10e-6;          // per pipeline send
// Share of the backward pass that hides data-parallel gradient reduction (bucketed
// all-reduce / reduce-scatter overlapped with the remaining backward, Li et al. 2020
// "PyTorch Distributed", Megatron --overlap-grad-reduce). Per-step reductions can hide
// under the last micro-batch's backward only; per-micro-batch ZeRO-3 traffic under all.
inline constexpr double kDpOverlap = 0.7;
// What a reduction hidden under the backward still costs our trainer (target meshwork), as a
// share of its own time: NCCL's kernels hold SMs and memory bandwidth that the backward's
// kernels then lack. Fitted on 2 x H200 with the embedding's rows gathered (docs/bench,
// 2026-11-28 call 3): 0.3 puts the dp 2 rows within 0.1% of the measured tokens/s per GPU
// against this model's own one-GPU figure, GPT-2 124M at 8 x 1024 (1.4 ms of reduction)
// and LLaMA-1B at 2 x 2048 (13.8 ms).
inline constexpr double kDpContention = 0.3;
// Our trainer (target meshwork) waits for its tensor-parallel all-reduces and its ZeRO-3
// gathers and reduce-scatters on the compute stream (core/train/dist/TpOps.cpp, Zero3.cpp):
// each such blocking collective stalls the step by this much beyond the ring model above
// (stream hand-over both ways, the NCCL kernel's launch, the two ranks' skew, and NCCL below
// its bus bandwidth at 10-30 MB). Set from meshwork-train on 2 x H200 (NVLink,
// scripts/gpu_dist_bench.sh), tp 2: GPT-2 124M B8 x T1024 measured 29.9 ms a step against
// 24.3 ms modelled without it over 52 blocking all-reduces (108 us each), LLaMA-1B B2 x T2048
// 72.7 ms against 66.2 ms over 68 (96 us each); checked on ZeRO-3 (dp 2) of both models.
inline constexpr double kBlockingCollectiveStallS = 100e-6;
// Share of tensor-parallel collectives hidden behind compute (0: Megatron's TP all-reduces
// sit on the critical path; overlap needs userbuffers/TE comm-GEMM overlap).
inline constexpr double kTpOverlap = 0.0;

// --- host offload ----------------------------------------------------------------------------
inline constexpr double kPcieGBps = 25.0;              // effective host<->device per GPU (PCIe 4 x16 ~25 GB/s)
inline constexpr double kCpuAdamParamsPerS = 1.0e9;    // DeepSpeed CPU-Adam rate per GPU's share of cores

// --- memory --------------------------------------------------------------------------------
inline constexpr double kCudaContextGiB = 0.5;         // CUDA context, cuBLAS/cuDNN handles and workspaces
inline constexpr double kNcclGiBPerGroup = 0.125;      // NCCL channel buffers per communicator in use
inline constexpr double kAllocatorReserveFraction = 0.05; // caching-allocator fragmentation share

} // namespace meshwork::calib
