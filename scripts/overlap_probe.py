#!/usr/bin/env python3
"""How much a gradient all-reduce slows the compute it overlaps, on two GPUs of one host.

One process drives GPU 0 and GPU 1. Each runs the same bf16 GEMM/elementwise loop (GPT-2
124M's backward shapes at 8 x 1024 tokens, about as long as one backward pass); beside it, on a
second stream, 500 MB of fp32 gradients are all-reduced in 25 MB buckets, either by
  nccl  NCCL's kernels (torch.cuda.nccl.all_reduce), which hold SMs while they run, or
  ce    the copy engines: each GPU copies the other's half of a bucket over NVLink (a
        reduce-scatter), adds it (one small kernel), and copies its summed half back (an
        all-gather); only the add runs on the SMs.
Prints the compute loop's time alone, beside each kind of all-reduce, and each all-reduce alone.

  python3 scripts/overlap_probe.py [--mb 500] [--bucket-mb 25] [--iters 10]
"""
import argparse
import json
import statistics

import torch
import torch.cuda.nccl as nccl


def compute_loop(g, reps):
    # One "layer" of GPT-2's backward: each weight's data and weight gradient GEMMs (plus the
    # forward one, as recomputation-free backward reads saved inputs) and an elementwise pass
    # over [8192, 3072].
    with torch.cuda.device(g.dev):
        for _ in range(reps):
            for w, x in zip(g.ws, g.xs):
                y = x @ w
                _ = y @ w.t()
                _ = x.t() @ y
            _ = torch.nn.functional.gelu(g.act, approximate="tanh") * g.act


class Gpu:
    def __init__(self, dev, total, bucket):
        self.dev = dev
        with torch.cuda.device(dev):
            self.grads = torch.randn(total, device=dev)
            self.recv = torch.empty(bucket // 2 + 1, device=dev)
            self.side = torch.cuda.Stream(dev)
            tokens, h = 8192, 768
            shapes = [(h, 3 * h), (h, h), (h, 4 * h), (4 * h, h)]
            self.ws = [torch.randn(i, o, device=dev, dtype=torch.bfloat16) * 0.02 for i, o in shapes]
            self.xs = [torch.randn(tokens, i, device=dev, dtype=torch.bfloat16) for i, _ in shapes]
            self.act = torch.randn(tokens, 4 * h, device=dev, dtype=torch.bfloat16)


def nccl_allreduce(gpus, total, bucket):
    for b in range(0, total, bucket):
        parts = [g.grads[b:b + bucket] for g in gpus]
        nccl.all_reduce(parts, streams=[g.side for g in gpus])


def ce_allreduce(gpus, total, bucket):
    # A copy between GPUs runs on the source GPU's current stream and waits for the destination
    # GPU's: both side streams are made current, so the copies never wait for the compute.
    a, b_ = gpus
    with torch.cuda.stream(a.side), torch.cuda.stream(b_.side):
        for b in range(0, total, bucket):
            n = min(bucket, total - b)
            half = n // 2
            lo, hi = slice(b, b + half), slice(b + half, b + n)
            # reduce-scatter: GPU 0 sums the low half, GPU 1 the high half
            a.recv[:half].copy_(b_.grads[lo], non_blocking=True)
            b_.recv[: n - half].copy_(a.grads[hi], non_blocking=True)
            a.grads[lo].add_(a.recv[:half])
            b_.grads[hi].add_(b_.recv[: n - half])
            # all-gather: each takes the other's summed half
            b_.grads[lo].copy_(a.grads[lo], non_blocking=True)
            a.grads[hi].copy_(b_.grads[hi], non_blocking=True)


def timed(gpus, fn):
    starts = [torch.cuda.Event(enable_timing=True) for _ in gpus]
    ends = [torch.cuda.Event(enable_timing=True) for _ in gpus]
    for g, s in zip(gpus, starts):
        s.record(torch.cuda.current_stream(g.dev))
    fn()
    for g, e in zip(gpus, ends):
        e.record(torch.cuda.current_stream(g.dev))
    for g in gpus:
        torch.cuda.synchronize(g.dev)
    return max(s.elapsed_time(e) for s, e in zip(starts, ends))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=float, default=500)
    p.add_argument("--bucket-mb", type=float, default=25)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--reps", type=int, default=12, help="layers in the compute loop")
    a = p.parse_args()
    if torch.cuda.device_count() < 2:
        raise SystemExit("overlap_probe: needs 2 GPUs, found %d" % torch.cuda.device_count())
    total, bucket = int(a.mb * 2**20 / 4), int(a.bucket_mb * 2**20 / 4)
    torch.cuda.set_device(0)
    gpus = [Gpu(0, total, bucket), Gpu(1, total, bucket)]
    for d in (0, 1):
        for e in (0, 1):
            if d != e and not torch.cuda.can_device_access_peer(d, e):
                print("overlap_probe: no peer access between GPU %d and %d; ce copies go through the host" % (d, e))

    def comm_on_side(kind):
        # The side streams start with the compute (as buckets do once the backward begins).
        for g in gpus:
            g.side.wait_stream(torch.cuda.current_stream(g.dev))
        (nccl_allreduce if kind == "nccl" else ce_allreduce)(gpus, total, bucket)
        for g in gpus:
            torch.cuda.current_stream(g.dev).wait_stream(g.side)

    def compute():
        for g in gpus:
            compute_loop(g, a.reps)

    def compute_with(kind):
        comm_on_side(kind)  # queued first: runs beside the compute
        compute()

    results = {}
    cases = {
        "compute alone": compute,
        "nccl all-reduce alone": lambda: comm_on_side("nccl"),
        "ce all-reduce alone": lambda: comm_on_side("ce"),
        "compute + nccl all-reduce": lambda: compute_with("nccl"),
        "compute + ce all-reduce": lambda: compute_with("ce"),
    }
    for name, fn in cases.items():
        timed(gpus, fn)  # warm-up
    for _ in range(a.iters):
        for name, fn in cases.items():
            results.setdefault(name, []).append(timed(gpus, fn))
    # check the two all-reduces give the same sums
    torch.manual_seed(0)
    for g in gpus:
        g.grads.copy_(torch.randn(total, device="cpu").to(g.dev))
    expect = (gpus[0].grads.cpu() + gpus[1].grads.cpu())
    comm_on_side("ce")
    torch.cuda.synchronize(0); torch.cuda.synchronize(1)
    ok = all(torch.allclose(g.grads.cpu(), expect) for g in gpus)
    summary = {k: round(statistics.median(v), 3) for k, v in results.items()}
    summary["ce sums match"] = ok
    summary["mb"] = a.mb
    summary["bucket_mb"] = a.bucket_mb
    summary["device"] = torch.cuda.get_device_name(0)
    for k, v in summary.items():
        print("%-28s %s" % (k, v))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
