#!/bin/bash
# Megatron-LM pretrain_gpt.py for llama2-7b (6.74B parameters) on 1 node x 8 NVIDIA H100 SXM5 80GB = 8 GPUs.
# Plan: dp 2 x tp 2 x pp 1 x cp 2 = 8 GPUs, sp off, zero 2, offload optimizer (50%), recompute none, micro-batch 2, global batch 16 (4 micro-batches per step), seq 4096, fp32, sgd.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama2-7b --gpu h100-sxm --nodes 1 --gpus-per-node 8 --dp 2 --tp 2 --pp 1 --cp 2 --zero 2 --offload optimizer --offload-fraction 0.5 --micro-batch 2 --global-batch 16 --seq 4096 --precision fp32 --optimizer sgd --order tp-cp-pp-dp
# Not part of the plan: add data, tokenizer, learning rate and iterations as arguments to
# this script (e.g. --data-path ... --tokenizer-type ... --lr ... --train-iters ...).
set -euo pipefail
# Tensor/context-parallel communication overlaps compute only with one hardware queue.
export CUDA_DEVICE_MAX_CONNECTIONS=1

torchrun \
    --nnodes 1 \
    --nproc-per-node 8 \
    --node-rank "${NODE_RANK:-0}" \
    --master-addr "${MASTER_ADDR:-localhost}" \
    --master-port "${MASTER_PORT:-6000}" \
    pretrain_gpt.py \
    --num-layers 32 \
    --hidden-size 4096 \
    --num-attention-heads 32 \
    --ffn-hidden-size 11008 \
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
    --tensor-model-parallel-size 2 \
    --pipeline-model-parallel-size 1 \
    --context-parallel-size 2 \
    --use-tp-pp-dp-mapping \
    --use-distributed-optimizer \
    --overlap-grad-reduce \
    --overlap-param-gather \
    --optimizer-cpu-offload \
    --optimizer-offload-fraction 0.5 \
    --use-precision-aware-optimizer \
    --micro-batch-size 2 \
    --global-batch-size 16 \
    --optimizer sgd \
    "$@"
