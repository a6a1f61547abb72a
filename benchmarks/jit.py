"""Profile the compiled step of one workload (the timings live in the main
runner's ``chainrule-jit`` column: ``python -m benchmarks``).

``python -m benchmarks --profile W1`` (or ``python -m benchmarks.jit W1``)
prints a pyinstrument profile of two seconds of the jitted step.
"""
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


if __name__ == "__main__":
    profile(sys.argv[1])
