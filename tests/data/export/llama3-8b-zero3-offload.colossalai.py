# Colossal-AI for llama3-8b (8.03B parameters) on 2 nodes x 8 NVIDIA A100 SXM4 80GB = 16 GPUs.
# Plan: dp 16 x tp 1 x pp 1 x cp 1 = 16 GPUs, sp off, zero 3, offload optimizer+params, recompute full, micro-batch 1, global batch 256 (16 micro-batches per step), seq 8192, fp16, lamb.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama3-8b --gpu a100-80gb --nodes 2 --gpus-per-node 8 --dp 16 --tp 1 --pp 1 --zero 3 --offload optimizer+params --recompute full --micro-batch 1 --global-batch 256 --seq 8192 --precision fp16 --optimizer lamb
# Launch: colossalai run --nproc_per_node 8 --hostfile hostfile train.py   (2 nodes, listed in hostfile)
# Not part of the plan: data and learning rate (LR below is a placeholder).
# Not expressible in Colossal-AI: grad-reduce fp32 with fp16 and zero 3 (GeminiPlugin reduces gradients in the parameters' type, fp16; communication_dtype applies to zero 1 and 2)
# Not expressible in Colossal-AI: the lamb optimizer with ZeRO-3 (GeminiPlugin steps HybridAdam only: HybridAdam is written)
import colossalai
import torch
from colossalai.accelerator import get_accelerator
from colossalai.booster import Booster
from colossalai.booster.plugin import GeminiPlugin
from colossalai.lazy import LazyInitContext
from colossalai.nn.optimizer import HybridAdam
from transformers import LlamaConfig, LlamaForCausalLM

LR = 3e-4
GLOBAL_BATCH = 256  # sequences per optimizer step
MICRO_BATCH = 1  # sequences per micro-batch per data-parallel rank
MICRO_BATCHES = 16  # per step per data-parallel rank
SEQ = 8192

colossalai.launch_from_torch()

plugin = GeminiPlugin(
    precision="fp16",
    placement_policy="static",
    offload_optim_frac=1.0,
    offload_param_frac=1.0,
    pin_memory=True,
    tp_size=1,
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
model.gradient_checkpointing_enable()  # recompute full
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
