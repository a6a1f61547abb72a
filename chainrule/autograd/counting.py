"""Op counting: how many times each primitive runs inside a block.

::

    with chainrule.autograd.count_ops() as counts:
        loss = model(x).sum()
        loss.backward()
    counts["matmul"]  # forward and backward matmuls

An interpreter on the dispatcher's stack, so it counts every primitive call
made while it is active: forward ops, vjp rules run by ``backward``, in-place
ops and fused optimizer steps.  The calls an interpreter pushed later makes
inside its own rules (a forward-mode level's jvp rule) are counted too.
"""
import collections
import contextlib

from .._tape import Interpreter, interpreting


class OpCounter(Interpreter):
    """Counts primitive calls by name in ``counts`` (a ``collections.Counter``)."""

    def __init__(self):
        self.counts = collections.Counter()

    def observe(self, prim, inputs, params, outs):
        self.counts[prim.name] += 1


@contextlib.contextmanager
def count_ops():
    """Context manager yielding a ``Counter`` of primitive name -> calls."""
    counter = OpCounter()
    with interpreting(counter):
        yield counter.counts
