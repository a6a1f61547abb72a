"""Jobs that tests/test_distributed.py starts under ``chainrule run -n N``.

``python -m chainrule.distributed.launch tests/_mpi_jobs.py JOB [ARGS]``;
each job checks its results itself (assertions, against NumPy or against a
single-process run computed on rank 0) and prints ``OK <job> rank <r>``.
"""
import os
import signal
import sys
import time

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn

R = N = None


def expect(cond, msg):
    if not cond:
        raise AssertionError(f"rank {R}: {msg}")


def close(a, b, rtol, what):
    """Relative error of ``a`` as a whole: ||a - b|| / ||b|| <= rtol."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    err = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)
    expect(err <= rtol, f"{what}: relative error {err:.3g} > {rtol:g}")


# -- collectives ------------------------------------------------------------------
def job_collectives():
    """Every collective on every dtype against NumPy's reduction of what each
    rank holds (rank r holds data(r), known to all)."""
    def data(r, dtype):
        base = np.arange(1, 7).reshape(2, 3)
        if dtype == "bool":
            return (base + r) % 3 == 0
        return ((base * (r + 1)) % 5 + 1).astype(dtype)

    reducers = {"SUM": np.sum, "PRODUCT": np.prod, "MIN": np.min, "MAX": np.max}
    for dtype in ("bool", "int32", "int64", "float32", "float64"):
        every = np.stack([data(r, dtype) for r in range(N)])
        for name, fn in reducers.items():
            t = cr.tensor(data(R, dtype))
            dist.all_reduce(t, op=getattr(dist.ReduceOp, name))
            if dtype == "bool":
                want = every.any(0) if name in ("SUM", "MAX") else every.all(0)
            else:
                want = fn(every, axis=0).astype(dtype)
            expect(t.dtype.name == dtype, f"all_reduce {name} changed the dtype")
            expect(np.array_equal(t.numpy(), want), f"all_reduce {name} {dtype}")
        t = cr.tensor(data(R, dtype))
        dist.broadcast(t, src=N - 1)
        expect(np.array_equal(t.numpy(), data(N - 1, dtype)), f"broadcast {dtype}")
        out = [cr.zeros(2, 3, dtype=t.dtype) for _ in range(N)]
        dist.all_gather(out, cr.tensor(data(R, dtype)))
        for r in range(N):
            expect(np.array_equal(out[r].numpy(), data(r, dtype)),
                   f"all_gather {dtype}")
    for dtype in ("float32", "float64"):
        t = cr.tensor(data(R, dtype))
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        every = np.stack([data(r, dtype) for r in range(N)])
        close(t.numpy(), every.mean(0), 1e-6, "all_reduce AVG")
        # reduce_scatter: rank r gets sum over ranks q of input_list[r] of q
        inputs = [cr.tensor(data(R, dtype)) * (i + 1) for i in range(N)]
        out = cr.zeros(2, 3, dtype=t.dtype)
        dist.reduce_scatter(out, inputs)
        close(out.numpy(), every.sum(0) * (R + 1), 1e-6, "reduce_scatter")
        # an asynchronous all-reduce overlapping some computation
        t = cr.tensor(data(R, dtype))
        work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
        _ = cr.randn(64, 64) @ cr.randn(64, 64)
        work.wait()
        close(t.numpy(), every.mean(0), 1e-6, "async all_reduce")
    # a strided view is reduced in place, through its base
    base = cr.tensor(data(R, "float64"))
    view = base[:, 1]
    dist.all_reduce(view)
    every = np.stack([data(r, "float64") for r in range(N)])
    close(base.numpy()[:, 1], every[:, :, 1].sum(0), 1e-12, "strided all_reduce")
    close(base.numpy()[:, 0], data(R, "float64")[:, 0], 1e-12, "untouched column")
    got = [None] * N
    dist.all_gather_object(got, {"rank": R})
    expect(got == [{"rank": r} for r in range(N)], "all_gather_object")
    # user errors name the op and what is valid
    for call, text in (
        (lambda: dist.all_reduce(cr.ones(2, dtype=cr.int64), op=dist.ReduceOp.AVG),
         "all_reduce: ReduceOp.AVG needs a floating-point tensor, got int64"),
        (lambda: dist.broadcast(cr.ones(2), src=N), f"rank in [0, {N - 1}]"),
        (lambda: dist.all_gather([cr.ones(2)], cr.ones(2)),
         f"tensor_list must be a list of {N} tensors"),
        (lambda: dist.all_reduce(np.ones(2)), "must be a chainrule Tensor"),
    ):
        try:
            call()
        except cr.ChainruleError as e:
            expect(text in str(e), f"message {e!r} lacks {text!r}")
        else:
            expect(False, f"no error for {text!r}")
    dist.barrier()


# -- DistributedDataParallel --------------------------------------------------------
def _mlp(seed, dtype):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 3)).to(dtype)


def _data(dtype, n=96):
    g = np.random.default_rng(0)
    x = cr.tensor(g.standard_normal((n, 6)), dtype=dtype)
    y = cr.tensor(g.integers(0, 3, n))
    return x, y


def _train(model, opt, x, y, steps, batch, offset, stride, ddp=None, accumulate=1):
    """``steps`` steps; step k reads rows ``k*batch*stride + offset + i*stride``
    for i < batch: rank ``offset`` of ``stride`` ranks reads its round-robin
    share of the block one process with batch*stride reads whole."""
    net = ddp or model
    for k in range(steps):
        rows = k * batch * stride + offset + np.arange(batch) * stride
        rows = rows % x.shape[0]
        opt.zero_grad()
        chunks = np.array_split(rows, accumulate)
        for i, c in enumerate(chunks):
            idx = cr.tensor(c)
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx]) * (
                len(c) / len(rows))
            if ddp is not None and i < accumulate - 1:
                with ddp.no_sync():
                    loss.backward()
            else:
                loss.backward()
        opt.step()


def job_ddp_exact(dtype_name="float32"):
    """N processes with batch b == one process with batch N*b, 20 steps, for SGD
    with momentum and for Adam, with and without gradient accumulation."""
    dtype = getattr(cr, dtype_name)
    rtol = 1e-6 if dtype_name == "float32" else 1e-12
    x, y = _data(dtype)
    b = 8
    errs = []
    for opt_name in ("sgd", "adam"):
        for accumulate in (1, 2):
            model = _mlp(R, dtype)  # different initial weights: DDP broadcasts
            ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.001)
            expect(len(ddp._buckets) > 1, "expected several buckets")
            opt = _opt(opt_name, model)
            _train(model, opt, x, y, 20, b, R, N, ddp, accumulate)
            mine = [p.detach().numpy() for p in model.parameters()]
            gathered = [None] * N
            dist.all_gather_object(gathered, mine)
            if R == 0:
                ref = _mlp(0, dtype)
                ropt = _opt(opt_name, ref)
                _train(ref, ropt, x, y, 20, b * N, 0, 1)
                for r in range(N):
                    for p, q in zip(gathered[r], ref.parameters()):
                        close(p, q.detach().numpy(), rtol,
                              f"{opt_name} accumulate={accumulate} rank {r}")
                        errs.append(np.linalg.norm(p - q.detach().numpy())
                                    / np.linalg.norm(q.detach().numpy()))
    if R == 0:
        print(f"ddp_exact {dtype_name}: max relative error {max(errs):.3g}")
    # BatchNorm's running statistics: each rank updates them from its own
    # data; the next forward starts from rank 0's (PyTorch's broadcast_buffers)
    cr.manual_seed(R)
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4))
    ddp = nn.parallel.DistributedDataParallel(model)
    ddp(cr.randn(8, 6)).sum().backward()
    gathered = [None] * N
    dist.all_gather_object(gathered, model[1].running_mean.numpy())
    expect(not np.allclose(gathered[0], gathered[1]), "ranks saw different data")
    ddp.eval()
    ddp(cr.randn(8, 6))  # eval: broadcasts rank 0's statistics, updates nothing
    close(model[1].running_mean.numpy(), gathered[0], 1e-12, "running_mean")


def _opt(name, model):
    if name == "sgd":
        return cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return cr.optim.Adam(model.parameters(), lr=1e-2)


# -- Trainer(strategy="ddp") -----------------------------------------------------------
class _SetEpoch(cr.train.Callback):
    """The single-process reference reads the same order as the DDP run."""

    def __init__(self, sampler):
        self.sampler = sampler

    def on_epoch_begin(self, epoch, logs=None):
        self.sampler.set_epoch(epoch)


def job_trainer(outdir):
    """fit with strategy='ddp' on N processes, batch 8 each, equals fit on one
    process with batch 8*N reading the same order; logs agree on every rank;
    only rank 0 writes files."""
    x, y = _data(cr.float32)
    model = _mlp(R, cr.float32)
    trainer = cr.train.Trainer(model, cr.optim.SGD(model.parameters(), lr=0.1),
                               metrics=["accuracy"], strategy="ddp")
    csv = os.path.join(outdir, f"log_rank{R}.csv")
    ckpt = os.path.join(outdir, f"model_rank{R}.safetensors")
    hist = trainer.fit((x, y), epochs=3, batch_size=8, verbose=0, callbacks=[
        cr.train.CSVLogger(csv), cr.train.ModelCheckpoint(ckpt, monitor="loss")])
    every = [None] * N
    dist.all_gather_object(every, hist.history)
    expect(all(h == every[0] for h in every), f"histories differ: {every}")
    expect(os.path.exists(csv) == (R == 0), "only rank 0 writes the CSV log")
    expect(os.path.exists(ckpt) == (R == 0), "only rank 0 writes checkpoints")
    if R == 0:
        ds = cr.data.TensorDataset(x, y)
        sampler = cr.data.DistributedSampler(ds, 1, 0, seed=0)
        ref = _mlp(0, cr.float32)
        rt = cr.train.Trainer(ref, cr.optim.SGD(ref.parameters(), lr=0.1),
                              metrics=["accuracy"])
        rh = rt.fit(cr.data.DataLoader(ds, batch_size=8 * N, sampler=sampler),
                    epochs=3, verbose=0, callbacks=[_SetEpoch(sampler)])
        for p, q in zip(model.parameters(), ref.parameters()):
            close(p.detach().numpy(), q.detach().numpy(), 1e-6, "trainer params")
        close(hist.history["loss"], rh.history["loss"], 1e-5, "epoch losses")
        close(hist.history["accuracy"], rh.history["accuracy"], 1e-6, "accuracy")


def job_resume(outdir, epochs):
    """Train to ``epochs`` epochs, resuming from ``last.safetensors`` if a run
    (with any number of processes) left one."""
    x, y = _data(cr.float32)
    model = _mlp(0, cr.float32)
    trainer = cr.train.Trainer(model, cr.optim.Adam(model.parameters(), lr=1e-2),
                               strategy="ddp")
    last = os.path.join(outdir, "last.safetensors")
    resume = last if os.path.exists(last) else None
    hist = trainer.fit((x, y), epochs=int(epochs), batch_size=8, verbose=0,
                       resume_from=resume, callbacks=[cr.train.ModelCheckpoint(
                           os.path.join(outdir, "best.safetensors"),
                           monitor="loss", save_last=last)])
    expect(trainer.epoch == int(epochs), f"epoch {trainer.epoch}")
    expect(len(hist.history["loss"]) == int(epochs), "history continues")
    if R == 0:
        print("losses", " ".join(f"{v:.4f}" for v in hist.history["loss"]))


# -- faults and debugging --------------------------------------------------------------
def job_fault_raise():
    dist.barrier()
    if R == 1:
        raise ValueError("boom in the training loop")
    t = cr.ones(3)
    dist.all_reduce(t)  # rank 0 waits here for a process that is gone


def job_fault_kill():
    dist.barrier()
    if R == 1:
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)
    t = cr.ones(3)
    dist.all_reduce(t)


def job_debug_mismatch():
    t = cr.ones(3 + R)
    dist.all_reduce(t)


def main():
    global R, N
    job, args = sys.argv[1], sys.argv[2:]
    dist.init_process_group("mpi")
    R, N = dist.get_rank(), dist.get_world_size()
    globals()["job_" + job](*args)
    dist.barrier()
    print(f"OK {job} rank {R}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
