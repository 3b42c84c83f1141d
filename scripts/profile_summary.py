"""Where the time of a profiled step goes (meshwork-train --profile FILE).

    python3 scripts/profile_summary.py FILE [TOP]

Reads the Chrome trace. Host: per thread (the main thread runs the forward and the optimizer,
the autograd engine's thread the backward) the top-level operators, those not inside another
one, with the TOP operators by host time, so a launch-bound step shows what to fuse or remove.
Device (a trace taken on a GPU): the step's span from its first kernel to its last, the time
compute kernels and copies kept the GPU busy, the time NCCL's kernels ran, how much of that
ran while no compute did (exposed communication), the idle time (nothing ran: the GPU waited
for the host), and the TOP kernels by device time. Comparing a data-parallel rank's trace
with a one-GPU run's shows whether the collectives are exposed or slow the compute down.
"""
import collections
import json
import sys


def load(path):
    data = json.load(open(path))
    return data["traceEvents"] if isinstance(data, dict) else data  # Kineto, or the legacy list


def union(intervals):
    """Total length covered by [start, end) intervals, and the merged intervals."""
    merged = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return sum(e - s for s, e in merged), merged


def overlap(a, b):
    """Length of the intersection of two merged interval lists."""
    i = j = 0
    total = 0.0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        total += max(0.0, e - s)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def host(events, top):
    ops = [e for e in events if e.get("ph") == "X" and e.get("cat", "cpu_op") in ("cpu_op", "user_annotation")]
    by_tid = collections.defaultdict(list)
    for e in ops:
        by_tid[e["tid"]].append(e)
    names = collections.defaultdict(lambda: [0, 0.0])
    total_ops, total_us = 0, 0.0
    for tid, evs in sorted(by_tid.items(), key=lambda kv: str(kv[0])):
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        end, n, us, first, last = -1.0, 0, 0.0, None, 0.0
        for e in evs:
            if e["ts"] >= end:  # top level: starts after the previous top-level op ended
                end = e["ts"] + e["dur"]
                n += 1
                us += e["dur"]
                names[e["name"]][0] += 1
                names[e["name"]][1] += e["dur"]
                first = e["ts"] if first is None else first
                last = max(last, end)
        total_ops += n
        total_us += us
        print(f"thread {tid}: {n} top-level ops, {us / 1e3:.2f} ms in ops over {(last - first) / 1e3:.2f} ms")
    print(f"all threads: {total_ops} ops, {total_us / 1e3:.2f} ms, {total_us / max(total_ops, 1):.1f} us per op")
    print(f"{'operator':44} {'count':>6} {'ms':>8} {'us/op':>7}")
    for name, (n, us) in sorted(names.items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"{name[:44]:44} {n:6d} {us / 1e3:8.2f} {us / n:7.1f}")


def device(events, top):
    work = [e for e in events if e.get("ph") == "X" and e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
    if not work:
        return
    is_nccl = lambda e: "nccl" in e["name"].lower()
    comm = [(e["ts"], e["ts"] + e["dur"]) for e in work if is_nccl(e)]
    compute = [(e["ts"], e["ts"] + e["dur"]) for e in work if not is_nccl(e)]
    span = max(e for _, e in comm + compute) - min(s for s, _ in comm + compute)
    busy, _ = union(comm + compute)
    compute_us, compute_iv = union(compute)
    comm_us, comm_iv = union(comm)
    hidden = overlap(comm_iv, compute_iv)
    kernel_sum = sum(e - s for s, e in compute)
    streams = sorted({e["tid"] for e in work}, key=str)
    print(f"\ndevice: {len(work)} kernels and copies on {len(streams)} stream(s), step span {span / 1e3:.2f} ms")
    print(f"  compute busy      {compute_us / 1e3:8.2f} ms  (kernels and copies, summed {kernel_sum / 1e3:.2f} ms)")
    print(f"  nccl running      {comm_us / 1e3:8.2f} ms  ({hidden / 1e3:.2f} ms beside compute, "
          f"{(comm_us - hidden) / 1e3:.2f} ms exposed)")
    print(f"  idle              {(span - busy) / 1e3:8.2f} ms  (no kernel ran: the device waited for the host)")
    names = collections.defaultdict(lambda: [0, 0.0])
    for e in work:
        names[e["name"]][0] += 1
        names[e["name"]][1] += e["dur"]
    print(f"{'kernel':60} {'count':>6} {'ms':>8}")
    for name, (n, us) in sorted(names.items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"{name[:60]:60} {n:6d} {us / 1e3:8.2f}")


def main():
    path, top = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25
    events = load(path)
    host(events, top)
    device(events, top)


if __name__ == "__main__":
    main()
