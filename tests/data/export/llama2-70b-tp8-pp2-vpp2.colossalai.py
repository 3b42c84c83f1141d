# Colossal-AI for llama2-70b (69.0B parameters) on 8 nodes x 8 NVIDIA H100 SXM5 80GB = 64 GPUs.
# Plan: dp 4 x tp 8 x pp 2 x cp 1 = 64 GPUs, vpp 2, sp on, zero 1, recompute selective, micro-batch 1, global batch 512 (128 micro-batches per step), seq 4096, bf16, adamw.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama2-70b --gpu h100-sxm --nodes 8 --gpus-per-node 8 --dp 4 --tp 8 --pp 2 --vpp 2 --sp --zero 1 --recompute selective --micro-batch 1 --global-batch 512 --seq 4096 --precision bf16 --optimizer adamw
# Launch: colossalai run --nproc_per_node 8 --hostfile hostfile train.py   (8 nodes, listed in hostfile)
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
GLOBAL_BATCH = 512  # sequences per optimizer step
MICRO_BATCH = 1  # sequences per micro-batch per data-parallel rank
MICRO_BATCHES = 128  # per step per data-parallel rank
SEQ = 4096

colossalai.launch_from_torch()

plugin = HybridParallelPlugin(
    tp_size=8,
    pp_size=2,
    sp_size=1,
    enable_sequence_parallelism=True,
    sequence_parallelism_mode="split_gather",
    zero_stage=1,
    communication_dtype=torch.float32,
    microbatch_size=1,
    num_microbatches=128,
    pp_style="interleaved",
    num_model_chunks=2,
    precision="bf16",
    cpu_offload=False,
    dp_outside=False,
    enable_flash_attention=True,
)
booster = Booster(plugin=plugin)

# Parameters are materialised only after sharding (no full copy on any GPU).
with LazyInitContext(default_device=get_accelerator().get_current_device()):
    config = LlamaConfig(
        vocab_size=32000,
        hidden_size=8192,
        intermediate_size=28672,
        num_hidden_layers=80,
        num_attention_heads=64,
        num_key_value_heads=8,
        max_position_embeddings=4096,
        rms_norm_eps=1e-05,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        attention_bias=False,
    )
    model = LlamaForCausalLM(config)
optimizer = HybridAdam(model.parameters(), lr=LR, weight_decay=0.1, adamw_mode=True)
model, optimizer, _, _, _ = booster.boost(model, optimizer)


def train_step(batches):
    """One optimizer step; next(batches) is this data-parallel rank's share of the step,
    a dict of input_ids/labels of MICRO_BATCH x MICRO_BATCHES sequences of SEQ tokens."""
    # The pipeline schedule runs all micro-batches of the step.
    out = booster.execute_pipeline(batches, model, lambda outputs, inputs: outputs.loss,
                                   optimizer, return_loss=True)
    optimizer.step()
    optimizer.zero_grad()
    return out["loss"]
