#!/bin/bash
# DeepSpeed for llama3-8b (8.03B parameters) on 2 nodes x 8 NVIDIA A100 SXM4 80GB = 16 GPUs.
# Plan: dp 16 x tp 1 x pp 1 x cp 1 = 16 GPUs, sp off, zero 3, offload optimizer+params, recompute full, micro-batch 1, global batch 256 (16 micro-batches per step), seq 8192, fp16, lamb.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama3-8b --gpu a100-80gb --nodes 2 --gpus-per-node 8 --dp 16 --tp 1 --pp 1 --zero 3 --offload optimizer+params --recompute full --micro-batch 1 --global-batch 256 --seq 8192 --precision fp16 --optimizer lamb
# train.py is yours: it calls deepspeed.initialize(args=args, model=model, model_parameters=...)
# with the model built from the dimensions above. The learning rate in the config is a placeholder.
# Not expressible in DeepSpeed: LAMB's per-layer trust ratio under ZeRO (each rank computes it on its shard)
# Not expressible in DeepSpeed: the lamb optimizer on the CPU (offload_optimizer steps DeepSpeedCPUAdam: Adam/AdamW only)
# Not expressible in DeepSpeed: recompute full in the config (wrap each block of train.py's model in deepspeed.checkpointing.checkpoint)
set -euo pipefail

cat > ds_config.json <<'EOF'
{
  "train_batch_size": 256,
  "train_micro_batch_size_per_gpu": 1,
  "gradient_accumulation_steps": 16,
  "steps_per_print": 10,
  "bf16": {
    "enabled": false
  },
  "fp16": {
    "enabled": true,
    "loss_scale": 0,
    "initial_scale_power": 16,
    "loss_scale_window": 1000,
    "hysteresis": 2,
    "min_loss_scale": 1
  },
  "communication_data_type": "fp32",
  "zero_optimization": {
    "stage": 3,
    "overlap_comm": true,
    "contiguous_gradients": true,
    "offload_optimizer": {
      "device": "cpu",
      "pin_memory": true
    },
    "offload_param": {
      "device": "cpu",
      "pin_memory": true
    }
  },
  "optimizer": {
    "type": "Lamb",
    "params": {
      "lr": 3e-04,
      "weight_decay": 0.1
    }
  },
  "zero_allow_untested_optimizer": true,
  "gradient_clipping": 1
}
EOF

# hostfile: one line per node, e.g. "node0 slots=8".
deepspeed --num_nodes 2 --num_gpus 8 --hostfile hostfile train.py --deepspeed --deepspeed_config ds_config.json "$@"
