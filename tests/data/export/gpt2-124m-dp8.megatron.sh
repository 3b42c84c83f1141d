#!/bin/bash
# Megatron-LM pretrain_gpt.py for gpt2-124m (124M parameters) on 1 node x 8 NVIDIA H100 SXM5 80GB = 8 GPUs.
# Plan: dp 8 x tp 1 x pp 1 x cp 1 = 8 GPUs, sp off, zero 0, recompute none, micro-batch 4, global batch 64 (2 micro-batches per step), seq 1024, bf16, adamw.
# Written by Meshwork; the same plan: meshwork-cli plan --model gpt2-124m --gpu h100-sxm --nodes 1 --gpus-per-node 8 --dp 8 --tp 1 --pp 1 --micro-batch 4 --global-batch 64 --seq 1024 --precision bf16 --optimizer adamw
# Not part of the plan: add data, tokenizer, learning rate and iterations as arguments to
# this script (e.g. --data-path ... --tokenizer-type ... --lr ... --train-iters ...).
set -euo pipefail

torchrun \
    --nnodes 1 \
    --nproc-per-node 8 \
    --node-rank "${NODE_RANK:-0}" \
    --master-addr "${MASTER_ADDR:-localhost}" \
    --master-port "${MASTER_PORT:-6000}" \
    pretrain_gpt.py \
    --num-layers 12 \
    --hidden-size 768 \
    --num-attention-heads 12 \
    --ffn-hidden-size 3072 \
    --normalization LayerNorm \
    --norm-epsilon 1e-05 \
    --position-embedding-type learned_absolute \
    --attention-dropout 0.0 \
    --hidden-dropout 0.0 \
    --seq-length 1024 \
    --max-position-embeddings 1024 \
    --make-vocab-size-divisible-by 128 \
    --tensor-model-parallel-size 1 \
    --pipeline-model-parallel-size 1 \
    --context-parallel-size 1 \
    --overlap-grad-reduce \
    --micro-batch-size 4 \
    --global-batch-size 64 \
    --bf16 \
    --optimizer adam \
    "$@"
