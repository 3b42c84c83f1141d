"""NCCL all-reduce bandwidth between the GPUs of this host, as nccl-tests reports it.

    torchrun --standalone --nproc-per-node 2 scripts/nccl_allreduce_bw.py

For each size: the median time of 20 all-reduces (after 5 warm-up ones), the algorithm
bandwidth (bytes / time) and the bus bandwidth (algbw x 2(n-1)/n, what a ring moves per
link), so a data-parallel step's gradient reduction can be put beside the step time.
"""
import os
import statistics

import torch
import torch.distributed as dist


def main():
    dist.init_process_group("nccl")
    rank, n = dist.get_rank(), dist.get_world_size()
    torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", rank)))
    for mb in (1, 25, 100, 500):
        for dtype in (torch.float32, torch.bfloat16):
            x = torch.ones(mb * 2**20 // dtype.itemsize, dtype=dtype, device="cuda")
            times = []
            for i in range(25):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                dist.all_reduce(x)
                end.record()
                end.synchronize()
                if i >= 5:
                    times.append(start.elapsed_time(end) / 1e3)
            t = statistics.median(times)
            algbw = mb * 2**20 / t / 1e9
            if rank == 0:
                print(f"all_reduce {n} GPUs {mb:4d} MB {str(dtype).split('.')[-1]:9} "
                      f"{t * 1e3:8.3f} ms  algbw {algbw:7.1f} GB/s  busbw {algbw * 2 * (n - 1) / n:7.1f} GB/s", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
