"""The compiler's graph IR: values with shapes and dtypes, and nodes.

A :class:`Graph` is a straight-line program.  Every value is an ndarray at
run time; it comes from one of four sources:

- ``arg``: the i-th tensor among the call's (flattened) arguments;
- ``slot``: a piece of captured state read at the start of the call (a
  parameter's data, a parameter's ``.grad``, an optimizer buffer);
- ``const``: an array baked into the graph (a creation function's result,
  a tensor captured from an enclosing scope);
- ``node``: an output of a node.

Nodes run in order.  Kinds: ``prim`` (a primitive's NumPy forward; in-place
stores are the ``store`` primitive), ``copy`` (a fresh copy, as the gradient
accumulator makes), ``guard`` (a value the library branched on;
a mismatch at run time sends the call back to eager) and, after fusion,
``kernel`` (a generated native kernel).  In-place mutation is explicit: a
node lists the input positions it writes (``mutates``), and passes never
move a node across a write of a value it reads.
"""


class Value:
    """One array in the graph: where it comes from, its shape and dtype."""

    __slots__ = ("id", "kind", "ref", "shape", "dtype", "dynamic")

    def __init__(self, vid, kind, ref, shape, dtype, dynamic):
        self.id = vid
        self.kind = kind  # 'arg' | 'slot' | 'const' | 'node'
        self.ref = ref  # arg index, slot index, the constant array, or node index
        self.shape = shape
        self.dtype = dtype
        self.dynamic = dynamic  # depends on arguments, state or randomness

    def __repr__(self):
        return f"%{self.id}:{self.dtype}{list(self.shape)}"


class Node:
    """One step: ``outs = op(ins, **params)``."""

    __slots__ = ("kind", "prim", "ins", "params", "outs", "mutates", "where")

    def __init__(self, kind, prim, ins, params, outs, mutates=(), where=None):
        self.kind = kind
        self.prim = prim  # a Primitive (kind 'prim'), or a kernel object
        self.ins = list(ins)
        self.params = params
        self.outs = list(outs)
        self.mutates = tuple(mutates)  # positions in ins written in place
        self.where = where  # the user's source line that issued it, if known

    @property
    def name(self):
        if self.kind == "prim":
            return self.prim.name
        if self.kind == "kernel":
            return f"kernel[{self.prim.name}]"
        return self.kind

    @property
    def pure(self):
        """No writes and no randomness: safe to fold, share or drop."""
        if self.mutates or self.kind not in ("prim", "copy"):
            return False
        return not any(_is_generator(v) for v in self.params.values())

    def __repr__(self):
        outs = ", ".join(f"%{o}" for o in self.outs)
        ins = ", ".join(f"%{i}" for i in self.ins)
        ps = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        w = f"  # writes {[self.ins[i] for i in self.mutates]}" if self.mutates else ""
        return f"{outs} = {self.name}({ins}{', ' if ins and ps else ''}{ps}){w}"


def _is_generator(v):
    import numpy as np

    return isinstance(v, np.random.Generator) or v is DEFAULT_GEN


class _DefaultGen:
    """Stands for ``chainrule.default_generator``'s stream, looked up per call
    (``manual_seed`` replaces the NumPy generator object)."""

    def __repr__(self):
        return "<default generator>"


DEFAULT_GEN = _DefaultGen()


def _short(v):
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


class Graph:
    """A traced call: values, nodes, and how results and state come out.

    ``outputs``: value ids (or ``None`` for a non-tensor leaf) of the call's
    flattened results; ``out_tree``: how to rebuild them; ``writebacks``:
    ``(slot index, value id or None)`` -- state rebound during the call
    (``p.grad = ...``); ``bumps``: ``(tensor, n)`` version-counter increments.
    """

    def __init__(self):
        self.values = []
        self.nodes = []
        self.outputs = []
        self.out_tree = None
        self.out_consts = []
        self.writebacks = []
        self.bumps = []
        self.slots = []

    def new_value(self, kind, ref, shape, dtype, dynamic):
        v = Value(len(self.values), kind, ref, tuple(shape), dtype, dynamic)
        self.values.append(v)
        return v.id

    def escaping(self):
        """Ids of the values that leave the call: results and rebound state."""
        return {o for o in self.outputs if o is not None} | {
            v for _, v in self.writebacks if v is not None}

    def readers(self):
        """``{value id: [nodes that read it]}``, in node order, each node once."""
        readers = {}
        for n in self.nodes:
            for i in set(n.ins):
                readers.setdefault(i, []).append(n)
        return readers

    def mutated_values(self):
        """Ids of values some node writes in place."""
        return {n.ins[i] for n in self.nodes for i in n.mutates}

    def format(self):
        """The graph as text, one node per line (what ``explain`` prints)."""
        lines = []
        for v in self.values:
            if v.kind != "node":
                src = (f"arg {v.ref}" if v.kind == "arg" else
                       f"state {self.slots[v.ref]}" if v.kind == "slot" else v.kind)
                lines.append(f"  {v!r} <- {src}")
        for n in self.nodes:
            lines.append(f"  {n!r}")
        outs = ", ".join("-" if o is None else f"%{o}" for o in self.outputs)
        lines.append(f"  return ({outs})")
        for s, v in self.writebacks:
            src = "None" if v is None else f"%{v}"
            lines.append(f"  state {self.slots[s]} <- {src}")
        return "\n".join(lines)
