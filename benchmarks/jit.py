"""Profile the compiled step of one workload (the timings live in the main
runner's ``chainrule-jit`` column: ``python -m benchmarks``).

``python -m benchmarks --profile W1`` (or ``python -m benchmarks.jit W1``)
prints a pyinstrument profile of two seconds of the jitted step;
``--nodes`` (``python -m benchmarks.jit W1 --nodes``) instead times each
node of the compiled graph (wall time per step, averaged): totals per op
kind, then the slowest nodes with their input shapes.
"""
import collections
import sys
import time

from .runner import make_columns
from .workloads import WORKLOADS


def profile(name, seconds=2.0, column="chainrule-jit"):
    """A pyinstrument profile of ``column``'s step of workload ``name``."""
    from pyinstrument import Profiler

    w = [w for w in WORKLOADS if w.name == name][0]
    cols, _ = make_columns(w)
    step = cols[column]
    for _ in range(3):
        step()
    p = Profiler(interval=0.0002)
    p.start()
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        step()
    p.stop()
    print(p.output_text(unicode=False, color=False, show_all=False))


def _label(node):
    name = getattr(node.prim, "name", None) or type(node.prim).__name__
    return f"{node.kind}:{name}"


def node_profile(name, steps=30, top=40, column="chainrule-jit"):
    """Seconds per step of each node of ``column``'s compiled graph of
    workload ``name``: (label, input shapes, seconds) for every node."""
    from chainrule.jit import replay

    programs = []
    init = replay.Program.__init__

    def keep(self, graph):  # the programs the jitted step builds
        init(self, graph)
        programs.append(self)

    replay.Program.__init__ = keep
    try:
        w = [w for w in WORKLOADS if w.name == name][0]
        cols, _ = make_columns(w)
        step = cols[column]
        for _ in range(3):
            step()
    finally:
        replay.Program.__init__ = init
    prog = programs[-1]  # the retrace once Adam has state: the steady step
    nodes, values = prog.graph.nodes, prog.graph.values
    secs = [0.0] * len(nodes)

    def timed(k, run):
        def run_timed(env):
            t = time.perf_counter()
            run(env)
            secs[k] += time.perf_counter() - t
        return run_timed

    prog.plan = [(timed(k, st), kill) for k, (st, kill) in enumerate(prog.plan)]
    t = time.perf_counter()
    for _ in range(steps):
        step()
    total = (time.perf_counter() - t) / steps
    rows = [(_label(n), [tuple(values[i].shape) for i in n.ins], s / steps)
            for n, s in zip(nodes, secs)]
    by_kind = collections.defaultdict(lambda: [0.0, 0])
    for label, _, s in rows:
        by_kind[label][0] += s
        by_kind[label][1] += 1
    print(f"{name}: {total * 1e3:.2f} ms per step, nodes {len(nodes)} "
          f"sum {sum(r[2] for r in rows) * 1e3:.2f} ms")
    for label, (s, c) in sorted(by_kind.items(), key=lambda kv: -kv[1][0]):
        print(f"{s * 1e3:9.3f} ms  x{c:<4d} {label}")
    print("slowest nodes:")
    order = sorted(range(len(rows)), key=lambda k: -rows[k][2])[:top]
    for k in order:
        label, shapes, s = rows[k]
        print(f"{s * 1e3:9.3f} ms  #{k:<4d} {label} {shapes}")
    return rows


if __name__ == "__main__":
    if "--nodes" in sys.argv[2:]:
        node_profile(sys.argv[1])
    else:
        profile(sys.argv[1])
