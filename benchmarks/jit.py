"""The ``chainrule-jit`` column: W1-W5 with chainrule eager, ``chainrule.jit``,
PyTorch eager and ``torch.compile``, interleaved in one process.

``python -m benchmarks.jit [--quick] [--only W1 W2] [--torch-compile] [--profile W1]``

Per workload: identical weights and batch in every column, warm-up, then
``repeats`` rounds that time each column in turn for ``min_seconds``
(alternating, so machine noise hits all alike).  Reported: median ms per
step, each column's ratio to PyTorch eager, and the first-call cost of the
compiled step (the first two calls: a trace before Adam has state, the
retrace once it has, plus kernel builds or cache loads).  ``--profile``
prints a pyinstrument profile of the jitted step.
"""
import argparse
import statistics
import time

import numpy as np

from .runner import time_steps, training_step
from .workloads import WORKLOADS


def _cr_step(w, torch_state, x, y, jit):
    import chainrule as cr

    model = w.build(cr)
    model.load_state_dict({k: cr.tensor(v.detach().numpy().copy())
                           for k, v in torch_state.items()})
    cx, cy = cr.from_numpy(x), cr.from_numpy(y)
    step = training_step(cr, w, model)
    fn = cr.jit(step) if jit else step
    return (lambda: fn(cx, cy)), fn


def _torch_step(w, tmodel, x, y, compiled):
    import torch

    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    step = training_step(torch, w, tmodel)
    if compiled:
        step = torch.compile(step)
    return lambda: step(tx, ty)


def columns(w, with_torch_compile):
    """name -> step function (and the first-call seconds of the jitted one)."""
    import torch

    torch.manual_seed(0)
    tmodel = w.build(torch)
    state = {k: v.clone() for k, v in tmodel.state_dict().items()}
    x, y = w.batch(np.random.default_rng(0))
    cols = {"chainrule": _cr_step(w, state, x, y, False)[0]}
    jstep, jfn = _cr_step(w, state, x, y, True)
    t = time.perf_counter()
    jstep()
    jstep()
    first = time.perf_counter() - t
    t = time.perf_counter()
    jstep()
    first_replay = time.perf_counter() - t
    cols["chainrule-jit"] = jstep
    cols["torch"] = _torch_step(w, tmodel, x, y, False)
    notes = {}
    if with_torch_compile:
        t2 = w.build(torch)
        t2.load_state_dict(state)
        try:
            tc = _torch_step(w, t2, x, y, True)
            t = time.perf_counter()
            tc()
            notes["torch.compile first call s"] = time.perf_counter() - t
            cols["torch.compile"] = tc
        except Exception as e:  # report why, keep the other columns
            notes["torch.compile"] = f"unavailable: {type(e).__name__}: {e}"[:200]
    return cols, first, first_replay, jfn, notes


def run(quick=False, only=None, torch_compile=False):
    import torch

    torch.set_num_threads(1)
    repeats, min_s, warmup = (3, 0.3, 2) if quick else (5, 1.0, 5)
    print(f"ms per training step (median of {repeats} alternating runs of >= "
          f"{min_s:g} s), ratio to PyTorch eager in brackets")
    rows = []
    for w in WORKLOADS:
        if only and w.name not in only:
            continue
        cols, first, first_replay, jfn, notes = columns(w, torch_compile)
        for f in cols.values():
            for _ in range(warmup):
                f()
        times = {k: [] for k in cols}
        for _ in range(repeats):
            for k, f in cols.items():
                times[k].append(time_steps(f, min_s))
        med = {k: statistics.median(v) for k, v in times.items()}
        ref = med["torch"]
        cells = "  ".join(f"{k} {v:8.2f} ({v / ref:4.2f})" for k, v in med.items())
        print(f"{w.name}: {cells}  | jit first two calls {first:.2f} s, then "
              f"{1000 * first_replay:.1f} ms", flush=True)
        for k, v in notes.items():
            print(f"    {k}: {v}")
        rows.append({"workload": w.name, "ms": med, "first_call_s": first,
                     "notes": notes, "retraces": jfn.retraces})
    return rows


def profile(name):
    """A pyinstrument profile of the jitted step of workload ``name``."""
    from pyinstrument import Profiler

    w = [w for w in WORKLOADS if w.name == name][0]
    cols, *_ = columns(w, False)
    step = cols["chainrule-jit"]
    for _ in range(3):
        step()
    p = Profiler(interval=0.0002)
    p.start()
    t = time.perf_counter()
    while time.perf_counter() - t < 2:
        step()
    p.stop()
    print(p.output_text(unicode=False, color=False, show_all=False))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--torch-compile", action="store_true",
                    help="add torch.compile (its first call took 96 s here)")
    ap.add_argument("--profile")
    a = ap.parse_args()
    if a.profile:
        profile(a.profile)
    else:
        run(a.quick, a.only, a.torch_compile)


if __name__ == "__main__":
    main()
