#!/usr/bin/env bash
# Distributed throughput and memory of meshwork-train on the GPUs of one host (2 or 4 H100s),
# beside PyTorch DDP (torchrun .peers/gpt2_torch.py) on the same cards in the same call.
#
#   NGPU=4 OUT=/tmp/out scripts/gpu_dist_bench.sh
#   MODELS=gpt2 STEPS=8 NGPU=2 scripts/gpu_dist_bench.sh     # a quick check
#   ONLY='1gpu|tp|pp' SKIP_PEERS=1 scripts/gpu_dist_bench.sh   # some configurations, no peer
#   SET=dp-scaling NGPU=2 scripts/gpu_dist_bench.sh            # where data parallelism loses time
#   SET='dp-scaling layouts' SKIP='bucket100|4channels' ...    # several sets, some rows left out
#   PROFILE='^gpt2-1gpu$|^gpt2-dp4$' ...                        # and a kernel timeline of these
#   SET=card-batch SIZES=4 NGPU=4 PEER_BATCH=32 ...            # dp at the micro-batch that fills a card, DDP beside
#   SET=fusion-ab ROUNDS=3 SIZES=2 ...                         # a change against its switch, alternated rounds
#   SET='layouts dp-scaling dp-sms' SIZES=4 NGPU=4 STEPS=10 \
#     SKIP='bucket100|channels|omp1|nooverlap|bf16|independent|b16|highprio|simple|pinned|ctazero|cta8' ...
#     # issue 4 on 4 GPUs (SIZES=2 NGPU=2 on 2), with the dense embedding gradient beside the rows
#
# Builds meshwork-train alone (-DMESHWORK_GUI=OFF -DMESHWORK_CUDA=ON -DBUILD_TESTING=OFF: no Qt
# on the GPU machine), then starts the ranks with a bash loop setting torchrun's variables
# (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) since meshwork-cli
# needs Qt. Every configuration writes each rank's events under $OUT/<name>/; the table reports
# the median tokens/s per GPU after the first 3 steps, the scaling efficiency against the
# 1-GPU run of the same model and batch per GPU, and each rank's peak memory. A configuration
# the trainer rejects (exit 2) is listed with its message, not hidden.
set -uo pipefail
export NCCL_NVLS_ENABLE=0            # NVLink multicast stays off on these machines
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/build-gpu-dist/out}
NGPU=${NGPU:-$(nvidia-smi -L 2>/dev/null | wc -l)}
STEPS=${STEPS:-20}
PY=${PYTHON:-python3}
BUILD=${BUILD:-$ROOT/build-gpu-dist}
SETS="layouts dp-scaling dp-sms dp-ab card-batch fusion-ab pp-balance replica token-batch tp-host"
for set in ${SET:-layouts}; do # checked before the build, which takes minutes
  [[ " $SETS " == *" $set "* ]] || { echo "SET must be among: $SETS (got $set)" >&2; exit 2; }
done
mkdir -p "$OUT"
LOG="$OUT/bench.log"
exec > >(tee -a "$LOG") 2>&1
echo "== gpu_dist_bench: $NGPU GPU(s), $(date -u)"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true

GEN=(); command -v ninja >/dev/null && GEN=(-G Ninja)
cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DMESHWORK_GUI=OFF -DMESHWORK_CUDA=ON \
  -DBUILD_TESTING=OFF -DMESHWORK_PYTHON="$(command -v "$PY")" > "$OUT/configure.log" 2>&1 \
  || { tail -30 "$OUT/configure.log"; exit 1; }
cmake --build "$BUILD" --target meshwork-train meshwork-kernel-check -j "$(nproc)" > "$OUT/build.log" 2>&1 \
  || { grep -m20 -B2 -A8 'error' "$OUT/build.log"; exit 1; }
TRAIN=$(find "$BUILD" -name meshwork-train -type f -perm -u+x | head -1)
[ -n "$TRAIN" ] || { echo "meshwork-train was not built"; exit 1; }

# run NAME NPROC ARGS...: starts NPROC ranks; if one fails the others are stopped.
run() {
  local name=$1 n=$2; shift 2
  local dir="$OUT/$name" port=$((20000 + RANDOM % 12000)) pids=() rc=0 extra=() r
  rm -rf "$dir"; mkdir -p "$dir"
  [[ "$name" == *-profiled ]] && extra=(--profile "$dir/trace.json")
  # Every GPU's utilization, SM clock and power each 200 ms while the ranks run: a card that ran
  # slower (throttled, or clocked down) shows in the table's SM MHz column. Disowned, so that
  # the `wait -n` below waits for the ranks alone.
  local smi=""
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=index,utilization.gpu,clocks.sm,power.draw --format=csv,noheader,nounits -lms 200 \
      > "$dir/gpus.csv" 2>/dev/null &
    smi=$!
    disown "$smi"
  fi
  for ((r = 0; r < n; r++)); do
    local ev="$dir/events.jsonl"; [ "$r" -gt 0 ] && ev="$dir/events.rank$r.jsonl"
    local rank=$r world=$n
    # INDEPENDENT=1: n one-GPU runs side by side (GPU r each), no collectives between them.
    [ "${INDEPENDENT:-0}" = 1 ] && { rank=0; world=1; port=$((port + 1)); }
    # PIN=1: each rank on its own block of nproc/n cores (taskset), away from the other ranks.
    local pin=(); [ "${PIN:-0}" = 1 ] && { local per=$(( $(nproc) / n )); pin=(taskset -c "$((r * per))-$((r * per + per - 1))"); }
    RANK=$rank LOCAL_RANK=$r WORLD_SIZE=$world LOCAL_WORLD_SIZE=$world MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      "${pin[@]}" "$TRAIN" "$@" "${extra[@]}" --device cuda --steps "$STEPS" --events "$ev" --collective-timeout "${COLLECTIVE_TIMEOUT:-300}" \
      > "$dir/rank$r.log" 2>&1 &
    pids+=($!)
  done
  # The first rank to fail stops the others (as LocalLauncher does), so no rank waits out its
  # collective timeout.
  for ((k = 0; k < n; k++)); do
    if ! wait -n; then rc=1; kill "${pids[@]}" 2>/dev/null; fi
  done
  [ -n "$smi" ] && kill "$smi" 2>/dev/null
  echo "$rc" > "$dir/rc"
  [ -f "$dir/trace.json" ] && "$PY" "$ROOT/scripts/profile_summary.py" "$dir/trace.json" 12 > "$dir/profile.txt" 2>&1
  return 0
}

summarize() {
  "$PY" - "$OUT" "$@" <<'PYEOF'
import json, os, sys, glob, statistics
out, names = sys.argv[1], sys.argv[2:]
rows, base = [], {}

def sm_clocks(path, n):
    """The slowest and the fastest of GPUs 0..n-1's median SM clock (MHz) while busy (>= 50%)."""
    busy = {}
    try:
        for line in open(path):
            f = [x.strip() for x in line.split(",")]
            try: gpu, util, clock = int(f[0]), float(f[1]), float(f[2])
            except (ValueError, IndexError): continue
            if gpu < n and util >= 50: busy.setdefault(gpu, []).append(clock)
    except OSError:
        return None
    medians = [statistics.median(v) for v in busy.values()]
    return (min(medians), max(medians)) if medians else None

for name in names:
    d = os.path.join(out, name)
    files = sorted(glob.glob(os.path.join(d, "events*.jsonl")))
    ranks, pred = {}, {}
    err = None
    for f in files:
        r = 0 if f.endswith("events.jsonl") else int(f.rsplit("rank", 1)[1].split(".")[0])
        steps = []
        for line in open(f):
            try: e = json.loads(line)
            except Exception: continue
            if e.get("event") == "step": steps.append(e)
            if e.get("event") == "run_start" and isinstance(e.get("predicted"), dict): pred[r] = e["predicted"]
            if e.get("event") == "error" and err is None: err = e.get("message", "")[:160]
        ranks[r] = steps
    n = max(len(ranks), 1)
    s0 = ranks.get(0, [])
    if len(s0) < 4:
        rows.append((name, n, None, None, None, None, None, err or "no steps (see rank*.log)", None, None, None)); continue
    tps = statistics.median(e["tokens_per_s"] for e in s0[3:])
    every = [e["tokens_per_s"] for e in s0[3:]]
    spread = (max(every) - min(every)) / tps if tps else 0
    waits = [e["host_wait_ms"] for e in s0[3:] if "host_wait_ms" in e]
    wait = statistics.median(waits) if waits else None
    if "-independent" in name:
        # One-GPU runs side by side: each rank's own tokens/s, the median over the runs.
        tps = n * statistics.median(statistics.median(e["tokens_per_s"] for e in ranks[r][3:]) for r in ranks)
    clocks = sm_clocks(os.path.join(d, "gpus.csv"), n)
    mem = [max((e.get("mem_peak_gib", 0) for e in ranks[r]), default=0) for r in sorted(ranks)]
    pmem = [pred.get(r, {}).get("mem_gib") for r in sorted(ranks)]
    ptps = pred.get(0, {}).get("tokens_per_s")
    model = name.split("-")[0]
    per = tps / n
    if n == 1 and model not in base: base[model] = per # a repeated 1-GPU run scales against the first
    eff = per / base[model] if model in base else None
    if ptps and "-independent" not in name: ptps /= n
    rows.append((name, n, per, eff, mem, ptps, pmem, None, spread, wait, clocks))
# Memory: the allocator's peak (mem_peak_gib) against the planner's figure for the same stage
# without CUDA context and reserve (run_start "predicted".mem_gib); error = predicted/measured - 1.
# spread: (max - min) / median of rank 0's tokens/s over the measured steps; host wait: the
# median time rank 0's host waited at the step's sync (near 0: the GPU waited for the host).
# SM MHz: the slowest-fastest of the run's GPUs by median SM clock while busy (nvidia-smi).
print(f"{'configuration':24} {'gpus':>4} {'tok/s/GPU':>10} {'predicted':>10} {'scaling':>8} {'spread':>7} {'wait ms':>7}  "
      f"{'peak GiB per rank':22} {'predicted GiB':22} {'worst mem error':>15} {'SM MHz':>9}")
fmt = lambda v: "[" + ", ".join("-" if x is None else f"{x:.2f}" for x in v) + "]"
for name, n, per, eff, mem, pper, pmem, err, spread, wait, clocks in rows:
    if per is None: print(f"{name:24} {n:>4} {'-':>10} {'-':>10} {'-':>8}  {err}"); continue
    errs = [p / m - 1 for p, m in zip(pmem, mem) if p is not None and m > 0]
    worst = max(errs, key=abs) if errs else None
    print(f"{name:24} {n:>4} {per:10.0f} {('%.0f' % pper) if pper else '-':>10} "
          f"{('%.1f%%' % (100 * eff)) if eff else '-':>8} {100 * spread:6.1f}% {('%.2f' % wait) if wait is not None else '-':>7}  "
          f"{fmt(mem):22} {fmt(pmem):22} "
          f"{('%+.1f%%' % (100 * worst)) if worst is not None else '-':>15} "
          f"{('%.0f-%.0f' % clocks) if clocks else '-':>9}")
PYEOF
}

# Batch per GPU stays fixed (weak scaling): global batch = micro-batch x dp.
G="--model gpt2-124m --seq 1024 --micro-batch 8 --precision bf16"
L="--model llama-1b --seq 2048 --micro-batch 2 --precision bf16"
NAMES=()
# SIZES: the rank counts to run (default 2 4, those up to NGPU); SIZES=4 on a 4-GPU machine
# leaves the 2-GPU rows out so the whole matrix fits one call.
SIZES=${SIZES:-2 4}
# ONLY=REGEX runs the configurations whose names match (e.g. ONLY='tp|pp' for a memory check).
bench() {
  local name=$1 n=$2; shift 2
  [ "$n" -le "$NGPU" ] || return 0
  [[ -z "${ONLY:-}" || "$name" =~ $ONLY ]] || return 0
  [[ -z "${SKIP:-}" || ! "$name" =~ $SKIP ]] || return 0
  [[ " ${NAMES[*]} " != *" $name "* ]] || return 0 # already run by an earlier set
  run "$name" "$n" "$@"; NAMES+=("$name")
  # PROFILE=REGEX: a matching configuration runs again as NAME-profiled, 4 steps, recording
  # step 3 (host ops and kernels, every rank; rank 0's summed up in profile.txt). A profiled
  # run is slower after the trace too (CUPTI stays attached), so its tokens/s are not reported.
  [[ -n "${PROFILE:-}" && "$name" =~ $PROFILE ]] && STEPS=4 run "$name-profiled" "$n" "$@"
  return 0
}
# SET=layouts (default): every layout of the issue for each model. SET=dp-scaling: where data
# parallelism loses time against one GPU, for GPT-2 124M (and llama-1b with accumulation):
# gradient bucket size, no overlap at all (one bucket after backward), NCCL limited to fewer
# channels (SMs), bf16 gradient reduction (--grad-reduce bf16), a larger micro-batch, and
# gradient accumulation (4 micro-batches per step, so one reduction per 4 backward passes).
# Each variant scales against its own 1-GPU run.
layouts() {
  for M in ${MODELS:-gpt2 llama}; do
    if [ $M = gpt2 ]; then A=$G; MB=8; else A=$L; MB=2; fi
    bench "$M-1gpu" 1 $A
    for n in $SIZES; do
      bench "$M-dp$n" $n $A --dp $n
      bench "$M-dp$n-bf16reduce" $n $A --dp $n --grad-reduce bf16
      bench "$M-zero2-dp$n" $n $A --dp $n --zero 2
      bench "$M-zero3-dp$n" $n $A --dp $n --zero 3
      bench "$M-zero3-dp$n-bf16reduce" $n $A --dp $n --zero 3 --grad-reduce bf16
      bench "$M-tp$n" $n $A --tp $n --global-batch $MB
      bench "$M-pp$n" $n $A --pp $n --global-batch $((MB * 4 * n))
    done
  done
}
dp_scaling() {
  local G16="--model gpt2-124m --seq 1024 --micro-batch 16 --precision bf16"
  bench gpt2-1gpu 1 $G
  # Host interference alone: one-GPU runs on every GPU at once, no collectives.
  INDEPENDENT=1 bench gpt2-1gpu-x2-independent 2 $G
  INDEPENDENT=1 bench gpt2-1gpu-x4-independent 4 $G
  INDEPENDENT=1 PIN=1 bench gpt2-1gpu-x4-independent-pinned 4 $G
  bench gpt2ga4-1gpu 1 $G --global-batch 32
  bench gpt2b16-1gpu 1 $G16
  bench llamaga4-1gpu 1 $L --global-batch 8
  for n in $SIZES; do
    bench "gpt2-dp$n" $n $G --dp $n
    bench "gpt2-dp$n-bucket100" $n $G --dp $n --bucket-mb 100
    # GPT-2 with the loss kernels is bound by the host: fewer collectives, less host time each step.
    bench "gpt2-dp$n-bucket200" $n $G --dp $n --bucket-mb 200
    bench "gpt2-zero2-dp$n" $n $G --dp $n --zero 2
    bench "gpt2-zero2-dp$n-bucket100" $n $G --dp $n --zero 2 --bucket-mb 100
    bench "llama-dp$n-bucket100" $n $L --dp $n --bucket-mb 100
    bench "gpt2-dp$n-nooverlap" $n $G --dp $n --bucket-mb 4096
    NCCL_MAX_NCHANNELS=4 bench "gpt2-dp$n-4channels" $n $G --dp $n
    OMP_NUM_THREADS=1 bench "gpt2-dp$n-omp1" $n $G --dp $n
    # NCCL's kernels on a high-priority stream (Megatron's --high-priority-stream-groups), with
    # the Simple protocol only, and on 8 channels (SMs) instead of NCCL's choice.
    TORCH_NCCL_HIGH_PRIORITY=1 bench "gpt2-dp$n-highprio" $n $G --dp $n
    NCCL_PROTO=Simple bench "gpt2-dp$n-simple" $n $G --dp $n
    NCCL_MAX_NCHANNELS=8 bench "gpt2-dp$n-8channels" $n $G --dp $n
    PIN=1 bench "gpt2-dp$n-pinned" $n $G --dp $n
    # NCCL 2.27's CTA policies: as few CTAs (SMs) as keep its bandwidth (1), or none where it can (2).
    NCCL_CTA_POLICY=1 bench "gpt2-dp$n-ctaefficiency" $n $G --dp $n
    NCCL_CTA_POLICY=2 bench "gpt2-dp$n-ctazero" $n $G --dp $n
    NCCL_CTA_POLICY=1 bench "llama-dp$n-ctaefficiency" $n $L --dp $n
    bench "gpt2-dp$n-bf16reduce" $n $G --dp $n --grad-reduce bf16
    bench "gpt2ga4-dp$n" $n $G --dp $n --global-batch $((32 * n))
    bench "gpt2ga4-dp$n-bf16reduce" $n $G --dp $n --global-batch $((32 * n)) --grad-reduce bf16
    bench "gpt2b16-dp$n" $n $G16 --dp $n
    bench "llamaga4-dp$n" $n $L --dp $n --global-batch $((8 * n))
  done
  bench gpt2-1gpu-repeat 1 $G # drift of the card over the set
}
# SET=dp-sms: the backward beside NCCL's kernels. The embedding's lookup gradient as gathered
# rows (the default where it is fewer bytes) against one dense all-reduce at the backward's end;
# ZeRO-1/2's parameter gather during the next forward against one after the step;
# NCCL's zero-CTA policy, and NCCL held to 8 CTAs (SMs) of its 24. (Session of 2026-11-28, 2 x
# H200: GEMMs told to leave those SMs to NCCL, through cuBLAS's SM count target, gained nothing
# measurable and were taken out again.)
dp_sms() {
  for M in gpt2 llama; do
    if [ $M = gpt2 ]; then A=$G; MB=8; else A=$L; MB=2; fi
    bench "$M-1gpu" 1 $A
    for n in $SIZES; do
      bench "$M-dp$n" $n $A --dp $n
      bench "$M-dp$n-dense" $n $A --dp $n --embedding-grad dense
      bench "$M-zero2-dp$n" $n $A --dp $n --zero 2
      bench "$M-zero2-dp$n-dense" $n $A --dp $n --zero 2 --embedding-grad dense
      # ZeRO-1/2's updated shards broadcast during the next forward (the default) against one
      # all-gather at the end of the step.
      bench "$M-zero1-dp$n" $n $A --dp $n --zero 1
      bench "$M-zero1-dp$n-gatherblocking" $n $A --dp $n --zero 1 --param-gather blocking
      bench "$M-zero2-dp$n-gatherblocking" $n $A --dp $n --zero 2 --param-gather blocking
      # ZeRO-2 keeps the gradients of its shard alone and so reduces after every micro-batch:
      # 4 micro-batches a step, against ZeRO-1 (one reduction a step) and one GPU.
      bench "${M}ga4-1gpu" 1 $A --global-batch $((MB * 4))
      # Plain dp with 4 micro-batches, rows against the dense embedding gradient (GPT-2 on 4 GPUs
      # takes dense there: 82% in one 4-GPU call of 2026-11-28 against 96.6% before).
      bench "${M}ga4-dp$n" $n $A --dp $n --global-batch $((MB * 4 * n))
      bench "${M}ga4-dp$n-dense" $n $A --dp $n --global-batch $((MB * 4 * n)) --embedding-grad dense
      bench "${M}ga4-zero1-dp$n" $n $A --dp $n --zero 1 --global-batch $((MB * 4 * n))
      bench "${M}ga4-zero2-dp$n" $n $A --dp $n --zero 2 --global-batch $((MB * 4 * n))
      NCCL_CTA_POLICY=2 bench "$M-dp$n-ctazero" $n $A --dp $n
      NCCL_MIN_CTAS=8 NCCL_MAX_CTAS=8 bench "$M-dp$n-cta8" $n $A --dp $n
    done
    bench "$M-1gpu-repeat" 1 $A
  done
}
# SET=dp-ab: data parallelism at one micro-batch a step, ROUNDS times over (default 2) so that
# each variant has neighbours in time: fp32 against bf16 reduction (--grad-reduce bf16), NCCL
# registering the allocator's segments as user buffers (TORCH_NCCL_USE_TENSOR_REGISTER_ALLOCATOR_HOOK,
# zero-copy over NVLink), the gradient-accumulation fusion (AutocastWeight.h) against autocast's
# cast (MESHWORK_UNFUSED_GRAD_ACCUM=1, "nf" rows, scaled against their own 1 GPU), and the
# card-batch rows below.
G32="--model gpt2-124m --seq 1024 --micro-batch 32 --precision bf16"
L8="--model llama-1b --seq 2048 --micro-batch 8 --precision bf16"
dp_ab() {
  local round s
  for ((round = 1; round <= ${ROUNDS:-2}; round++)); do
    s=""; [ "$round" -gt 1 ] && s="r$round"
    for M in ${MODELS:-gpt2 llama}; do
      if [ $M = gpt2 ]; then A=$G; B=$G32; BM=gpt2b32; else A=$L; B=$L8; BM=llamab8; fi
      bench "$M$s-1gpu" 1 $A
      for n in $SIZES; do
        bench "$M$s-dp$n" $n $A --dp $n
        bench "$M$s-dp$n-bf16reduce" $n $A --dp $n --grad-reduce bf16
        TORCH_NCCL_USE_TENSOR_REGISTER_ALLOCATOR_HOOK=1 bench "$M$s-dp$n-ncclreg" $n $A --dp $n
        MESHWORK_UNFUSED_GRAD_ACCUM=1 bench "${M}nf$s-1gpu" 1 $A
        MESHWORK_UNFUSED_GRAD_ACCUM=1 bench "${M}nf$s-dp$n" $n $A --dp $n
        bench "$BM$s-1gpu" 1 $B
        bench "$BM$s-dp$n" $n $B --dp $n
      done
    done
  done
}
# SET=card-batch: one micro-batch a step at the micro-batch that fills a card as llm.c's does for
# GPT-2 124M (32 x 1024 here; llama-1b 8 x 2048), plain dp and ZeRO-2 against one GPU. With
# PEER_BATCH=32 the PyTorch peer below runs the same GPT-2 batch.
card_batch() {
  bench gpt2b32-1gpu 1 $G32
  bench llamab8-1gpu 1 $L8
  for n in $SIZES; do
    bench "gpt2b32-dp$n" $n $G32 --dp $n
    bench "gpt2b32-zero2-dp$n" $n $G32 --dp $n --zero 2
    bench "llamab8-dp$n" $n $L8 --dp $n
    bench "llamab8-zero2-dp$n" $n $L8 --dp $n --zero 2
    # At this batch dp cost about the reduction's whole time in docs/bench/gpu-h200x4-dp-ab.txt
    # (GPT-2 2.6-4 ms against 2.1-2.4 ms alone; LLaMA-1B 17-24 ms against 22), where LLaMA-1B at
    # 2 x 2048 paid 0.4 of it. These rows, added after that session's device time ran out: half
    # the bytes, and NCCL's kernels ahead of the GEMMs' in the block scheduler.
    bench "gpt2b32-dp$n-bf16reduce" $n $G32 --dp $n --grad-reduce bf16
    bench "llamab8-dp$n-bf16reduce" $n $L8 --dp $n --grad-reduce bf16
    TORCH_NCCL_HIGH_PRIORITY=1 bench "gpt2b32-dp$n-highprio" $n $G32 --dp $n
    TORCH_NCCL_HIGH_PRIORITY=1 bench "llamab8-dp$n-highprio" $n $L8 --dp $n
  done
}
# SET=fusion-ab: the gradient-accumulation fusion against autocast's cast, alternated ROUNDS
# times (default 2): GPT-2 124M and llama-1b at the layouts' micro-batches on one GPU, and under
# tp (ParallelModel) on each of SIZES. Not under pp, which keeps autocast's cast since call 5 of
# docs/bench/gpu-h200x4-dp-ab.txt (each micro-batch in flight kept its own 16-bit weights).
fusion_ab() {
  local round n
  for ((round = 1; round <= ${ROUNDS:-2}; round++)); do
    for M in ${MODELS:-gpt2 llama}; do
      if [ $M = gpt2 ]; then A=$G; MB=8; else A=$L; MB=2; fi
      bench "$M-1gpu-fused-$round" 1 $A
      MESHWORK_UNFUSED_GRAD_ACCUM=1 bench "$M-1gpu-unfused-$round" 1 $A
      for n in $SIZES; do
        bench "$M-tp$n-fused-$round" $n $A --tp $n --global-batch $MB
        MESHWORK_UNFUSED_GRAD_ACCUM=1 bench "$M-tp$n-unfused-$round" $n $A --tp $n --global-batch $MB
      done
    done
  done
}
# SET=pp-balance: pipeline stages of equal layers against stages of equal time. The last stage
# also runs the output head and the loss; --stage-layers moves layers off it. The splits are
# the planner's (`meshwork-cli plan ... --pp 2 --gpu h200` names them in its warnings: 8,4 for
# GPT-2 124M, 10,6 for llama-1b) and one layer either side of them.
pp_balance() {
  for M in gpt2 llama; do
    if [ $M = gpt2 ]; then A=$G; MB=8; S="8,4 9,3 7,5 10,2 11,1"; else A=$L; MB=2; S="10,6 9,7 11,5 12,4"; fi
    bench "$M-1gpu" 1 $A
    bench "$M-pp2" 2 $A --pp 2 --global-batch $((MB * 8))
    for s in $S; do bench "$M-pp2-${s/,/-}" 2 $A --pp 2 --global-batch $((MB * 8)) --stage-layers $s; done
  done
}
# SET=replica: one GPU, the runs the planner's meshwork target is validated against
# (tests/core/planner/test_validation.cpp kReplicaRuns): GPT-2 124M at 8 and 16 x 1024 (16 with
# each recomputation), llama-1b at 2 and 4 x 2048.
replica() {
  local G16="--model gpt2-124m --seq 1024 --micro-batch 16 --precision bf16"
  local L4="--model llama-1b --seq 2048 --micro-batch 4 --precision bf16"
  bench gpt2-1gpu 1 $G
  bench llama-1gpu 1 $L
  bench gpt2b16-1gpu 1 $G16
  bench gpt2b16full-1gpu 1 $G16 --recompute full
  bench gpt2b16selective-1gpu 1 $G16 --recompute selective
  bench llamab4-1gpu 1 $L4
}
# SET=token-batch: data parallelism at a training batch of 0.5M tokens a step (GPT-3's and
# llm.c's batch for GPT-2 124M): each GPU accumulates 524288 / (tokens a micro-batch x n)
# micro-batches and reduces once, against one GPU accumulating as many (the same work per GPU).
# The rows of `layouts` reduce after every micro-batch, the worst case for scaling.
token_batch() {
  for n in $SIZES; do
    bench "gpt2ga$((64 / n))-1gpu" 1 $G --global-batch $((8 * 64 / n))
    bench "gpt2ga$((64 / n))-dp$n" $n $G --dp $n --global-batch 512
    bench "llamaga$((128 / n))-1gpu" 1 $L --global-batch $((2 * 128 / n))
    bench "llamaga$((128 / n))-dp$n" $n $L --dp $n --global-batch 256
  done
}
# SET=tp-host: tensor parallelism of a small model is launch-bound (host_wait_ms near 0);
# c10d's per-collective host work with its flight recorder off, and without recordStream.
tp_host() {
  bench gpt2-1gpu 1 $G
  bench gpt2-tp2 2 $G --tp 2 --global-batch 8
  TORCH_NCCL_TRACE_BUFFER_SIZE=0 bench gpt2-tp2-noflightrecorder 2 $G --tp 2 --global-batch 8
  TORCH_NCCL_AVOID_RECORD_STREAMS=1 bench gpt2-tp2-norecordstream 2 $G --tp 2 --global-batch 8
}
# The first run on a fresh machine is slower (28.9 against 26.8 ms a step for GPT-2 on one
# H200, docs/bench call 5): a short unreported run first, on every GPU.
[ "${WARMUP:-1}" = 1 ] && STEPS=6 INDEPENDENT=1 run warmup "$NGPU" $G
for set in ${SET:-layouts}; do # several sets: SET='dp-scaling tp-host'
  case $set in
    layouts) layouts ;;
    dp-scaling) dp_scaling ;;
    tp-host) tp_host ;;
    dp-sms) dp_sms ;;
    dp-ab) dp_ab ;;
    fusion-ab) fusion_ab ;;
    card-batch) card_batch ;;
    pp-balance) pp_balance ;;
    replica) replica ;;
    token-batch) token_batch ;;
  esac
done
echo "== meshwork-train ($STEPS steps each)"
summarize "${NAMES[@]}" | tee "$OUT/table.txt"
for name in "${NAMES[@]}"; do
  [ -f "$OUT/$name-profiled/profile.txt" ] || continue
  echo "== profile of $name, rank 0, step 3 of 4 (scripts/profile_summary.py)"; cat "$OUT/$name-profiled/profile.txt"
done

PEER_BATCH=${PEER_BATCH:-8}
echo "== PyTorch DDP peer (.peers/gpt2_torch.py, GPT-2 124M, batch $PEER_BATCH x 1024 per GPU, bf16, eager)"
PEER="$ROOT/.peers/gpt2_torch.py"; [ -f "$PEER" ] || PEER="$ROOT/../shared/peers/gpt2_torch.py"
if [ "${SKIP_PEERS:-0}" = 1 ]; then
  echo "skipped (SKIP_PEERS=1)"
elif [ -f "$PEER" ]; then
  "$PY" "$PEER" --batch "$PEER_BATCH" --steps 30 2>&1 | tail -1 | tee "$OUT/peer-1gpu.json"
  for n in $SIZES; do
    [ "$n" -le "$NGPU" ] || continue
    RUNNER=(torchrun); command -v torchrun >/dev/null || RUNNER=("$PY" -m torch.distributed.run)
    "${RUNNER[@]}" --standalone --nproc-per-node "$n" "$PEER" --batch "$PEER_BATCH" --steps 30 2>"$OUT/peer-ddp$n.err" \
      | tail -1 | tee "$OUT/peer-ddp$n.json"
  done
else
  echo "peer script not found (.peers/gpt2_torch.py)"
fi

echo "== NCCL all-reduce bandwidth (scripts/nccl_allreduce_bw.py)"
for n in $SIZES; do
  [ "$n" -le "$NGPU" ] || continue
  RUNNER=(torchrun); command -v torchrun >/dev/null || RUNNER=("$PY" -m torch.distributed.run)
  "${RUNNER[@]}" --standalone --nproc-per-node "$n" "$ROOT/scripts/nccl_allreduce_bw.py" 2>"$OUT/nccl-bw$n.err" \
    | tee "$OUT/nccl-bw$n.txt"
done
