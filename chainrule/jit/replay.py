"""The NumPy replay backend: run a graph without autograd bookkeeping.

Each node becomes a small closure over its primitive's NumPy ``forward`` and
the positions of its inputs and outputs in one environment list; a call
fills the environment (arguments, captured state, constants), runs the
closures in order, writes rebound state back and returns fresh Tensors.
The forwards are the ones eager runs, on the same arrays in the same order,
so results are bit-identical to eager.
"""
import numpy as np

from .. import random as _random
from ..ops._core import _quiet_enter, _quiet_exit
from ..tensor import Tensor
from .ir import DEFAULT_GEN

_ndarray = np.ndarray


class GuardMiss(Exception):
    """A value the library branched on differs from the traced one.
    ``safe``: no state was written before the check, so eager can take over."""

    def __init__(self, where, safe):
        super().__init__(where)
        self.safe = safe


def _prim_step(node):
    fwd, ins, outs = node.prim.forward, tuple(node.ins), tuple(node.outs)
    params = node.params
    gen_keys = [k for k, v in params.items() if v is DEFAULT_GEN]
    quiet = node.prim.quiet
    single = node.prim.n_out == 1

    def run(env):
        p = params
        if gen_keys:
            p = dict(params)
            for k in gen_keys:
                p[k] = _random.default_generator._rng
        args = [env[i] for i in ins]
        if quiet:
            tok = _quiet_enter()
            try:
                out = fwd(*args, **p)
            finally:
                _quiet_exit(tok)
        else:
            out = fwd(*args, **p)
        if single:
            env[outs[0]] = out if out.__class__ is _ndarray else np.asarray(out)
        else:
            for o, a in zip(outs, out):
                env[o] = a if type(a) is _ndarray else np.asarray(a)

    # Fast paths for the common shapes of call (saves a list and a branch).
    if single and not gen_keys and not quiet and not params:
        o = outs[0]
        if len(ins) == 1:
            a = ins[0]

            def run(env):  # noqa: F811
                out = fwd(env[a])
                env[o] = out if out.__class__ is _ndarray else np.asarray(out)
        elif len(ins) == 2:
            a, b = ins

            def run(env):  # noqa: F811
                out = fwd(env[a], env[b])
                env[o] = out if out.__class__ is _ndarray else np.asarray(out)
    return run


def _copy_step(node):
    src, out = node.ins[0], node.outs[0]

    def run(env):
        env[out] = env[src].copy()

    return run


def _guard_step(node, safe):
    v = node.ins[0]
    how, expected, where = (node.params[k] for k in ("how", "expected", "where"))

    def run(env):
        if how == "count_nonzero":
            got = int(np.count_nonzero(env[v]))
        else:
            x = env[v].reshape(()).item()
            got = bool(x) if how == "__bool__" else x
        if got != expected:
            raise GuardMiss(where, safe)

    return run


def step_for(node, safe=True):
    """The closure that runs ``node`` on an environment list."""
    if node.kind == "prim":
        return _prim_step(node)
    if node.kind == "copy":
        return _copy_step(node)
    if node.kind == "guard":
        return _guard_step(node, safe)
    if node.kind == "kernel":
        return node.prim.step(node)
    raise AssertionError(f"unknown node kind {node.kind!r}")


class Program:
    """A graph made runnable: ``program(arg_arrays) -> list of output leaves``."""

    def __init__(self, graph):
        self.graph = graph
        self.n = len(graph.values)
        self.args = [(v.id, v.ref) for v in graph.values if v.kind == "arg"]
        used = {i for n in graph.nodes for i in n.ins} | {
            o for o in graph.outputs if o is not None} | {
            v for _, v in graph.writebacks if v is not None}
        self.slots = [(v.id, graph.slots[v.ref]) for v in graph.values
                      if v.kind == "slot" and v.id in used]
        self.consts = [(v.id, v.ref) for v in graph.values
                       if v.kind == "const" and v.id in used]
        self.fresh = [(v.id, v.ref) for v in graph.values if v.kind == "fresh"]
        steps, wrote = [], False
        for node in graph.nodes:
            steps.append(step_for(node, safe=not wrote))
            wrote = wrote or bool(node.mutates)
        self.steps = steps
        # Memory planning: a value no later node reads is dropped right after
        # its last reader runs, so the replay holds no more intermediates
        # than eager does (the environment would otherwise keep every one
        # alive to the end of the call).
        keep = {o for o in graph.outputs if o is not None} | {
            v for _, v in graph.writebacks if v is not None}
        last = {}
        for k, node in enumerate(graph.nodes):
            for i in list(node.ins) + list(node.outs):
                last[i] = k
        kills = [[] for _ in graph.nodes]
        for v, k in last.items():
            if v not in keep:
                kills[k].append(v)
        self.plan = [(st, tuple(kl)) for st, kl in zip(steps, kills)]
        self.outputs = graph.outputs
        self.out_consts = graph.out_consts
        self.writebacks = [(graph.slots[s], v) for s, v in graph.writebacks]
        self.bumps = graph.bumps
        # Gradients the call rebinds without reading (``zero_grad`` sets them
        # to None first) are let go at the start, as eager lets them go, not
        # at the write-back; only without guards, whose miss hands the call
        # to eager with the state as it was.
        read = {id(s) for _, s in self.slots}
        self.release = [] if any(n.kind == "guard" for n in graph.nodes) else [
            slot for slot, _ in self.writebacks
            if slot.kind == "grad" and id(slot) not in read]

    def __call__(self, arg_arrays):
        env = [None] * self.n
        for vid, i in self.args:
            env[vid] = arg_arrays[i]
        for vid, slot in self.slots:
            env[vid] = slot.read()
        for vid, arr in self.consts:
            env[vid] = arr
        for vid, snap in self.fresh:
            env[vid] = snap.copy()
        for slot in self.release:
            slot.write(None)
        for step, kill in self.plan:
            step(env)
            for v in kill:
                env[v] = None
        for slot, vid in self.writebacks:
            slot.write(None if vid is None else env[vid])
        for t, n in self.bumps:
            t._vc[0] += n
        return [c if o is None else Tensor._make(env[o])
                for o, c in zip(self.outputs, self.out_consts)]
