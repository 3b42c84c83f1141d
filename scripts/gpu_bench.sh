#!/usr/bin/env bash
# Builds meshwork-train with CUDA and measures it on one GPU beside the PyTorch peer
# (.peers/gpt2_torch.py, eager and torch.compile) in the same call, so every figure comes
# from the same card. Needs: CMake, Ninja, nvcc, a python3 with a CUDA build of PyTorch.
#
#   OUT=/some/dir scripts/gpu_bench.sh          # everything lands under $OUT
#
# Environment: OUT (default ./gpu-bench-out), BUILD (default build-gpu), MESHWORK_PYTHON
# (default python3), GPT2_STEPS (60), LLAMA_STEPS (30), LLAMA_BATCH (4), LLAMA_SEQ (2048),
# SKIP_PEERS=1 to skip the PyTorch peer runs.
# CHECKS=0 skips the short runs that exercise fp16 loss scaling, recomputation and the OOM path.
# Files: build.log, gpt2-124m.jsonl, llama-1b.jsonl, stderr.log, peer-eager.txt, peer-compile.txt,
# summary.txt
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-bench-out}
BUILD=${BUILD:-build-gpu}
PY=${MESHWORK_PYTHON:-python3}
mkdir -p "$OUT"
summary="$OUT/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

say "== $(date -u +%FT%TZ) on $(hostname)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$summary"
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 | tee -a "$summary"

# --- build -----------------------------------------------------------------------------
start=$(date +%s)
{
  cmake -S . -B "$BUILD" -G Ninja -DMESHWORK_GUI=OFF -DMESHWORK_CUDA=ON -DBUILD_TESTING=OFF \
        -DMESHWORK_PYTHON="$PY" -DCMAKE_BUILD_TYPE=Release &&
  ninja -C "$BUILD" meshwork-train
} > "$OUT/build.log" 2>&1
rc=$?
say "build: exit $rc in $(( $(date +%s) - start )) s (log: build.log)"
if [ $rc -ne 0 ]; then tail -40 "$OUT/build.log"; exit 1; fi
TRAIN="$BUILD/bin/meshwork-train"

# Steady state: the median of tokens/s over the steps after the first 10 (warm-up, cuDNN and
# allocator settling); peak memory from the allocator's peak over the whole run.
report() {
  "$PY" - "$1" "$2" <<'PY' | tee -a "$summary"
import json, statistics, sys
path, label = sys.argv[1], sys.argv[2]
ev = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
steps = [e for e in ev if e.get("event") == "step"]
errors = [e for e in ev if e.get("event") == "error"]
end = [e for e in ev if e.get("event") == "run_end"]
start = next((e for e in ev if e.get("event") == "run_start"), {})
if errors:
    print(f"{label}: ERROR {errors[-1]}")
if len(steps) < 12:
    print(f"{label}: only {len(steps)} steps; run_end {end}")
    sys.exit(0)
warm = steps[10:]
tps = statistics.median(s["tokens_per_s"] for s in warm)
ms = statistics.median(s["step_ms"] for s in warm)
tfl = statistics.median(s["tflops"] for s in warm)
mfu = statistics.median(s["mfu"] for s in warm)
peak = max(s["mem_peak_gib"] for s in steps)
print(f"{label}: {tps:,.0f} tokens/s (median of steps 11-{len(steps)}), {ms:.1f} ms/step, "
      f"{tfl:.1f} TFLOPS/GPU, MFU {mfu:.1%}, peak memory {peak:.2f} GiB; "
      f"loss {steps[0]['loss']:.3f} -> {steps[-1]['loss']:.3f}; gpu {start.get('gpu')}, "
      f"params {start.get('parameters')}, status {end[-1]['status'] if end else '?'}")
PY
}

# --- meshwork-train: GPT-2 124M, batch 16 x 1024, bf16 ---------------------------------------
"$TRAIN" --model gpt2-124m --device cuda --precision bf16 --micro-batch 16 --seq 1024 \
  --steps "${GPT2_STEPS:-60}" --data synthetic --lr 6e-4 --warmup 10 --eval-batches 2 \
  --events "$OUT/gpt2-124m.jsonl" --run-id gpt2-124m-bench > /dev/null 2>> "$OUT/stderr.log"
say "meshwork-train gpt2-124m exit $?"
report "$OUT/gpt2-124m.jsonl" "meshwork-train gpt2-124m B=16 T=1024 bf16"

# --- meshwork-train: LLaMA-style 1B (catalog llama-1b), bf16 ------------------------------------
"$TRAIN" --model llama-1b --device cuda --precision bf16 --micro-batch "${LLAMA_BATCH:-4}" \
  --seq "${LLAMA_SEQ:-2048}" --steps "${LLAMA_STEPS:-30}" --data synthetic --lr 3e-4 --warmup 5 \
  --eval-batches 1 --events "$OUT/llama-1b.jsonl" --run-id llama-1b-bench > /dev/null 2>> "$OUT/stderr.log"
say "meshwork-train llama-1b exit $?"
report "$OUT/llama-1b.jsonl" "meshwork-train llama-1b B=${LLAMA_BATCH:-4} T=${LLAMA_SEQ:-2048} bf16"

# --- short runs through the other code paths: fp16 with dynamic loss scaling, selective and
# full recomputation (less memory, more time), and a deliberate out-of-memory that must end
# in an `error` event of kind oom with the allocator's figures.
if [ "${CHECKS:-1}" != 0 ]; then
  CHK="$BUILD/bench-checks"; rm -rf "$CHK"; mkdir -p "$CHK"
  for variant in "fp16:--precision fp16" "selective:--recompute selective" "full:--recompute full"; do
    name=${variant%%:*}; flags=${variant#*:}
    "$TRAIN" --model gpt2-124m --device cuda --micro-batch 16 --seq 1024 --steps 20 --data synthetic \
      --lr 6e-4 --warmup 5 --eval-batches 1 $flags --events "$CHK/$name.jsonl" > /dev/null 2>> "$OUT/stderr.log"
    say "check gpt2-124m $name exit $?"
    report "$CHK/$name.jsonl" "  gpt2-124m $flags"
  done
  "$TRAIN" --model llama-1b --device cuda --micro-batch 96 --seq 2048 --steps 2 --data synthetic \
    --events "$CHK/oom.jsonl" > /dev/null 2>> "$OUT/stderr.log"
  say "check oom (llama-1b B=96 T=2048) exit $? (1 expected): $(grep '"error"' "$CHK/oom.jsonl" | cut -c1-400)"
fi

# --- the PyTorch peer on the same card ---------------------------------------------------------
if [ "${SKIP_PEERS:-0}" != 1 ]; then
  PEER=""
  for p in .peers/gpt2_torch.py shared/peers/gpt2_torch.py ../shared/peers/gpt2_torch.py; do
    [ -f "$p" ] && PEER=$p && break
  done
  if [ -z "$PEER" ]; then
    say "peer: gpt2_torch.py not found (copy ../shared/peers to .peers/)"
  else
    "$PY" "$PEER" --compile 0 > "$OUT/peer-eager.txt" 2>&1
    say "peer eager (exit $?): $(tail -1 "$OUT/peer-eager.txt")"
    "$PY" "$PEER" --compile 1 > "$OUT/peer-compile.txt" 2>&1
    say "peer compile (exit $?): $(tail -1 "$OUT/peer-compile.txt")"
  fi
fi
say "== done"
