#!/bin/bash
# Megatron-LM pretrain_gpt.py for llama2-70b (69.0B parameters) on 8 nodes x 8 NVIDIA H100 SXM5 80GB = 64 GPUs.
# Plan: dp 4 x tp 8 x pp 2 x cp 1 = 64 GPUs, vpp 2, sp on, zero 1, recompute selective, micro-batch 1, global batch 512 (128 micro-batches per step), seq 4096, bf16, adamw.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama2-70b --gpu h100-sxm --nodes 8 --gpus-per-node 8 --dp 4 --tp 8 --pp 2 --vpp 2 --sp --zero 1 --recompute selective --micro-batch 1 --global-batch 512 --seq 4096 --precision bf16 --optimizer adamw
# Not part of the plan: add data, tokenizer, learning rate and iterations as arguments to
# this script (e.g. --data-path ... --tokenizer-type ... --lr ... --train-iters ...).
# Run it on each of the 8 nodes with NODE_RANK set (0 on the first) and MASTER_ADDR naming the first node.
set -euo pipefail
# Tensor/context-parallel communication overlaps compute only with one hardware queue.
export CUDA_DEVICE_MAX_CONNECTIONS=1

torchrun \
    --nnodes 8 \
    --nproc-per-node 8 \
    --node-rank "${NODE_RANK:-0}" \
    --master-addr "${MASTER_ADDR:-localhost}" \
    --master-port "${MASTER_PORT:-6000}" \
    pretrain_gpt.py \
    --num-layers 80 \
    --hidden-size 8192 \
    --num-attention-heads 64 \
    --group-query-attention \
    --num-query-groups 8 \
    --ffn-hidden-size 28672 \
    --swiglu \
    --normalization RMSNorm \
    --norm-epsilon 1e-05 \
    --position-embedding-type rope \
    --rotary-base 10000 \
    --untie-embeddings-and-output-weights \
    --disable-bias-linear \
    --attention-dropout 0.0 \
    --hidden-dropout 0.0 \
    --seq-length 4096 \
    --max-position-embeddings 4096 \
    --make-vocab-size-divisible-by 128 \
    --tensor-model-parallel-size 8 \
    --pipeline-model-parallel-size 2 \
    --num-layers-per-virtual-pipeline-stage 20 \
    --context-parallel-size 1 \
    --sequence-parallel \
    --use-distributed-optimizer \
    --overlap-grad-reduce \
    --overlap-param-gather \
    --recompute-granularity selective \
    --micro-batch-size 1 \
    --global-batch-size 512 \
    --bf16 \
    --optimizer adam \
    "$@"
