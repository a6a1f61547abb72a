"""``python -m benchmarks.distributed [--quick] [--procs 1 2 4]``: data-parallel
scaling of W1 (MLP) and W3 (CNN) on this machine.

For each process count N the workload's global batch is split N ways; the
table gives steps per second, speed-up over one process and parallel
efficiency (speed-up / N), plus the time of one all-reduce of the model's
gradients.  With more processes than cores the processes share cores
(oversubscribed) and the numbers say so.  Results go to
``benchmarks/results_distributed.json``.
"""
import argparse
import json
import os
import subprocess
import sys

from chainrule.distributed.run import mpi_env, mpirun_command


def measure(workload, n, seconds):
    cmd = mpirun_command(n, "benchmarks/_ddp_step.py", [workload, str(seconds)])
    env = mpi_env(dict(os.environ, OPENBLAS_NUM_THREADS="1",
                       PYTHONPATH=os.getcwd() + os.pathsep
                       + os.environ.get("PYTHONPATH", "")))
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--procs", type=int, nargs="*", default=[1, 2, 4])
    ap.add_argument("--out", default="benchmarks/results_distributed.json")
    args = ap.parse_args()
    seconds = 0.3 if args.quick else 2.0
    cores = os.cpu_count() or 1
    rows = []
    print(f"{'workload':8} {'N':>2} {'batch/proc':>10} {'ms/step':>8} {'steps/s':>8} "
          f"{'speed-up':>8} {'efficiency':>10} {'allreduce ms':>12}")
    for workload in ("W1", "W3"):
        base = None
        for n in args.procs:
            r = measure(workload, n, seconds)
            sps = 1000 / r["ms_per_step"]
            base = base or sps
            r.update(steps_per_s=sps, speedup=sps / base, efficiency=sps / base / n,
                     oversubscribed=n > cores)
            rows.append(r)
            note = " (oversubscribed)" if n > cores else ""
            print(f"{workload:8} {n:>2} {r['batch_per_process']:>10} "
                  f"{r['ms_per_step']:>8.2f} {sps:>8.1f} {r['speedup']:>8.2f} "
                  f"{r['efficiency']:>10.0%} {r['allreduce_ms']:>12.3f}{note}",
                  flush=True)
    with open(args.out, "w") as f:
        json.dump({"cores": cores, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
