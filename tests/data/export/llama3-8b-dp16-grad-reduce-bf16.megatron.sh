#!/bin/bash
# Megatron-LM pretrain_gpt.py for llama3-8b (8.03B parameters) on 2 nodes x 8 NVIDIA H100 SXM5 80GB = 16 GPUs.
# Plan: dp 16 x tp 1 x pp 1 x cp 1 = 16 GPUs, sp off, zero 1, recompute selective, micro-batch 1, global batch 64 (4 micro-batches per step), seq 8192, bf16, grad-reduce bf16, adamw.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama3-8b --gpu h100-sxm --nodes 2 --gpus-per-node 8 --dp 16 --tp 1 --pp 1 --zero 1 --recompute selective --micro-batch 1 --global-batch 64 --seq 8192 --precision bf16 --grad-reduce bf16 --optimizer adamw
# Not part of the plan: add data, tokenizer, learning rate and iterations as arguments to
# this script (e.g. --data-path ... --tokenizer-type ... --lr ... --train-iters ...).
# Not expressible in Megatron-LM: fp32 gradient accumulation with a bf16 reduction (--grad-reduce-in-bf16 makes the gradient buffer bf16: the 4 micro-batches of a step accumulate in bf16)
# Run it on each of the 2 nodes with NODE_RANK set (0 on the first) and MASTER_ADDR naming the first node.
set -euo pipefail

torchrun \
    --nnodes 2 \
    --nproc-per-node 8 \
    --node-rank "${NODE_RANK:-0}" \
    --master-addr "${MASTER_ADDR:-localhost}" \
    --master-port "${MASTER_PORT:-6000}" \
    pretrain_gpt.py \
    --num-layers 32 \
    --hidden-size 4096 \
    --num-attention-heads 32 \
    --group-query-attention \
    --num-query-groups 8 \
    --ffn-hidden-size 14336 \
    --swiglu \
    --normalization RMSNorm \
    --norm-epsilon 1e-05 \
    --position-embedding-type rope \
    --rotary-base 500000 \
    --untie-embeddings-and-output-weights \
    --disable-bias-linear \
    --attention-dropout 0.0 \
    --hidden-dropout 0.0 \
    --seq-length 8192 \
    --max-position-embeddings 8192 \
    --make-vocab-size-divisible-by 128 \
    --tensor-model-parallel-size 1 \
    --pipeline-model-parallel-size 1 \
    --context-parallel-size 1 \
    --use-distributed-optimizer \
    --overlap-grad-reduce \
    --overlap-param-gather \
    --recompute-granularity selective \
    --micro-batch-size 1 \
    --global-batch-size 64 \
    --bf16 \
    --grad-reduce-in-bf16 \
    --optimizer adam \
    "$@"
