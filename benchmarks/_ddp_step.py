"""One process of the data-parallel scaling benchmark (started under mpirun by
``python -m benchmarks.distributed``).

Strong scaling: the global batch of the workload is split over the processes
(each takes batch / N), so ideal throughput grows N-fold.  Prints one JSON
line on rank 0: ms per step (median of the processes' medians) and the time
of one all-reduce of the model's gradients.
"""
import json
import statistics
import sys
import time

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from benchmarks.workloads import WORKLOADS


def main(name, seconds):
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    w = next(w for w in WORKLOADS if w.name == name)
    cr.manual_seed(0)
    model = w.build(cr)
    ddp = cr.nn.parallel.DistributedDataParallel(model)
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    x, y = w.batch(np.random.default_rng(rank))
    share = len(x) // world
    cx, cy = cr.from_numpy(x[:share].copy()), cr.from_numpy(y[:share].copy())

    def step():
        opt.zero_grad()
        w.loss(cr, ddp(cx), cy).backward()
        opt.step()

    for _ in range(3):
        step()
    runs = []
    for _ in range(5):
        dist.barrier()
        n, t0 = 0, time.perf_counter()
        while True:  # every process runs the same number of steps
            step()
            n += 1
            done = [time.perf_counter() - t0 >= seconds]
            dist.broadcast_object_list(done, 0)
            if done[0]:
                break
        runs.append(1000 * (time.perf_counter() - t0) / n)
    flat = cr.cat([p.detach().reshape(-1) for p in model.parameters()])
    ar = []
    for _ in range(20):
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(flat)
        ar.append(1000 * (time.perf_counter() - t0))
    every = [None] * world
    dist.all_gather_object(every, statistics.median(runs))
    if rank == 0:
        print(json.dumps({
            "workload": name, "processes": world, "batch_per_process": share,
            "ms_per_step": statistics.median(every),
            "allreduce_ms": statistics.median(ar),
            "gradient_mb": flat.numel() * 4 / 2**20}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
