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
:class:`AutobatchError` (``on_value='error'``).  With ``cache=True``, ``f``
runs once per example *structure* and later examples of that structure
replay its primitive calls (:mod:`._cache`).  See docs/autobatch.md.
"""
import gc

from .._tape import _state, interpreting
from ._cache import Capture, GuardFailed, Template, instantiate, replay, structure_key
from ._record import _INDEXED, AutobatchError, Recorder, Stats, walk

__all__ = ["autobatch", "AutobatchError", "Stats"]

MAX_TRACES = 512
"""How many example structures ``autobatch(f, cache=True)`` keeps traces of."""


def autobatch(f, *, on_value="force", cache=False):
    """Wrap ``f`` (written for one example) to run on a list of examples.

    ``autobatch(f)(examples)`` -> ``[f(*example) for example in examples]``,
    each example a tuple of arguments (Tensors of any shapes, nested tuples,
    Python values).  ``on_value``: what happens when ``f`` reads a tensor's
    value ('force': evaluate then, 'error': raise).  After a call,
    ``wrapped.stats`` holds the counts of the last run (nodes recorded,
    batched calls, nodes run one by one, forced evaluations, examples
    replayed from a cached trace).

    ``cache=True``: keep, per example structure (argument nesting, tensor
    shapes, dtypes and requires-grad, Python values, values of 0-d integer
    tensors, grad mode), the
    primitive calls ``f`` made, and replay them for later examples of that
    structure, in this call and later ones, instead of running ``f``'s
    Python code again.  A structure's trace is written when it comes up a
    second time (structures that never repeat, like random trees, cost
    nothing), and at most ``MAX_TRACES`` are kept.  As with ``jit``, ``f``
    must then depend only on its arguments' structure and the parameters it
    reads, not on other Python state (``wrapped.cache.clear()`` forgets the
    traces).
    """
    rec_mode = on_value
    Recorder(on_value)  # validates on_value now, not at the first call
    traces = {} if cache else None   # structure -> Template (None: not reusable)
    seen = set()                     # structures met once, not traced yet
    # Signatures name shared tensors by stable keys, so the table is kept from
    # call to call: a known signature costs no shape inference (and traces
    # store the group ids it hands out).
    sigs = {}

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
        rec = Recorder(rec_mode, sigs)
        results = []
        for ex in examples:
            if not isinstance(ex, tuple):
                raise TypeError(
                    f"autobatch: each example must be a tuple of f's arguments, "
                    f"got {type(ex).__name__}; wrap a single argument as (x,)")
        originals = examples
        found = []
        walk(examples, found.append)
        lazy = rec.leaves(found)
        examples = walk(examples, lambda t: lazy.get(id(t), t))
        if traces is None:
            with interpreting(rec):
                for ex in examples:
                    results.append(f(*ex))
        else:
            for orig, ex in zip(originals, examples):
                results.append(_traced(rec, orig, ex))
        rec.run()
        lazy = []
        walk(results, lazy.append)
        rec.materialize(lazy)
        wrapped.stats = rec.stats
        return results

    def _traced(rec, original, example):
        """``f(*example)``, replayed from or recorded into ``traces``."""
        key = structure_key(original, _state.grad)
        template = traces.get(key) if key is not None else None
        leaves = []
        walk(example, leaves.append)
        if template.__class__ is Template:
            try:
                if template.steps is None:
                    result = replay(rec.process, template, leaves)
                else:
                    result = instantiate(rec, template, leaves)
            except GuardFailed:  # values it read came out otherwise: run f
                template.misses += 1
                if template.misses > 4 and template.misses > template.hits:
                    traces[key] = None  # mostly refused: stop trying it
                with interpreting(rec):
                    return f(*example)
            template.hits += 1
            rec.stats.replayed += 1
            return result
        if key is None or key in traces or len(traces) >= MAX_TRACES or (
                key not in seen):
            # not keyable, known not reusable, no room, or met for the first
            # time: recorded as without the cache
            if key is not None and key not in traces:
                if len(seen) >= MAX_TRACES * 8:
                    seen.clear()
                seen.add(key)
            with interpreting(rec):
                return f(*example)
        seen.discard(key)
        capture = rec.capture = Capture(leaves, _INDEXED)
        forced = rec.stats.forced
        try:
            with interpreting(rec):
                pushes = _state.pushes
                result = f(*example)
                # a value read steers f's control flow; a transform inside f
                # (jvp, vmap, anomaly mode) acts above the recorder, unseen
                if rec.stats.forced != forced or _state.pushes != pushes:
                    capture.ok = False
        finally:
            rec.capture = None
        traces[key] = capture.template(result)
        return result

    wrapped.stats = None
    wrapped.cache = traces
    return wrapped
