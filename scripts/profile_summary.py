"""Where the host time of a profiled step goes (meshwork-train --profile FILE).

    python3 scripts/profile_summary.py FILE [TOP]

Reads the Chrome trace and counts, per thread (the main thread runs the forward and the
optimizer, the autograd engine's thread the backward), the top-level operators: those not
inside another one. Prints the host time in operators per thread and the TOP operators by
host time with their counts, so a launch-bound step shows what to fuse or remove.
"""
import collections
import json
import sys


def main():
    path, top = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25
    events = [e for e in json.load(open(path)) if e.get("ph") == "X"]
    by_tid = collections.defaultdict(list)
    for e in events:
        by_tid[e["tid"]].append(e)
    names = collections.defaultdict(lambda: [0, 0.0])
    total_ops, total_us = 0, 0.0
    for tid, evs in sorted(by_tid.items(), key=lambda kv: str(kv[0])):
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        end, ops, us, first, last = -1.0, 0, 0.0, None, 0.0
        for e in evs:
            if e["ts"] >= end:  # top level: starts after the previous top-level op ended
                end = e["ts"] + e["dur"]
                ops += 1
                us += e["dur"]
                names[e["name"]][0] += 1
                names[e["name"]][1] += e["dur"]
                first = e["ts"] if first is None else first
                last = max(last, end)
        total_ops += ops
        total_us += us
        print(f"thread {tid}: {ops} top-level ops, {us / 1e3:.2f} ms in ops over {(last - first) / 1e3:.2f} ms")
    print(f"all threads: {total_ops} ops, {total_us / 1e3:.2f} ms, {total_us / max(total_ops, 1):.1f} us per op")
    print(f"{'operator':44} {'count':>6} {'ms':>8} {'us/op':>7}")
    for name, (n, us) in sorted(names.items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"{name[:44]:44} {n:6d} {us / 1e3:8.2f} {us / n:7.1f}")


if __name__ == "__main__":
    main()
