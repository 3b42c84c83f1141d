# Colossal-AI for llama2-7b (6.74B parameters) on 1 node x 8 NVIDIA H100 SXM5 80GB = 8 GPUs.
# Plan: dp 2 x tp 2 x pp 1 x cp 2 = 8 GPUs, sp off, zero 2, offload optimizer (50%), recompute none, micro-batch 2, global batch 16 (4 micro-batches per step), seq 4096, fp32, sgd.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama2-7b --gpu h100-sxm --nodes 1 --gpus-per-node 8 --dp 2 --tp 2 --pp 1 --cp 2 --zero 2 --offload optimizer --offload-fraction 0.5 --micro-batch 2 --global-batch 16 --seq 4096 --precision fp32 --optimizer sgd --order tp-cp-pp-dp
# Launch: colossalai run --nproc_per_node 8 train.py   (1 node)
# Not part of the plan: data and learning rate (LR below is a placeholder).
# Not expressible in Colossal-AI: offload-fraction 0.5 (ZeRO cpu_offload is all or nothing)
import colossalai
import torch
from colossalai.accelerator import get_accelerator
from colossalai.booster import Booster
from colossalai.booster.plugin import HybridParallelPlugin
from colossalai.lazy import LazyInitContext
from torch.optim import SGD
from transformers import LlamaConfig, LlamaForCausalLM

LR = 3e-4
GLOBAL_BATCH = 16  # sequences per optimizer step
MICRO_BATCH = 2  # sequences per micro-batch per data-parallel rank
MICRO_BATCHES = 4  # per step per data-parallel rank
SEQ = 4096

colossalai.launch_from_torch()

plugin = HybridParallelPlugin(
    tp_size=2,
    pp_size=1,
    sp_size=2,
    enable_sequence_parallelism=True,
    sequence_parallelism_mode="ring_attn",
    zero_stage=2,
    communication_dtype=torch.float32,
    precision="fp32",
    cpu_offload=True,
    dp_outside=True,
    enable_flash_attention=True,
)
booster = Booster(plugin=plugin)

# Parameters are materialised only after sharding (no full copy on any GPU).
with LazyInitContext(default_device=get_accelerator().get_current_device()):
    config = LlamaConfig(
        vocab_size=32000,
        hidden_size=4096,
        intermediate_size=11008,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=32,
        max_position_embeddings=4096,
        rms_norm_eps=1e-05,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        attention_bias=False,
    )
    model = LlamaForCausalLM(config)
optimizer = SGD(model.parameters(), lr=LR, momentum=0.9)
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
