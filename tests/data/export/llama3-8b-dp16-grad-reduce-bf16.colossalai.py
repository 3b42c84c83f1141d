# Colossal-AI for llama3-8b (8.03B parameters) on 2 nodes x 8 NVIDIA H100 SXM5 80GB = 16 GPUs.
# Plan: dp 16 x tp 1 x pp 1 x cp 1 = 16 GPUs, sp off, zero 1, recompute selective, micro-batch 1, global batch 64 (4 micro-batches per step), seq 8192, bf16, grad-reduce bf16, adamw.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama3-8b --gpu h100-sxm --nodes 2 --gpus-per-node 8 --dp 16 --tp 1 --pp 1 --zero 1 --recompute selective --micro-batch 1 --global-batch 64 --seq 8192 --precision bf16 --grad-reduce bf16 --optimizer adamw
# Launch: colossalai run --nproc_per_node 8 --hostfile hostfile train.py   (2 nodes, listed in hostfile)
# Not part of the plan: data and learning rate (LR below is a placeholder).
# Not expressible in Colossal-AI: recompute selective (flash attention, enabled, already keeps no attention scores)
import colossalai
import torch
from colossalai.accelerator import get_accelerator
from colossalai.booster import Booster
from colossalai.booster.plugin import HybridParallelPlugin
from colossalai.lazy import LazyInitContext
from colossalai.nn.optimizer import HybridAdam
from transformers import LlamaConfig, LlamaForCausalLM

LR = 3e-4
GLOBAL_BATCH = 64  # sequences per optimizer step
MICRO_BATCH = 1  # sequences per micro-batch per data-parallel rank
MICRO_BATCHES = 4  # per step per data-parallel rank
SEQ = 8192

colossalai.launch_from_torch()

plugin = HybridParallelPlugin(
    tp_size=1,
    pp_size=1,
    sp_size=1,
    enable_sequence_parallelism=False,
    sequence_parallelism_mode=None,
    zero_stage=1,
    communication_dtype=torch.bfloat16,
    precision="bf16",
    cpu_offload=False,
    dp_outside=False,
    enable_flash_attention=True,
)
booster = Booster(plugin=plugin)

# Parameters are materialised only after sharding (no full copy on any GPU).
with LazyInitContext(default_device=get_accelerator().get_current_device()):
    config = LlamaConfig(
        vocab_size=128256,
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=8,
        max_position_embeddings=8192,
        rms_norm_eps=1e-05,
        rope_theta=500000.0,
        tie_word_embeddings=False,
        attention_bias=False,
    )
    model = LlamaForCausalLM(config)
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
