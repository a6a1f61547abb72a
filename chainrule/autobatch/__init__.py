"""``autobatch``: run code written for one example on many examples of
different shapes, batching what can be batched.

``autobatch(f)(examples)`` returns ``[f(*ex) for ex in examples]``.  ``f``
runs once per example under a recording interpreter: calls on the examples'
tensors become lazy nodes with known shapes instead of being computed.  The
recorded nodes are then grouped -- the same primitive on operands of the
same shapes, from different examples or from independent parts of one
example (time steps of different sentences, tree nodes at one height) -- and
each group runs as one batched call through the batching rules.  The
batched calls are ordinary recorded primitive calls, so the results are
differentiable and their backward pass is batched the same way.

Control flow in ``f`` may depend on shapes and structure (a sentence's
length, a tree's shape), not on values: reading a value while recording
evaluates what is pending (``on_value='force'``, the default) or raises
:class:`AutobatchError` (``on_value='error'``).  See docs/autobatch.md.
"""
import gc

from .._tape import interpreting
from ._record import AutobatchError, Recorder, Stats, walk

__all__ = ["autobatch", "AutobatchError", "Stats"]


def autobatch(f, *, on_value="force"):
    """Wrap ``f`` (written for one example) to run on a list of examples.

    ``autobatch(f)(examples)`` -> ``[f(*example) for example in examples]``,
    each example a tuple of arguments (Tensors of any shapes, nested tuples,
    Python values).  ``on_value``: what happens when ``f`` reads a tensor's
    value ('force': evaluate then, 'error': raise).  After a call,
    ``wrapped.stats`` holds the counts of the last run (nodes recorded,
    batched calls, nodes run one by one, forced evaluations).
    """
    rec_mode = on_value
    Recorder(on_value)  # validates on_value now, not at the first call

    def wrapped(examples):
        # Recording makes many small objects that live until the end; the
        # cyclic collector would traverse them again and again for nothing.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return run(examples)
        finally:
            if enabled:
                gc.enable()

    def run(examples):
        rec = Recorder(rec_mode)
        results = []
        for ex in examples:
            if not isinstance(ex, tuple):
                raise TypeError(
                    f"autobatch: each example must be a tuple of f's arguments, "
                    f"got {type(ex).__name__}; wrap a single argument as (x,)")
        found = []
        walk(examples, found.append)
        lazy = rec.leaves(found)
        examples = walk(examples, lambda t: lazy.get(id(t), t))
        with interpreting(rec):
            for ex in examples:
                results.append(f(*ex))
        rec.run()
        lazy = []
        walk(results, lazy.append)
        rec.materialize(lazy)
        wrapped.stats = rec.stats
        return results

    wrapped.stats = None
    return wrapped
