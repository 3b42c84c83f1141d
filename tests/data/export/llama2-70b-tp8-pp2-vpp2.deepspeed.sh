#!/bin/bash
# DeepSpeed for llama2-70b (69.0B parameters) on 8 nodes x 8 NVIDIA H100 SXM5 80GB = 64 GPUs.
# Plan: dp 4 x tp 8 x pp 2 x cp 1 = 64 GPUs, vpp 2, sp on, zero 1, recompute selective, micro-batch 1, global batch 512 (128 micro-batches per step), seq 4096, bf16, adamw.
# Written by Meshwork; the same plan: meshwork-cli plan --model llama2-70b --gpu h100-sxm --nodes 8 --gpus-per-node 8 --dp 4 --tp 8 --pp 2 --vpp 2 --sp --zero 1 --recompute selective --micro-batch 1 --global-batch 512 --seq 4096 --precision bf16 --optimizer adamw
# train.py is yours: it calls deepspeed.initialize(args=args, model=model, model_parameters=...)
# with the model built from the dimensions above. The learning rate in the config is a placeholder.
# Not expressible in DeepSpeed: tp 8 and pp 2 (tensor and pipeline parallelism need Megatron-DeepSpeed: --tensor-model-parallel-size 8 --pipeline-model-parallel-size 2)
# Not expressible in DeepSpeed: vpp 2 (DeepSpeed's pipeline has no interleaved schedule)
# Not expressible in DeepSpeed: sp (Megatron sequence parallelism: Megatron-DeepSpeed --sequence-parallel)
# Not expressible in DeepSpeed: recompute selective (attention-only recomputation is Megatron's; use flash attention, which keeps no attention scores)
set -euo pipefail

cat > ds_config.json <<'EOF'
{
  "train_batch_size": 512,
  "train_micro_batch_size_per_gpu": 1,
  "gradient_accumulation_steps": 128,
  "steps_per_print": 10,
  "bf16": {
    "enabled": true
  },
  "fp16": {
    "enabled": false
  },
  "communication_data_type": "fp32",
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
deepspeed --num_nodes 8 --num_gpus 8 --hostfile hostfile train.py --deepspeed --deepspeed_config ds_config.json "$@"
