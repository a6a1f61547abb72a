"""Traces of one example, kept per example structure (``autobatch(f,
cache=True)``).

Recording runs ``f``'s Python code -- module calls, argument checks, the op
wrappers -- for every example, and that costs more than the batched
arithmetic it schedules.  With the cache, the first example of each
*structure* (the nesting of its arguments, every tensor's shape, dtype and
requires-grad, every Python value) is recorded while a :class:`Capture`
writes down the primitive calls that reach the recorder: ``(primitive,
parameters, where each operand comes from, grad mode)``.  Later examples of the same
structure -- in this call or a later one -- skip ``f`` and hand those calls
straight to the recorder (:func:`replay`), with their own tensors in the
example's places.  The recorder then does exactly what it did while
recording: the same nodes, groups, batched calls and gradients.

Most examples are replayed node by node (:func:`instantiate`): the nodes
recording made are added to the recorder's groups directly, and only the
calls that ran at once (on parameters, on the example's integer tensors,
random draws) run again.  Small values of such calls that nothing used
afterwards were read by Python -- an embedding's bounds check -- so they are
*guards*: a replay that computes another value records the example afresh
(and the check raises as it should).

A trace is what JAX's ``jit`` keeps per input shape, and it has the same
contract: ``f`` must be a function of its arguments' structure and of the
parameters it reads, make its tensors through chainrule operations, and
keep its Python side effects to itself.  A trace is not kept when recording
read a recorded value (``stats.forced``: control flow may depend on it),
wrote into a tensor in place, ran a transform inside ``f``, drew from a
generator of its own, or used a lazy tensor of another example.  Random
draws from the default generator are replayed as calls, so they draw anew.
"""
import numpy as np

from .. import random
from .._tape import _state
from ..ops.index import static_index
from ..tensor import Tensor
from ._lazy import LAZY, Node
from ._record import _lazy, walk

_LEAF, _OUT, _CONST = 0, 1, 2
_NODE, _ALIAS, _CALL, _SAME = 0, 1, 2, 3  # _SAME: a repeat, nothing to do
_DEFAULT_GEN = "the default generator's stream at replay time"


def _draw_now(params):
    """``params`` of a random draw with the default generator of now (a
    ``manual_seed`` replaces its stream)."""
    if params.get("gen") is _DEFAULT_GEN:
        return {**params, "gen": random.default_generator._rng}
    return params


class Capture:
    """Records the primitive calls of one example's ``f``.

    ``leaves``: the example's tensors in :func:`walk` order, as ``f`` sees
    them (lazy stand-ins for floating-point ones).  ``ok`` turns False when
    the trace cannot be reused (see the module docstring); ``fast`` when it
    can only be replayed call by call, not node by node (a call evaluated
    recorded values).
    """

    def __init__(self, leaves, indexed):
        self.refs = {id(t): (_LEAF, i) for i, t in enumerate(leaves)}
        self.leaves = leaves
        self.lazy_leaf = [t.__class__ in LAZY for t in leaves]
        self.leaf_nodes = {id(t._node): i for i, t in enumerate(leaves)
                           if t.__class__ in LAZY}
        self.node_step = {}  # id of a node recorded here -> its step
        self.indexed = indexed  # indexing primitive -> its number of data inputs
        self.calls = []      # (prim, params, operand refs)
        self.steps = []      # what each call did; see :func:`instantiate`
        self.keep = []       # every output, so no id is reused while recording
        self.repeats = set()  # calls that returned an earlier call's outputs
        self.ok = self.fast = True

    def ref(self, t):
        """Where operand ``t`` comes from: a leaf of the example, an output
        of an earlier call, or a constant (a parameter, a buffer)."""
        r = self.refs.get(id(t))
        if r is not None:
            return r
        if t.__class__ in LAZY:  # recorded, but not by this example
            self.ok = False
        return (_CONST, t)

    def node_ref(self, node, k):
        """The ref of output ``k`` of a lazy node of this example."""
        j = self.node_step.get(id(node))
        if j is not None:
            return (_OUT, j, k)
        i = self.leaf_nodes.get(id(node))
        if i is None:
            self.ok = False
            return None
        return (_LEAF, i)

    def add(self, rec, prim, params, refs, outs):
        """Write down call ``prim(*operands, **params) -> outs``; ``refs``
        are the operands' refs, taken before the call."""
        j = len(self.calls)
        if "gen" in params:  # a random draw: from the generator of replay time
            if params["gen"] is not random.default_generator._rng:
                self.ok = False  # a user's generator: not known at replay
            params = {**params, "gen": _DEFAULT_GEN}
        self.calls.append((prim, params, tuple(refs), _state.grad))
        self.keep.append(outs)
        if all(self.refs.get(id(o), (None,))[0] == _OUT for o in outs):
            # the recorder handed back outputs of an earlier call (it
            # remembers calls on parameters): later calls keep reading those
            self.repeats.add(j)
            self.steps.append((_SAME,))
            return
        for k, o in enumerate(outs):
            self.refs[id(o)] = (_OUT, j, k)
        self.steps.append(self._step(rec, prim, params, refs, outs) if self.fast
                          else None)

    def _step(self, rec, prim, params, refs, outs):
        lazy = [o.__class__ in LAZY for o in outs]
        if not any(lazy):  # run at once: replayed as a call
            for r in refs:
                if (r[0] == _LEAF and self.lazy_leaf[r[1]]) or (
                        r[0] == _OUT and self.steps[r[1]][0] not in (_CALL, _SAME)):
                    self.fast = False  # it evaluated recorded values
            return (_CALL, prim, params, tuple(refs), _state.grad)
        node = outs[0]._node
        if not all(lazy) or any(o._node is not node for o in outs):
            self.fast = False
            return None
        if id(node) in self.node_step or id(node) in self.leaf_nodes:
            return (_ALIAS, self.node_ref(node, outs[0]._k))  # a reshape undone
        if node.val is not None:
            self.fast = False
            return None
        self.node_step[id(node)] = len(self.steps)
        ins = tuple([self.node_ref(*x) if x.__class__ is tuple else self.ref(x)
                     for x in node.inputs])
        refold = None
        k = self.indexed.get(prim)
        if k is not None and any(r[0] != _CONST for r in refs[k:]):
            refold = (params, tuple(refs[k:]))  # the index is the example's
        sig = node.sig
        group = (1, sig) if sig[0] == "take" else (node.depth, rec.sigs[sig][0])
        return (_NODE, node.prim, node.params, ins, node.avals, sig, node.depth,
                node.grad, group, refold)

    def template(self, result):
        """The trace: calls plus the result with refs for its tensors; None
        when it cannot be reused."""
        shape = walk(result, lambda t: _Ref(self.ref(t), bool(t._rg)))
        guards = self._guards(shape)
        if not self.ok or (guards and not self.fast):
            return None
        return Template(self.calls, self.steps if self.fast else None, shape,
                        guards, self._leaf_guards(shape))

    def _leaf_guards(self, result):
        """The example's concrete tensors that no call took as an operand:
        their values were read some other way or not at all, so a replay
        needs the same values.  ``[(leaf, array)]``.  (A 0-d integer tensor
        used as an index is read as a plain int; :func:`structure_key`
        holds those values.)"""
        used = set()
        for _, _, refs, _ in self.calls:
            used.update(r[1] for r in refs if r[0] == _LEAF)
        walk(result, lambda r: r.ref[0] == _LEAF and used.add(r.ref[1]), _Ref)
        return [(i, t._data.copy()) for i, t in enumerate(self.leaves)
                if not self.lazy_leaf[i] and i not in used]

    def _guards(self, result):
        """The small values computed at once that nothing used afterwards:
        Python must have read them (an index bounds check's ``any()``), so a
        replay has to find them unchanged.  ``{call: arrays}``."""
        used = set()
        for _, _, refs, _ in self.calls:
            used.update(r[1] for r in refs if r[0] == _OUT)
        walk(result, lambda r: r.ref[0] == _OUT and used.add(r.ref[1]), _Ref)
        guards = {}
        for j, outs in enumerate(self.keep):
            if j not in used and j not in self.repeats and all(
                    o.__class__ not in LAZY and o._data.size <= 64 for o in outs):
                guards[j] = [o._data.copy() for o in outs]
        return guards


class Template:
    """One structure's trace: ``calls`` (each ``(prim, params, refs, grad
    mode)``), ``steps`` (what each call did, for :func:`instantiate`; None
    when the trace must be replayed call by call), the ``result`` as a nest
    of refs, ``guards``: the values of calls whose results Python read
    (:meth:`Capture._guards`), and ``leaf_guards``: the example's tensors
    whose values Python read (:meth:`Capture._leaf_guards`)."""

    __slots__ = ("calls", "steps", "result", "guards", "leaf_guards", "at_once",
                 "hits", "misses")

    def __init__(self, calls, steps, result, guards, leaf_guards):
        self.calls = calls
        self.steps = steps
        self.result = result
        self.guards = guards
        self.leaf_guards = leaf_guards
        self.hits = self.misses = 0  # replays done, and refused by a guard
        # the calls run at once, which only read each other and the example
        self.at_once = None if steps is None else [
            j for j, step in enumerate(steps) if step[0] == _CALL]


class GuardFailed(Exception):
    """A replayed example computed another value than its trace had read."""


def check_leaves(template, leaves):
    """Raise :class:`GuardFailed` unless ``leaves`` hold the values the trace
    read from the example's tensors."""
    for i, want in template.leaf_guards:
        if not np.array_equal(leaves[i]._data, want):
            raise GuardFailed


class _Ref:
    """A tensor's place in a template's result, and whether it required grad."""

    __slots__ = ("ref", "rg")

    def __init__(self, ref, rg):
        self.ref = ref
        self.rg = rg


def replay(process, template, leaves):
    """Run ``template``'s calls through ``process`` (the recorder's) with
    this example's ``leaves``; returns the example's result."""
    check_leaves(template, leaves)
    outs = []
    append = outs.append
    prev = _state.grad
    try:
        for prim, params, refs, grad in template.calls:
            ins = [leaves[r[1]] if r[0] == _LEAF else
                   outs[r[1]][r[2]] if r[0] == _OUT else r[1] for r in refs]
            _state.grad = grad
            o = process(prim, ins, _draw_now(params))
            append(o if o.__class__ is tuple else (o,))
    finally:
        _state.grad = prev

    def value(ref):
        r = ref.ref
        return (leaves[r[1]] if r[0] == _LEAF else
                outs[r[1]][r[2]] if r[0] == _OUT else r[1])

    return walk(template.result, value, _Ref)


def instantiate(rec, template, leaves):
    """Add ``template``'s nodes for this example (``leaves``) straight to
    ``rec``'s groups: what recording would have added, without running
    ``f`` or the recorder's bookkeeping.  Calls that ran at once (on
    parameters, on the example's integer tensors, random draws) run again
    through the recorder.  Returns the example's result."""
    check_leaves(template, leaves)
    # a lazy operand is (node, output index), a concrete one a Tensor
    lv = [(t._node, t._k) if t.__class__ in LAZY else t for t in leaves]
    steps = template.steps
    vals = [None] * len(steps)
    guards = template.guards
    # First the calls that run at once (they read only each other, the
    # example and constants), so a failed guard leaves nothing recorded.
    for j in template.at_once:
        _, prim, params, refs, grad = steps[j]
        prev, _state.grad = _state.grad, grad
        try:
            o = rec.process(prim, [lv[r[1]] if r[0] == _LEAF else
                                   vals[r[1]][r[2]] if r[0] == _OUT else r[1]
                                   for r in refs], _draw_now(params))
        finally:
            _state.grad = prev
        o = vals[j] = o if o.__class__ is tuple else (o,)
        want = guards.get(j)
        if want is not None and not all(
                np.array_equal(t._data, w) for t, w in zip(o, want)):
            raise GuardFailed
    groups = rec.groups
    for j, step in enumerate(steps):
        kind = step[0]
        if kind == _NODE:
            _, prim, params, refs, avals, sig, depth, grad, group, refold = step
            ins = [lv[r[1]] if r[0] == _LEAF else
                   vals[r[1]][r[2]] if r[0] == _OUT else r[1] for r in refs]
            if refold is not None:
                raw, irefs = refold
                params = static_index(raw, [lv[r[1]] if r[0] == _LEAF else
                                            vals[r[1]][r[2]] if r[0] == _OUT
                                            else r[1] for r in irefs])
            node = Node(prim, params, ins, avals, sig, depth, grad)
            g = groups.get(group)
            if g is None:
                groups[group] = [node]
            else:
                g.append(node)
            vals[j] = ([(node, 0)] if len(avals) == 1 else
                       [(node, k) for k in range(len(avals))])
        elif kind == _ALIAS:
            r = step[1]
            vals[j] = [lv[r[1]] if r[0] == _LEAF else vals[r[1]][r[2]]]

    def value(ref):
        r = ref.ref
        if r[0] == _LEAF:
            return leaves[r[1]]
        if r[0] == _CONST:
            return r[1]
        v = vals[r[1]][r[2]]
        if v.__class__ is not tuple:
            return v
        node, k = v
        return _lazy(rec, node, k, node.avals[k], ref.rg)

    return walk(template.result, value, _Ref)


def structure_key(example, grad):
    """A hashable key for the structure of ``example`` (nesting, tensor
    shapes, dtypes and requires-grad, Python values, the values of 0-d
    integer tensors) under grad mode ``grad``; None when some argument
    cannot be keyed."""
    try:
        return (grad, _key(example))
    except TypeError:
        return None


def _key(x):
    if isinstance(x, Tensor):
        d = x._data
        if not d.ndim and d.dtype.kind in "iub":
            # a 0-d integer tensor as an index selects like an int: indexing
            # reads its value into the call, so the value is structure
            return ("T", d.dtype.str, d.item())
        return ("T", d.shape, d.dtype.str, bool(x._rg))
    if isinstance(x, (tuple, list)):
        return (type(x), tuple(_key(v) for v in x))
    if isinstance(x, dict):
        return (dict, tuple((k, _key(v)) for k, v in x.items()))
    if x is None or isinstance(x, (bool, int, float, str)):
        return (type(x), x)
    raise TypeError(f"cannot key {type(x).__name__}")
