"""A whole traced step as one generated C function, called once per step.

When every node of a graph is one :mod:`.codegen_c` covers (a dense
network's forward, backward, loss and Adam update), the native backend
replaces all of them by one ``kernel`` node: one ``ctypes`` call per step
instead of one Python closure per node.  Matrix products call NumPy's own
BLAS (its ``cblas_sgemm``/``cblas_dgemm``, found in the library NumPy
loaded), so they run the same GEMM kernels as the replay.

The call passes one tuple: the arrays the step reads (arguments, state,
constants), fresh arrays for the values that leave it (results, rebound
gradients) and the kernel's workspace (intermediates, each buffer reused
once its value is dead).  The C code first checks every array's shape,
dtype and layout and the class indices of the losses, and returns 1 before
writing anything if one is off; the node then runs the graph's original
nodes with NumPy replay (which raises eager's error for a bad index).

``CHAINRULE_JIT_WHOLE=0`` turns this off (the per-node kernels run).
"""
import ctypes
import hashlib
import os
import sys
import sysconfig
import threading

import numpy as np

from . import blas, native
from .codegen_c import CTYPE, NPY_TYPE, UFUNCS, Emitter, Unsupported, prelude

def _flags():
    # -fno-trapping-math: gcc may then if-convert ``g * (float)(x > 0)`` (the
    # ReLU gradient) and vectorise it; no result changes, only FP exception
    # flags, which nothing reads.
    return ["-fno-trapping-math", "-I" + sysconfig.get_paths()["include"],
            "-I" + np.get_include()]


class WholeStepKernel:
    """The nodes of a graph as one C function (see the module docstring).

    ``inputs``: value ids read from outside (arguments, state, constants);
    ``outputs``: node outputs that leave the call (fresh arrays per call);
    ``aliased``: (output, value) for results that are another value's
    buffer (an in-place update's result).
    """

    def __init__(self, graph, gemms):
        vals = graph.values
        nodes = list(graph.nodes)
        self.nodes = nodes
        escaping = graph.escaping()
        em = Emitter(graph, nodes)
        produced = [o for n in nodes for o in n.outs]
        em.emit([v for v in escaping if v in set(produced)])
        inputs = []
        for n in nodes:
            for i in n.ins:
                if vals[i].kind != "node" and i not in inputs:
                    inputs.append(i)
        written = {em.base(n.ins[k]) for n in nodes for k in n.mutates}
        for v in written:
            if vals[v].kind not in ("slot", "fresh"):
                raise Unsupported("an in-place write to an argument or constant")
        self.inputs = inputs
        self.outputs = [o for o in produced if o in escaping and o not in em.aliases]
        self.aliased = [(o, em.base(o)) for o in produced
                        if o in escaping and o in em.aliases]
        self.mutates = tuple(k for k, i in enumerate(inputs) if i in written)
        # Workspace: every other materialised node value, a buffer reused once
        # its value is dead (by size in bytes).
        def owner(i):
            return em.base(em.views.get(i, i))

        # A node kept in registers is computed inside the next node's loop:
        # its reads happen there.
        at = list(range(len(nodes)))
        for k in reversed(range(len(nodes) - 1)):
            if nodes[k].outs and nodes[k].outs[0] in em.inlined:
                at[k] = at[k + 1]
        last = {}
        for k, n in enumerate(nodes):
            for i in n.ins:
                last[owner(i)] = max(last.get(owner(i), 0), at[k])
        dies = {}
        for b, k in last.items():
            dies.setdefault(k, []).append(b)
        outs_set = set(self.outputs)
        free, self.ws_specs, where = {}, [], {}
        for k, n in enumerate(nodes):
            for o in n.outs:
                if (o in em.aliases or o in em.views or o in outs_set
                        or o in em.inlined):
                    continue
                nb = vals[o].dtype.itemsize * int(np.prod(vals[o].shape,
                                                          dtype=np.int64))
                pool = free.get(nb)
                where[o] = pool.pop() if pool else len(self.ws_specs)
                if where[o] == len(self.ws_specs):
                    self.ws_specs.append(nb)
            # After the outputs are placed (a node never writes where it reads):
            # the buffers whose last reader this is, and unread outputs.
            for b in dies.get(k, []) + [o for o in n.outs if o not in last]:
                if b in where:
                    free.setdefault(self.ws_specs[where[b]], []).append(where[b])
        self._source(vals, em, gemms, where)
        self.name = "step_" + hashlib.sha256(self.src.encode()).hexdigest()[:12]
        self.src = self.src.replace("STEPNAME", self.name)
        lib, self.path, self.cache_hit = native.build(self.name, self.src, _flags())
        getattr(lib, self.name + "_blas")(ctypes.c_void_p(gemms[0]),
                                          ctypes.c_void_p(gemms[1]))
        setu = getattr(lib, self.name + "_ufunc")
        setu.argtypes = [ctypes.py_object, ctypes.c_int, ctypes.c_int]
        for uname, slots in UFUNCS.items():
            for slot, dt in zip(slots, (np.float32, np.float64)):
                if setu(getattr(np, uname), slot, np.dtype(dt).num):
                    raise Unsupported(f"no {dt.__name__} loop of np.{uname}")
        self.fn = getattr(lib, self.name)
        self.fn.argtypes = [ctypes.py_object]
        self.fn.restype = ctypes.c_int
        self.workspace = [np.empty(nb, np.uint8) for nb in self.ws_specs]
        self.out_specs = [(vals[o].shape, vals[o].dtype) for o in self.outputs]

    def _source(self, vals, em, gemms, where):
        decl, checks = [], []
        k = 0
        written = {em.base(n.ins[j]) for n in self.nodes for j in n.mutates}
        for group, write in ((self.inputs, False), (self.outputs, True)):
            for i in group:
                v = vals[i]
                w = int(write or i in written)
                dims = ", ".join(str(d) for d in v.shape) or "0"
                checks.append(f"    {{ static const npy_intp d[] = {{{dims}}};\n"
                              f"      if (UNLIKELY(check(it[{k}], {len(v.shape)}, d, "
                              f"{NPY_TYPE[v.dtype]}, {w}))) return 1; }}")
                decl.append(f"    {CTYPE[v.dtype]} *b{i} = ({CTYPE[v.dtype]} *)"
                            f"PyArray_DATA((PyArrayObject *)it[{k}]);")
                k += 1
        base = k
        for o, slot in where.items():
            t = CTYPE[vals[o].dtype]
            decl.append(f"    {t} *b{o} = ({t} *)PyArray_DATA((PyArrayObject *)"
                        f"it[{base + slot}]);")
        k = base + len(self.ws_specs)
        self.scratch = em.scratch
        for name, t, size in em.scratch:
            decl.append(f"    {t} *{name} = ({t} *)PyArray_DATA((PyArrayObject *)"
                        f"it[{k}]);")
            k += 1
        body = "\n".join(em.lines)
        self.src = (prelude(gemms[2]) + "".join(em.helpers.values()) +
                    "void STEPNAME_blas(void *s, void *d) { sgemm_p = (sgemm_t)s; "
                    "dgemm_p = (dgemm_t)d; }\n"
                    "int STEPNAME_ufunc(PyObject *u, int slot, int type) {\n"
                    "    return set_ufunc(u, slot, type); }\n"
                    "__attribute__((hot)) int STEPNAME(PyObject *args) {\n"
                    "    PyObject **it = ((PyTupleObject *)args)->ob_item;\n"
                    + "\n".join(checks) + "\n" + "\n".join(decl) + "\n"
                    + "\n".join(dict.fromkeys(em.checks)) + "\n" + body
                    + "\n    return 0;\n}\n")

    def step(self, node):
        from .replay import step_for

        fallback = [step_for(n) for n in self.nodes]
        ins, outs, aliased = tuple(self.inputs), tuple(self.outputs), self.aliased
        specs, fn, empty = self.out_specs, self.fn, np.empty
        ws = tuple(self.workspace) + tuple(
            np.empty(size, np.float32 if t == "float" else np.float64)
            for _, t, size in self.scratch)
        lock = threading.Lock()  # the workspace is one per kernel
        # ctypes.CDLL lets go of the GIL during the call: the C code only
        # reads the tuple (which holds every array) and the arrays' fields.

        def run(env):
            if lock.acquire(False):
                try:
                    res = [empty(s, d) for s, d in specs]
                    rc = fn((*[env[i] for i in ins], *res, *ws))
                finally:
                    lock.release()
            else:
                rc = 1
            if rc:
                for f in fallback:
                    f(env)
                return
            for o, r in zip(outs, res):
                env[o] = r
            for o, s in aliased:
                env[o] = env[s]

        return run


def lower(graph):
    """``graph`` with its nodes replaced by one whole-step kernel node, or
    None when a node is not covered (or no BLAS is found)."""
    from .ir import Node

    if os.environ.get("CHAINRULE_JIT_WHOLE", "1") == "0" or sys.byteorder != "little":
        return None
    if any(n.kind not in ("prim", "copy") for n in graph.nodes) or not graph.nodes:
        return None
    gemms = blas.gemm_pair()
    if gemms is None:
        return None
    try:
        k = WholeStepKernel(graph, gemms)
    except (Unsupported, KeyError):
        return None
    node = Node("kernel", k, k.inputs, {}, k.outputs + [o for o, _ in k.aliased],
                mutates=k.mutates)
    graph.nodes = [node]
    return graph
