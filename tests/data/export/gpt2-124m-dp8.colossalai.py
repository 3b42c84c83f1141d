# Colossal-AI for gpt2-124m (124M parameters) on 1 node x 8 NVIDIA H100 SXM5 80GB = 8 GPUs.
# Plan: dp 8 x tp 1 x pp 1 x cp 1 = 8 GPUs, sp off, zero 0, recompute none, micro-batch 4, global batch 64 (2 micro-batches per step), seq 1024, bf16, adamw.
# Written by Meshwork; the same plan: meshwork-cli plan --model gpt2-124m --gpu h100-sxm --nodes 1 --gpus-per-node 8 --dp 8 --tp 1 --pp 1 --micro-batch 4 --global-batch 64 --seq 1024 --precision bf16 --optimizer adamw
# Launch: colossalai run --nproc_per_node 8 train.py   (1 node)
# Not part of the plan: data and learning rate (LR below is a placeholder).
# Not expressible in Colossal-AI: grad-reduce fp32 with bf16 and zero 0 (DDP reduces gradients in the parameters' type, bf16; communication_dtype applies to zero 1 and 2)
import colossalai
import torch
from colossalai.accelerator import get_accelerator
from colossalai.booster import Booster
from colossalai.booster.plugin import HybridParallelPlugin
from colossalai.lazy import LazyInitContext
from colossalai.nn.optimizer import HybridAdam
from transformers import GPT2Config, GPT2LMHeadModel

LR = 3e-4
GLOBAL_BATCH = 64  # sequences per optimizer step
MICRO_BATCH = 4  # sequences per micro-batch per data-parallel rank
MICRO_BATCHES = 2  # per step per data-parallel rank
SEQ = 1024

colossalai.launch_from_torch()

plugin = HybridParallelPlugin(
    tp_size=1,
    pp_size=1,
    sp_size=1,
    enable_sequence_parallelism=False,
    sequence_parallelism_mode=None,
    zero_stage=0,
    precision="bf16",
    cpu_offload=False,
    dp_outside=False,
    enable_flash_attention=True,
)
booster = Booster(plugin=plugin)

# Parameters are materialised only after sharding (no full copy on any GPU).
with LazyInitContext(default_device=get_accelerator().get_current_device()):
    config = GPT2Config(
        vocab_size=50257,
        n_positions=1024,
        n_embd=768,
        n_layer=12,
        n_head=12,
        n_inner=3072,
        layer_norm_epsilon=1e-05,
        tie_word_embeddings=True,
    )
    model = GPT2LMHeadModel(config)
optimizer = HybridAdam(model.parameters(), lr=LR, weight_decay=0.1, adamw_mode=True)
model, optimizer, _, _, _ = booster.boost(model, optimizer)


def train_step(batches):
    """One optimizer step; batches yields MICRO_BATCHES dicts of input_ids/labels of
    MICRO_BATCH sequences of SEQ tokens for this data-parallel rank."""
    total = 0.0
    for batch in batches:
        loss = model(**batch).loss / MICRO_BATCHES
        booster.backward(loss, optimizer)
        total += loss.item()
    optimizer.step()
    optimizer.zero_grad()
    return total
