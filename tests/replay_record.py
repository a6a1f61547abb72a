"""Record the primitive calls of a piece of training, then replay them in NumPy.

:class:`Record` is an interpreter (``chainrule._tape``) that logs every
primitive call: its inputs by identity (a state array, an output of an
earlier call, or a constant seen for the first time), its params and its
outputs.  While recording it keeps a copy of every array as the last
primitive left it; an array whose value differs when it is next used (or at
the end, for the state) was changed by something that is not a primitive
call -- an escape, reported with the tensor's name.

:func:`replay` runs the record with each primitive's NumPy ``forward`` on
fresh copies of the initial state and generators, and returns what differs
from the live run (nothing, when every computation went through the table).

:func:`compare_runs` compares two records of the same code on different
states: a constant input or a parameter that differs between them was
computed from tensor data outside the table (or read to the host).
"""
import numpy as np

from chainrule._tape import Interpreter


def _root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _same(a, b):
    return (a.dtype == b.dtype and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


class Record(Interpreter):
    """Logs primitive calls.  ``state``: name -> Tensor (parameters, buffers,
    optimizer state); ``gens``: name -> ``chainrule.Generator``."""

    def __init__(self, state, gens):
        self.calls = []  # (prim, input refs, params, n outputs)
        self.outs = []  # per call: copies of its outputs as computed
        self.consts = []  # copies of constant inputs, by first use
        self.known = {}  # id(array) -> [array, ref, snapshot, name]
        self.by_root = {}  # id(root buffer) -> ids of known arrays on it
        self.escapes = []
        self.init = {}  # state ref -> initial copy
        self.gen_init = {}  # id(numpy Generator) -> (name, initial state)
        for name, t in state.items():
            a = t._data
            if id(a) not in self.known:
                ref = ("state", name)
                self.init[ref] = a.copy(order="K")
                self._bind(a, ref, name)
        for name, g in gens.items():
            self.gen_init[id(g._rng)] = (name, g._rng.bit_generator.state)
        self.gens = gens

    def _bind(self, a, ref, name):
        self.known[id(a)] = [a, ref, a.copy(order="K"), name]
        self.by_root.setdefault(id(_root(a)), set()).add(id(a))

    def _ref(self, a, k, prim, j):
        entry = self.known.get(id(a))
        if entry is None or entry[0] is not a:
            ref = ("const", len(self.consts))
            self.consts.append(a.copy(order="K"))
            self._bind(a, ref, f"constant input {j} of call #{k} ({prim.name})")
            return ref
        if not _same(entry[2], a):
            self.escapes.append(
                f"{entry[3]} changed without a primitive writing it (seen as input "
                f"{j} of call #{k} {prim.name})")
            entry[2] = a.copy(order="K")
        return entry[1]

    def process(self, prim, inputs, params):
        k = len(self.calls)
        refs = [self._ref(t._data, k, prim, j) for j, t in enumerate(inputs)]
        for v in params.values():
            if isinstance(v, np.random.Generator) and id(v) not in self.gen_init:
                self.escapes.append(f"call #{k} {prim.name} draws from a generator "
                                    "that is not part of the recorded state")
        outs = self.evaluate(prim, inputs, params)
        self.calls.append((prim, refs, dict(params), len(outs)))
        # A mutated input (and every known array on its buffer) now holds
        # what this call wrote.
        for i in prim.mutates or ():
            if i < len(inputs):
                for aid in self.by_root.get(id(_root(inputs[i]._data)), ()):
                    e = self.known[aid]
                    e[2] = e[0].copy(order="K")
        self.outs.append([o._data.copy(order="K") for o in outs])
        for j, o in enumerate(outs):
            self._bind(o._data, ("out", k, j), f"output {j} of call #{k} "
                       f"({prim.name})")
        return outs

    def finish(self, state):
        """After the run: where each state tensor's value came from."""
        self.final = {}
        for name, t in state.items():
            a = t._data
            e = self.known.get(id(a))
            if e is None or e[0] is not a:
                self.escapes.append(f"{name} holds an array that no recorded call "
                                    "produced")
                continue
            if not _same(e[2], a):
                self.escapes.append(f"{name} changed without a primitive writing it")
            self.final[name] = (e[1], a.copy(order="K"))
        self.gen_final = {n: g._rng.bit_generator.state for n, g in self.gens.items()}
        return self


def replay(rec):
    """Run ``rec`` in NumPy from fresh copies; a list of what differs."""
    env = {ref: a.copy(order="K") for ref, a in rec.init.items()}
    gens = {}
    for gid, (name, st) in rec.gen_init.items():
        g = np.random.Generator(np.random.PCG64())
        g.bit_generator.state = st
        gens[gid] = (name, g)
    problems = []
    for k, (prim, refs, params, n_out) in enumerate(rec.calls):
        args = []
        for r in refs:
            if r not in env:  # a constant, at its first use
                env[r] = rec.consts[r[1]].copy(order="K")
            args.append(env[r])
        params = {p: gens[id(v)][1] if isinstance(v, np.random.Generator) else v
                  for p, v in params.items()}
        with np.errstate(all="ignore"):
            out = prim.forward(*args, **params)
        outs = [out] if prim.n_out == 1 else list(out)
        for j, o in enumerate(outs):
            o = o if type(o) is np.ndarray else np.asarray(o)
            env[("out", k, j)] = o
            if not problems and not _same(o, rec.outs[k][j]):
                problems.append(f"call #{k} {prim.name}: output {j} differs on "
                                "replay from the recorded run")
    for name, (ref, live) in rec.final.items():
        if not _same(env[ref], live):
            problems.append(f"{name} differs after replay")
    for gid, (name, g) in gens.items():
        if g.bit_generator.state != rec.gen_final[name]:
            problems.append(f"generator {name} is in a different state after replay")
    return problems


def _param_equal(a, b):
    if isinstance(a, np.random.Generator) or isinstance(b, np.random.Generator):
        return isinstance(a, np.random.Generator) and isinstance(b,
                                                                 np.random.Generator)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and _same(a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_param_equal(x, y) for x, y in zip(a, b))
    if hasattr(a, "__slots__") and type(a) is type(b) and hasattr(a, "first"):
        return _param_equal(a.first, b.first) and _param_equal(a.second, b.second)
    try:
        return bool(a == b) or (a != a and b != b)
    except (TypeError, ValueError):
        return a is b


def compare_runs(a, b):
    """Differences between records ``a`` and ``b`` of one step on two states."""
    if len(a.calls) != len(b.calls) or any(
            x[0] is not y[0] for x, y in zip(a.calls, b.calls)):
        for k, (x, y) in enumerate(zip(a.calls, b.calls)):
            if x[0] is not y[0]:
                return [f"the calls differ from #{k} on ({x[0].name} vs {y[0].name}): "
                        "control flow read tensor data"]
        return [f"{len(a.calls)} vs {len(b.calls)} calls: control flow read tensor "
                "data"]
    problems = []
    for k, ((prim, ra, pa, _), (_, rb, pb, _)) in enumerate(zip(a.calls, b.calls)):
        for j, (x, y) in enumerate(zip(ra, rb)):
            if x[0] == "const" and y[0] == "const" and not _same(
                    a.consts[x[1]], b.consts[y[1]]):
                problems.append(f"call #{k} {prim.name}: input {j} is a constant "
                                "that depends on the state (computed outside the "
                                "table)")
            elif x != y:
                problems.append(f"call #{k} {prim.name}: input {j} comes from "
                                f"{x} in one run and {y} in the other")
        for p in pa:
            if not _param_equal(pa[p], pb.get(p)):
                problems.append(f"call #{k} {prim.name}: param {p!r} depends on the "
                                "state (read from tensor data)")
    return problems
