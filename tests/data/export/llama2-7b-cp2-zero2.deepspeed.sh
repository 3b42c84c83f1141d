#!/bin/bash
# DeepSpeed for llama2-7b (6.74B parameters) on 1 node x 8 NVIDIA H100 SXM5 80GB = 8 GPUs.
# Plan: dp 2 x tp 2 x pp 1 x cp 2 = 8 GPUs, sp off, zero 2, offload optimizer (50%), recompute none, micro-batch 2, global batch 16 (4 micro-batches per step), seq 4096, fp32, sgd.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama2-7b --gpu h100-sxm --nodes 1 --gpus-per-node 8 --dp 2 --tp 2 --pp 1 --cp 2 --zero 2 --offload optimizer --offload-fraction 0.5 --micro-batch 2 --global-batch 16 --seq 4096 --precision fp32 --optimizer sgd --order tp-cp-pp-dp
# train.py is yours: it calls deepspeed.initialize(args=args, model=model, model_parameters=...)
# with the model built from the dimensions above. The learning rate in the config is a placeholder.
# Not expressible in DeepSpeed: the sgd optimizer on the CPU (offload_optimizer steps DeepSpeedCPUAdam: Adam/AdamW only)
# Not expressible in DeepSpeed: tp 2 (tensor and pipeline parallelism need Megatron-DeepSpeed: --tensor-model-parallel-size 2)
# Not expressible in DeepSpeed: cp 2 (DeepSpeed-Ulysses splits the sequence instead: Megatron-DeepSpeed --ds-sequence-parallel-size 2)
# Not expressible in DeepSpeed: rank order tp-cp-pp-dp
set -euo pipefail

cat > ds_config.json <<'EOF'
{
  "train_batch_size": 16,
  "train_micro_batch_size_per_gpu": 2,
  "gradient_accumulation_steps": 4,
  "steps_per_print": 10,
  "bf16": {
    "enabled": false
  },
  "fp16": {
    "enabled": false
  },
  "communication_data_type": "fp32",
  "zero_optimization": {
    "stage": 2,
    "overlap_comm": true,
    "contiguous_gradients": true,
    "offload_optimizer": {
      "device": "cpu",
      "pin_memory": true,
      "ratio": 0.5
    }
  },
  "optimizer": {
    "type": "SGD",
    "params": {
      "lr": 3e-04
    }
  },
  "gradient_clipping": 1
}
EOF

deepspeed --num_nodes 1 --num_gpus 8 train.py --deepspeed --deepspeed_config ds_config.json "$@"
