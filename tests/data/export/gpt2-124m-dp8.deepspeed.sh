#!/bin/bash
# DeepSpeed for gpt2-124m (124M parameters) on 1 node x 8 NVIDIA H100 SXM5 80GB = 8 GPUs.
# Plan: dp 8 x tp 1 x pp 1 x cp 1 = 8 GPUs, sp off, zero 0, recompute none, micro-batch 4, global batch 64 (2 micro-batches per step), seq 1024, bf16, adamw.
# Written by Meshwork; the same plan: meshwork-cli plan --model gpt2-124m --gpu h100-sxm --nodes 1 --gpus-per-node 8 --dp 8 --tp 1 --pp 1 --micro-batch 4 --global-batch 64 --seq 1024 --precision bf16 --optimizer adamw
# train.py is yours: it calls deepspeed.initialize(args=args, model=model, model_parameters=...)
# with the model built from the dimensions above. The learning rate in the config is a placeholder.
set -euo pipefail

cat > ds_config.json <<'EOF'
{
  "train_batch_size": 64,
  "train_micro_batch_size_per_gpu": 4,
  "gradient_accumulation_steps": 2,
  "steps_per_print": 10,
  "bf16": {
    "enabled": true
  },
  "fp16": {
    "enabled": false
  },
  "communication_data_type": "fp32",
  "zero_optimization": {
    "stage": 0
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

deepspeed --num_nodes 1 --num_gpus 8 train.py --deepspeed --deepspeed_config ds_config.json "$@"
