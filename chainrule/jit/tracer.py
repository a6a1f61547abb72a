"""The recorder: turns one eager call into a :class:`~chainrule.jit.ir.Graph`.

Tracing runs the function eagerly -- so the traced call's results and side
effects are exactly eager's -- while every primitive call is recorded.
Values are identified by their ndarray: a primitive's input array is a
previous node's output, an argument, a captured state slot, or else a
constant.  At the end the recorder compares the captured state with a
snapshot taken before the call, so a write that bypassed the primitive
table is detected (the trace is then not replayed) instead of replayed wrong.
"""
import gc
import weakref

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from .ir import DEFAULT_GEN, Graph, Node


# The indexing primitives, by their number of data inputs (index inputs follow).
_MASKED = {"getitem": 1, "index_grad": 1, "index_put": 2, "store": 2}


class TraceBreak(Exception):
    """Raised inside a ``jit`` trace when Python needs a traced value."""


class Recorder:
    """Builds the graph of one call.  ``strict``: a value-dependent branch in
    user code raises (``jit``) instead of only marking the trace broken."""

    def __init__(self, arg_arrays, slots, strict):
        self.graph = g = Graph()
        g.slots = slots
        self.strict = strict
        self.vals = {}  # id(ndarray) -> value id
        self.keep = []  # arrays seen, alive until the end (ids stay unique)
        self.broken = None  # why this trace cannot be replayed
        self.user_break = None  # the user's line that branched on a traced value
        self.written_consts = {}  # value id -> (weakref, snapshot before writing)
        self.mutated = set()  # id(ndarray) of arrays written in place
        self.drew = False
        for i, a in enumerate(arg_arrays):
            self._bind(a, g.new_value("arg", i, a.shape, a.dtype, True))
        self.slot_init, self.snap, self.vc_init = [], {}, []
        for si, s in enumerate(slots):
            arr = s.read()
            self.slot_init.append(arr)
            self.vc_init.append(s.obj._vc[0] if s.kind == "data" else 0)
            if arr is not None and id(arr) not in self.vals:
                self._bind(arr, g.new_value("slot", si, arr.shape, arr.dtype, True))
                self.snap[si] = arr.copy()
        self.rng_state = _random.default_generator.get_state()

    def _bind(self, arr, vid):
        self.vals[id(arr)] = vid
        self.keep.append(arr)
        return vid

    def val(self, arr):
        """The value id of ``arr``; an array never seen before is a constant."""
        vid = self.vals.get(id(arr))
        if vid is None:
            vid = self._bind(arr, self.graph.new_value("const", arr, arr.shape,
                                                       arr.dtype, False))
        return vid

    # -- events ---------------------------------------------------------------------
    def observe(self, prim, inputs, params, outs):
        g = self.graph
        ins = [self.val(t._data) for t in inputs]
        dyn = any(g.values[i].dynamic for i in ins)
        if any(isinstance(v, np.random.Generator) for v in params.values()):
            dyn = self.drew = True
            default = _random.default_generator._rng
            params = {k: DEFAULT_GEN if v is default else v for k, v in params.items()}
        k = _MASKED.get(prim.name)
        if k is not None and len(inputs) > k and self._count_decides_shape(
                prim, inputs):
            for i in range(k, len(inputs)):
                a = inputs[i]._data
                if a.dtype == np.bool_ and g.values[ins[i]].dynamic:
                    # A mask computed in the call selects a data-dependent
                    # number of elements: the replay checks the count (and
                    # hands the call to eager when it differs).
                    g.nodes.append(Node("guard", None, [ins[i]], {
                        "how": "count_nonzero", "expected": int(np.count_nonzero(a)),
                        "where": f"{prim.name}: the number of True values of a "
                                 "boolean mask index"}, []))
        mutates = tuple(i for i in (prim.mutates or ()) if i < len(inputs))
        for i in mutates:
            self._written(ins[i], inputs[i]._data, snapshot=False)
        ni = len(g.nodes)
        out_ids = [self._bind(o._data, g.new_value("node", ni, o._data.shape,
                                                   o._data.dtype, dyn)) for o in outs]
        g.nodes.append(Node("prim", prim, ins, dict(params), out_ids, mutates))

    @staticmethod
    def _count_decides_shape(prim, inputs):
        """Whether a mask's count of True values decides a shape: getitem's
        output, index_grad's gradient, or a written value that is not a
        single element (it must match the selection)."""
        return prim.name in ("getitem", "index_grad") or inputs[1]._data.size != 1

    def _written(self, vid, arr, snapshot):
        self.mutated.add(id(arr))
        v = self.graph.values[vid]
        if v.kind == "const" and vid not in self.written_consts:
            if not snapshot:
                self.escape("a fused in-place primitive wrote into an array that is "
                            "neither captured state nor computed in the call")
            self.written_consts[vid] = (weakref.ref(arr), arr.copy())
            v.ref = None  # decided at the end: live state or a fresh temporary

    def accumulated(self, t, grad, before):
        """The gradient accumulator set ``t.grad``, maybe to a private copy."""
        after = t.grad
        if after is None or after is before or id(after._data) in self.vals:
            return
        g = self.graph
        src = self.val(grad._data)
        arr = after._data
        out = self._bind(arr, g.new_value("node", len(g.nodes), arr.shape, arr.dtype,
                                          g.values[src].dynamic))
        g.nodes.append(Node("copy", None, [src], {}, [out]))

    def value_read(self, t, how, result):
        """Python read a tensor's value (``bool(t)``, ``t.item()``...)."""
        from ._hooks import caller

        vid = self.vals.get(id(t._data))
        if vid is None or not self.graph.values[vid].dynamic:
            return  # a constant: the same on every call
        lib, where = caller()
        if lib and how in ("item", "__bool__"):
            # Library code branching on a value (an index range check):
            # replay re-checks it and hands the call to eager if it differs.
            self.graph.nodes.append(Node("guard", None, [vid], {
                "how": how, "expected": result, "where": where}, []))
            return
        msg = (f"{where}\n  reads the value of a traced tensor ({how}); a compiled "
               "graph cannot branch on data. Move the check out of the compiled "
               "function, or use chainrule.compile (which runs such calls eagerly).")
        if self.user_break is None:
            self.user_break = msg
        self.escape(msg)
        if self.strict:
            raise TraceBreak(msg)

    def escape(self, why):
        if self.broken is None:
            self.broken = why

    # -- the end ----------------------------------------------------------------------
    def finish(self, leaves):
        """Close the graph: outputs, state write-backs; check for escapes."""
        g = self.graph
        for x in leaves:
            if isinstance(x, Tensor):
                g.outputs.append(self.val(x._data))
                g.out_consts.append(None)
            else:
                g.outputs.append(None)
                g.out_consts.append(x)
        for si, s in enumerate(g.slots):
            init, now = self.slot_init[si], s.read()
            if now is init:
                if (init is not None and id(init) not in self.mutated
                        and not np.array_equal(self.snap[si], init, equal_nan=True)):
                    self.escape(f"{s} was changed in place without a primitive")
            elif now is None:
                g.writebacks.append((si, None))
            elif id(now) in self.vals:
                g.writebacks.append((si, self.vals[id(now)]))
            else:
                self.escape(f"{s} was set to an array the trace did not compute")
            if s.kind == "data" and s.obj._vc[0] != self.vc_init[si]:
                g.bumps.append((s.obj, s.obj._vc[0] - self.vc_init[si]))
        if not self.drew and _random.default_generator.get_state() != self.rng_state:
            self.escape("the default random generator advanced outside a primitive")
        # Written constants: live state (still referenced elsewhere) or a
        # temporary made in the call (replay starts from a fresh copy).
        self.keep.clear()
        self.vals.clear()
        if self.written_consts:
            gc.collect()
            for vid, (ref, snap) in self.written_consts.items():
                arr = ref()
                v = g.values[vid]
                if arr is not None:
                    v.ref = arr
                else:
                    v.kind, v.ref = "fresh", snap
        return g
