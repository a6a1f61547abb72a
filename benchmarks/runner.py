"""Time training steps of each workload in chainrule and PyTorch, alternating.

For each workload: build both models from the same weights and data, warm
up, then measure ``repeats`` times per framework (alternating, so machine
noise hits both alike); each measurement runs enough steps to last at least
``min_seconds``.  A step is forward + backward + ``Adam(lr=1e-3)`` update.
Reported: median ms/step, GFLOP/s and the chainrule/PyTorch ratio.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from .workloads import WORKLOADS


def blas_info():
    """(threads, kernel) of NumPy's BLAS, e.g. (2, 'SkylakeX')."""
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
        if blas:
            return blas[0]["num_threads"], blas[0].get("architecture", "?")
    except ImportError:
        pass
    return os.cpu_count() or 1, "?"


def make_pair(w, seed=0):
    """(chainrule step fn, torch step fn) training identical models on one batch."""
    cols, _ = make_columns(w, seed, jit=False)
    return cols["chainrule"], cols["torch"]


def make_columns(w, seed=0, jit=True, torch_compile=False):
    """name -> step fn for each column, all training identical models on one
    batch: ``chainrule`` (eager), ``chainrule-jit`` (the same step under
    ``chainrule.jit``), ``torch`` and ``torch.compile``.  Also returns notes
    (first-call seconds, why a column is missing)."""
    import torch

    import chainrule as cr

    torch.manual_seed(seed)
    tmodel = w.build(torch)
    state = {k: v.detach().clone() for k, v in tmodel.state_dict().items()}
    x, y = w.batch(np.random.default_rng(seed))
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    cx, cy = cr.from_numpy(x), cr.from_numpy(y)

    def cr_step(compile=None):
        model = w.build(cr)
        model.load_state_dict({k: cr.tensor(v.numpy().copy())
                               for k, v in state.items()})
        if w.make_step is not None:
            return w.make_step(cr, model, cx, cy, compile=compile)
        step = training_step(cr, w, model)
        step = step if compile is None else compile(step)
        return lambda: step(cx, cy)

    def torch_step(model, compile=None):
        if w.make_step is not None:
            return w.make_step(torch, model, tx, ty, compile=compile)
        step = training_step(torch, w, model)
        step = step if compile is None else compile(step)
        return lambda: step(tx, ty)

    cols, notes = {"chainrule": cr_step()}, {}
    if jit:
        cols["chainrule-jit"], first = jit_first_calls(cr_step)
        notes.update(first)
    cols["torch"] = torch_step(tmodel)
    if torch_compile:
        t2 = w.build(torch)
        t2.load_state_dict(state)
        try:
            tc = torch_step(t2, torch.compile)
            t = time.perf_counter()
            tc()
            notes["torch.compile first call s"] = time.perf_counter() - t
            cols["torch.compile"] = tc
        except Exception as e:  # report why, keep the other columns
            notes["torch.compile"] = f"unavailable: {type(e).__name__}: {e}"[:200]
    return cols, notes


def jit_first_calls(cr_step):
    """The jitted step, and its first-call seconds with a cold kernel cache
    (an empty cache directory: every kernel compiled) and a warm one (a second,
    fresh model and trace; kernels loaded from the cache).  "First call" is
    the first two calls: a trace before Adam has state, a retrace after."""
    import tempfile

    import chainrule as cr

    notes = {}
    old = os.environ.get("CHAINRULE_JIT_CACHE")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CHAINRULE_JIT_CACHE"] = tmp
        try:
            for label in ("cold", "warm"):
                step = cr_step(cr.jit)
                t = time.perf_counter()
                step()
                step()
                notes[f"jit first call s ({label} cache)"] = time.perf_counter() - t
        finally:
            if old is None:
                del os.environ["CHAINRULE_JIT_CACHE"]
            else:
                os.environ["CHAINRULE_JIT_CACHE"] = old
    return step, notes


def peak_traced_mb(step, steps=3):
    """Peak MB of memory allocated (NumPy arrays included: NumPy reports its
    buffers to tracemalloc) while ``step`` runs ``steps`` times, above what
    was allocated before."""
    import tracemalloc

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            step()
        return (tracemalloc.get_traced_memory()[1] - base) / 2**20
    finally:
        tracemalloc.stop()


def training_step(m, w, model):
    """``step(x, y)``: one training step of ``model`` in framework ``m``
    (forward, ``w``'s loss, backward, an ``Adam(lr=1e-3)`` update)."""
    opt = m.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        opt.zero_grad()
        loss = w.loss(m, model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def time_steps(step, min_seconds):
    """Median-free single measurement: ms per step over >= min_seconds."""
    n, total = 0, 0.0
    start = time.perf_counter()
    while total < min_seconds:
        step()
        n += 1
        total = time.perf_counter() - start
    return 1000.0 * total / n


def bench_workload(w, repeats, min_seconds, warmup, torch_compile=False):
    cols, notes = make_columns(w, torch_compile=torch_compile)
    for _ in range(warmup):
        for f in cols.values():
            f()
    runs = {k: [] for k in cols}
    for _ in range(repeats):  # interleaved: machine noise hits every column
        for k, f in cols.items():
            runs[k].append(time_steps(f, min_seconds))
    ms = {k: statistics.median(v) for k, v in runs.items()}
    c, t = ms["chainrule"], ms["torch"]
    r = {
        "workload": w.name, "title": w.title,
        "chainrule_ms": c, "torch_ms": t, "ratio": c / t,
        "chainrule_gflops": w.flops / c / 1e6, "torch_gflops": w.flops / t / 1e6,
        "chainrule_runs_ms": runs["chainrule"], "torch_runs_ms": runs["torch"],
        "ms": ms, "ratios": {k: v / t for k, v in ms.items()}, "notes": notes,
    }
    r["traced_peak_mb"] = {k: peak_traced_mb(cols[k]) for k in cols
                           if k.startswith("chainrule")}
    return r


def standalone_step(w, m, seed=0):
    """A training step for framework module ``m`` alone (own random init)."""
    m.manual_seed(seed)
    model = w.build(m)
    x, y = w.batch(np.random.default_rng(seed))
    x, y = m.from_numpy(x), m.from_numpy(y)
    if w.make_step is not None:
        return w.make_step(m, model, x, y)
    opt = m.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = w.loss(m, model(x), y)
        loss.backward()
        opt.step()

    return step


def peak_rss_mb(name, framework, steps):
    """(MB after import, peak MB) of a fresh process importing only
    ``framework`` and training workload ``name`` for ``steps`` steps."""
    # VmHWM (peak RSS) from /proc: getrusage's ru_maxrss would include the
    # parent's memory, inherited at fork before exec.
    code = (
        "def rss(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key):\n"
        "            return int(line.split()[1])\n"
        f"import {framework} as m\n"
        "base = rss('VmRSS')\n"
        "from benchmarks.runner import standalone_step\n"
        "from benchmarks.workloads import WORKLOADS\n"
        f"w = [w for w in WORKLOADS if w.name == {name!r}][0]\n"
        "step = standalone_step(w, m)\n"
        f"for _ in range({steps}): step()\n"
        "print(base, rss('VmHWM'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    base, peak = out.stdout.strip().splitlines()[-1].split()
    return int(base) / 1024.0, int(peak) / 1024.0


def import_time_ms(module, repeats=5):
    """Median wall time of ``import module`` in a fresh interpreter."""
    times = []
    for _ in range(repeats):
        code = ("import time; t = time.perf_counter(); import " + module +
                "; print(time.perf_counter() - t)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                             text=True, check=True)
        times.append(1000.0 * float(out.stdout.strip()))
    return statistics.median(times)


def run(quick=False, only=None, out_path="benchmarks/results.json",
        torch_compile=None):
    import torch

    threads, kernel = blas_info()
    torch.set_num_threads(threads)
    repeats, min_s, warmup = (3, 0.5, 3) if quick else (5, 2.0, 10)
    if torch_compile is None:
        torch_compile = not quick  # its first call takes a minute or more
    results = {"date": time.strftime("%Y-%m-%d"), "threads": threads,
               "blas_kernel": kernel, "torch": torch.__version__, "quick": quick,
               "workloads": []}
    print(f"chainrule vs PyTorch {torch.__version__}, {threads} thread(s) each "
          f"(NumPy BLAS kernel: {kernel}), {repeats} interleaved runs of >= "
          f"{min_s:g} s each; ms per step, ratio to PyTorch eager in brackets")
    names = ["chainrule", "chainrule-jit", "torch"] + (
        ["torch.compile"] if torch_compile else [])
    print(f"{'':4} {'workload':44} " + " ".join(f"{n:>16}" for n in names)
          + f" {'GFLOP/s cr':>10} {'GFLOP/s pt':>10}")
    for w in WORKLOADS:
        if only and w.name not in only:
            continue
        r = bench_workload(w, repeats, min_s, warmup, torch_compile)
        results["workloads"].append(r)
        cells = " ".join(
            f"{r['ms'][n]:8.2f} ({r['ratios'][n]:4.2f})" if n in r["ms"]
            else f"{'-':>16}" for n in names)
        print(f"{w.name:4} {w.title:44} {cells} {r['chainrule_gflops']:10.1f} "
              f"{r['torch_gflops']:10.1f}", flush=True)
    print("\nfirst call of the compiled step (trace, retrace once the optimizer "
          "has state, kernel builds or loads) and peak memory allocated during "
          "3 steps (tracemalloc, MB):")
    for r in results["workloads"]:
        n, pk = r["notes"], r["traced_peak_mb"]
        tc = n.get("torch.compile first call s")
        cold, warm = (n[f"jit first call s ({c} cache)"] for c in ("cold", "warm"))
        print(f"{r['workload']:4} jit first call {cold:.2f} s cold, {warm:.2f} s "
              "warm cache"
              + (f"; torch.compile {tc:.1f} s" if tc is not None else "")
              + f" | peak chainrule {pk['chainrule']:.1f}, chainrule-jit "
              f"{pk['chainrule-jit']:.1f}", flush=True)
        if "torch.compile" in n:
            print(f"     torch.compile {n['torch.compile']}")
    steps = 5 if quick else 20
    print("\npeak resident memory, MB (fresh process with one framework; after "
          "import -> peak while training):")
    for r in results["workloads"]:
        for fw in ("chainrule", "torch"):
            base, peak = peak_rss_mb(r["workload"], fw, steps)
            r[fw + "_import_mb"], r[fw + "_peak_mb"] = base, peak
        print(f"{r['workload']:4} chainrule {r['chainrule_import_mb']:5.0f} -> "
              f"{r['chainrule_peak_mb']:5.0f}   torch {r['torch_import_mb']:5.0f} -> "
              f"{r['torch_peak_mb']:5.0f}", flush=True)
    from .per_sample_grads import measure as per_sample, report as ps_report

    print()
    ps = per_sample(min_seconds=0.3 if quick else 1.5)
    results["per_sample_grads"] = ps
    ps_report(ps)
    ci, ti = import_time_ms("chainrule"), import_time_ms("torch")
    results["import_ms"] = {"chainrule": ci, "torch": ti}
    print(f"\nimport time (median of 5 fresh processes): chainrule {ci:.0f} ms, "
          f"torch {ti:.0f} ms")
    from .autobatch import measure, report  # unequal shapes: loop vs autobatch

    print()
    rows = measure(repeats=1 if quick else 3)
    report(rows)
    results["autobatch"] = [{"model": m, "variant": v, "ms": ms} for m, v, ms in rows]
    if out_path:
        with open(out_path, "w") as f:
            json.dump(results, f, indent=2)
        print(f"results written to {out_path}")
    return results


