#!/usr/bin/env bash
# Correctness of the distributed paths on GPUs with NCCL, where CI (CPU, Gloo) cannot look:
# every ZeRO stage, offload to pinned host memory, LAMB and LARS over shards, tensor and
# pipeline parallelism, a checkpoint and its resume, the fused AdamW kernel against the
# reference ops, ZeRO-3's overlapped backward, LAMB over ZeRO-3, bf16 gradient reduction and
# ZeRO-1/2's parameter gather during the forward against one after the step.
# Prints one line per run: status, first and last loss, peak memory.
#
#   TRAIN=build-gpu-dist/bin/meshwork-train OUT=/tmp/checks scripts/gpu_dist_checks.sh
#   ONLY='zero2|^zero1-dp2$' TRAIN=... scripts/gpu_dist_checks.sh     # the runs whose names match
#
# GPT-2 124M, micro-batch 4 x 1024, bf16, 12 steps. Runs that train the same batches from the
# same seed (dp2 under ZeRO 0-3 and offload) must agree on their losses to bf16 noise; the
# table shows how closely.
set -uo pipefail
export NCCL_NVLS_ENABLE=0
OUT=${OUT:-/tmp/gpu-dist-checks}
TRAIN=${TRAIN:?set TRAIN to a CUDA build of meshwork-train}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
# MODEL_ARGS and DEVICE let the script itself be tried on a CPU (gpt-nano, fp32, cpu).
A="${MODEL_ARGS:---model gpt2-124m --seq 1024 --micro-batch 4 --precision bf16} --steps 12 --data synthetic --eval-batches 1 --device ${DEVICE:-cuda}"

# ranks NAME N ARGS...: N ranks with torchrun's variables; the first failure stops the others.
ranks() {
  local name=$1 n=$2; shift 2
  [[ -z "${ONLY:-}" || "$name" =~ $ONLY ]] || return 0
  # Below 32768: the ports the system hands out to connections start there (a taken port
  # failed one run of 2026-11-27 with "failed to listen").
  local dir="$OUT/$name" port=$((20000 + RANDOM % 12000)) pids=()
  mkdir -p "$dir"
  for ((r = 0; r < n; r++)); do
    RANK=$r LOCAL_RANK=$r WORLD_SIZE=$n LOCAL_WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      "$TRAIN" $A "$@" --events "$dir/events.rank$r.jsonl" --collective-timeout 120 > "$dir/rank$r.log" 2>&1 &
    pids+=($!)
  done
  local rc=0
  for ((k = 0; k < n; k++)); do wait -n || { rc=1; kill "${pids[@]}" 2>/dev/null; }; done
  echo "$rc" > "$dir/rc"
}

ranks single 1
MESHWORK_UNFUSED_ADAMW=1 ranks single-unfused-adamw 1
# The fused cross-entropy kernel against ATen's cross-entropy, in each precision (fp16 with its
# loss scale in the kernel's backward): the same losses to the precision's noise.
MESHWORK_UNFUSED_LOSS=1 ranks single-unfused-loss 1
ranks single-fp32 1 --precision fp32
MESHWORK_UNFUSED_LOSS=1 ranks single-fp32-unfused-loss 1 --precision fp32
ranks dp2 2 --dp 2
ranks zero1-dp2 2 --dp 2 --zero 1
ranks zero2-dp2 2 --dp 2 --zero 2
ranks zero3-dp2 2 --dp 2 --zero 3
ranks zero2-offload-dp2 2 --dp 2 --zero 2 --offload optimizer --offload-fraction 0.5
ranks zero3-offload-params-dp2 2 --dp 2 --zero 3 --offload optimizer+params --offload-fraction 1
ranks lamb-zero2-dp2 2 --dp 2 --zero 2 --optimizer lamb
# The embedding's lookup gradient: dp2, zero1-dp2 and zero2-dp2 gather it as rows (the default
# at this batch); this run all-reduces it dense. All agree.
ranks dp2-embedding-dense 2 --dp 2 --embedding-grad dense
# The gradient-accumulation fusion (AutocastWeight.h) against autocast's cast: the same sums,
# so the losses of dp2 (and, with accumulation, of dp2-gb16).
MESHWORK_UNFUSED_GRAD_ACCUM=1 ranks dp2-unfused-grad-accum 2 --dp 2
MESHWORK_UNFUSED_GRAD_ACCUM=1 ranks dp2-gb16-unfused-grad-accum 2 --dp 2 --global-batch 16
# ZeRO-1/2's updated shards in one all-gather after the step, against the default broadcasts
# during the next forward (zero1-dp2, zero2-dp2): the same losses.
ranks zero1-dp2-gather-blocking 2 --dp 2 --zero 1 --param-gather blocking
ranks zero2-dp2-gather-blocking 2 --dp 2 --zero 2 --param-gather blocking
ranks lamb-dp1 1 --global-batch 8 --optimizer lamb
ranks lars-tp2 2 --tp 2 --optimizer lars --lr 0.01
ranks tp2-sp 2 --tp 2 --sp
# ParallelModel's fused gradient accumulation against autocast's cast (tp2-sp; pp2-vpp2 ran
# fused in docs/bench/gpu-h200x4-dp-ab.txt call 5, and keeps autocast's cast since).
MESHWORK_UNFUSED_GRAD_ACCUM=1 ranks tp2-sp-unfused-grad-accum 2 --tp 2 --sp
ranks pp2-vpp2 2 --pp 2 --vpp 2 --global-batch 16
# Uneven stages (--stage-layers), plain and interleaved: the same batches as pp2-vpp2, the same losses.
ranks pp2-stage-layers 2 --pp 2 --stage-layers 8,4 --global-batch 16
ranks pp2-vpp2-stage-layers 2 --pp 2 --vpp 2 --stage-layers 4,3,3,2 --global-batch 16
# The last stage's loss in ATen's cross-entropy against the loss kernels (pp2-vpp2).
MESHWORK_UNFUSED_LOSS=1 ranks pp2-vpp2-unfused-loss 2 --pp 2 --vpp 2 --global-batch 16
# In fp32 the two losses differ by rounding alone (bf16 rows drift apart over the steps).
ranks pp2-vpp2-fp32 2 --pp 2 --vpp 2 --global-batch 16 --precision fp32
MESHWORK_UNFUSED_LOSS=1 ranks pp2-vpp2-fp32-unfused-loss 2 --pp 2 --vpp 2 --global-batch 16 --precision fp32
# ZeRO-3's overlapped backward (reduce-scatters in flight across units and micro-batches, the
# next unit prefetched) against plain dp with the same accumulation; LAMB over ZeRO-3 shards
# against LAMB over ZeRO-2 slices; bf16 gradient reduction against fp32 (bf16 noise apart).
ranks dp2-gb16 2 --dp 2 --global-batch 16
ranks zero3-dp2-gb16 2 --dp 2 --zero 3 --global-batch 16
ranks lamb-zero3-dp2 2 --dp 2 --zero 3 --optimizer lamb
ranks dp2-bf16reduce 2 --dp 2 --grad-reduce bf16
ranks zero2-dp2-bf16reduce 2 --dp 2 --zero 2 --grad-reduce bf16
ranks zero3-dp2-bf16reduce 2 --dp 2 --zero 3 --grad-reduce bf16
# fp16 with dynamic loss scaling (LossScale.h) in each kind of loop: the losses must follow the
# bf16 runs' and no step may fail.
ranks fp16-single 1 --precision fp16 --global-batch 8
MESHWORK_UNFUSED_LOSS=1 ranks fp16-single-unfused-loss 1 --precision fp16 --global-batch 8
ranks fp16-dp2 2 --dp 2 --precision fp16
ranks fp16-zero2-dp2 2 --dp 2 --zero 2 --precision fp16
# ZeRO-2 keeps its shard's gradients alone and reduces after each of the 4 micro-batches; ZeRO-1
# accumulates them and reduces once: the same batches, the same losses to bf16 noise.
ranks zero1-dp2-ga4 2 --dp 2 --zero 1 --global-batch 32
ranks zero2-dp2-ga4 2 --dp 2 --zero 2 --global-batch 32
ranks zero2-offload-dp2-ga4 2 --dp 2 --zero 2 --global-batch 32 --offload optimizer --offload-fraction 0.5
ranks fp16-zero3-dp2 2 --dp 2 --zero 3 --precision fp16
ranks fp16-pp2 2 --pp 2 --global-batch 8 --precision fp16
MESHWORK_UNFUSED_LOSS=1 ranks fp16-pp2-unfused-loss 2 --pp 2 --global-batch 8 --precision fp16
ranks fp16-tp2 2 --tp 2 --precision fp16
# Checkpoints at steps 6 and 12; the one of step 12 removed, a resumed run from step 6 must
# repeat steps 7-12 of the straight zero1-dp2 run above.
ranks ckpt-first 2 --dp 2 --zero 1 --checkpoint-every 6 --checkpoint-dir "$OUT/ckpt" --run-id ckpt
rm -rf "$OUT"/ckpt/*00000012*
ranks ckpt-resumed 2 --dp 2 --zero 1 --checkpoint-dir "$OUT/ckpt" --resume --run-id ckpt

"$PY" - "$OUT" <<'PYEOF'
import json, os, sys, glob
out = sys.argv[1]
def load(name):
    f = os.path.join(out, name, "events.rank0.jsonl")
    ev = []
    if os.path.exists(f):
        for line in open(f):
            try: ev.append(json.loads(line))
            except Exception: pass
    return ev
print(f"{'run':26} {'rc':>2} {'end':10} {'steps':>5} {'loss first':>10} {'loss last':>10} {'peak GiB':>8}  note")
ref = {e["step"]: e["loss"] for e in load("zero1-dp2") if e.get("event") == "step"}
for d in sorted(os.listdir(out)):
    if not os.path.isdir(os.path.join(out, d)) or d == "ckpt": continue
    ev = load(d)
    steps = [e for e in ev if e.get("event") == "step"]
    end = next((e.get("status") for e in ev if e.get("event") == "run_end"), "-")
    err = next((e.get("message", "")[:150] for e in ev if e.get("event") == "error"), "")
    rc = open(os.path.join(out, d, "rc")).read().strip() if os.path.exists(os.path.join(out, d, "rc")) else "?"
    note = err
    if d.endswith("-unfused-loss") and steps:
        fused = {e["step"]: e["loss"] for e in load(d[: -len("-unfused-loss")]) if e.get("event") == "step"}
        diffs = [abs(e["loss"] - fused[e["step"]]) / abs(e["loss"]) for e in steps if e["step"] in fused]
        note = f"max relative |loss - fused kernel's| {max(diffs):.2e} over {len(diffs)} steps" if diffs else "no fused run"
    if d == "ckpt-resumed" and steps:
        diffs = [abs(e["loss"] - ref[e["step"]]) for e in steps if e["step"] in ref]
        note = f"first step {steps[0]['step']}; max |loss - straight zero1-dp2| {max(diffs):.2e}" if diffs else "no overlap"
    if not steps:
        print(f"{d:26} {rc:>2} {end:10} {0:>5} {'-':>10} {'-':>10} {'-':>8}  {note}"); continue
    peak = max(e.get("mem_peak_gib", 0) for e in steps)
    print(f"{d:26} {rc:>2} {end:10} {len(steps):>5} {steps[0]['loss']:10.4f} {steps[-1]['loss']:10.4f} {peak:8.2f}  {note}")
PYEOF
