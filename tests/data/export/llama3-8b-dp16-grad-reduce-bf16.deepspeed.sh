#!/bin/bash
# DeepSpeed for llama3-8b (8.03B parameters) on 2 nodes x 8 NVIDIA H100 SXM5 80GB = 16 GPUs.
# Plan: dp 16 x tp 1 x pp 1 x cp 1 = 16 GPUs, sp off, zero 1, recompute selective, micro-batch 1, global batch 64 (4 micro-batches per step), seq 8192, bf16, grad-reduce bf16, adamw.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama3-8b --gpu h100-sxm --nodes 2 --gpus-per-node 8 --dp 16 --tp 1 --pp 1 --zero 1 --recompute selective --micro-batch 1 --global-batch 64 --seq 8192 --precision bf16 --grad-reduce bf16 --optimizer adamw
# train.py is yours: it calls deepspeed.initialize(args=args, model=model, model_parameters=...)
# with the model built from the dimensions above. The learning rate in the config is a placeholder.
# Not expressible in DeepSpeed: recompute selective (attention-only recomputation is Megatron's; use flash attention, which keeps no attention scores)
set -euo pipefail

cat > ds_config.json <<'EOF'
{
  "train_batch_size": 64,
  "train_micro_batch_size_per_gpu": 1,
  "gradient_accumulation_steps": 4,
  "steps_per_print": 10,
  "bf16": {
    "enabled": true
  },
  "fp16": {
    "enabled": false
  },
  "communication_data_type": "bf16",
  "zero_optimization": {
    "stage": 1,
    "overlap_comm": true,
    "contiguous_gradients": true
  },
  "optimizer": {
    "type": "AdamW",
    "params": {
      "lr": 3e-04,
      "weight_decay": 0.1
    }
  },
  "gradient_clipping": 1
}
EOF

# hostfile: one line per node, e.g. "node0 slots=8".
deepspeed --num_nodes 2 --num_gpus 8 --hostfile hostfile train.py --deepspeed --deepspeed_config ds_config.json "$@"
