"""A ``linear`` node whose only reader is a ``relu`` (through reshapes) as one
generated C kernel: the gemm NumPy's ``x @ w.T`` makes (same CBLAS call,
found by ``blas.gemms``), then one pass adding the bias and applying
``np.maximum(t, 0)`` (branch-free: NaN stays, -0 becomes +0) instead of
NumPy's bias pass and a separate relu pass.  Bit-identical to the replay.

The native backend (``native.lower``) hands its graph here.  Rows or
columns of one (NumPy then calls gemv), other dtypes, or other shapes at
run time: the replay's nodes run instead.
"""
import ctypes

import numpy as np

from . import blas, native
from .native import contiguous

_CT = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

_SRC = r"""
/* out (m, n) = relu(x (m, k) @ w (n, k)^T + b (n) or no bias) */
void PFX_linear_relu(long m, long n, long k, const T *restrict x,
                     const T *restrict w, const T *restrict b, T *restrict out,
                     void *gemm) {
    ((gemm_t)gemm)(101, 111, 112, m, n, k, (T)1, x, k, w, k, (T)0, out, n);
    for (long i = 0; i < m; i++) {
        T *o = out + i * n;
        for (long j = 0; j < n; j++) {
            const T t = b ? o[j] + b[j] : o[j];
            const T r = t > 0 ? t : (T)0;
            o[j] = t != t ? t : r;
        }
    }
}
"""


class LinearKernels:
    """The linear+relu kernel for one dtype (one library)."""

    def __init__(self, dtype, gemm, bint):
        self.dtype = np.dtype(dtype)
        t = _CT[self.dtype]
        self.name = f"linear_{t}_{bint.replace(' ', '')}"
        self.src = (f"#define T {t}\n#define BINT {bint}\n" + blas.GEMM_T
                    + _SRC.replace("PFX_", self.name + "_"))
        lib, self.path, self.cache_hit = native.build(self.name, self.src)
        p, lng = ctypes.c_void_p, ctypes.c_long
        self.fn = getattr(lib, self.name + "_linear_relu")
        self.fn.argtypes = [lng, lng, lng, p, p, p, p, p]
        self.fn.restype = None
        self.gemm = gemm


class _LinearRelu(native.LibraryNode):
    """``linear -> reshape* -> relu`` as one kernel node."""

    def __init__(self, kernels, nodes, out_shape):
        super().__init__(kernels, "linear_relu")
        self.nodes, self.out_shape = nodes, out_shape

    def step(self, node):
        from .replay import step_for

        fb = native.run_steps([step_for(n) for n in self.nodes],
                              drop=[o for n in self.nodes[:-1] for o in n.outs])
        ins, o, shape = tuple(node.ins), node.outs[0], self.out_shape
        dt, fn, gemm = self.k.dtype, self.k.fn, self.k.gemm

        def run(env):
            x, w = env[ins[0]], env[ins[1]]
            b = env[ins[2]] if len(ins) > 2 else None
            if x.dtype != dt or w.dtype != dt or x.ndim != 2 or w.ndim != 2 \
                    or x.shape[0] < 2 or w.shape[0] < 2 or x.shape[1] != w.shape[1] \
                    or x.shape[1] == 0 or (b is not None and (
                        b.dtype != dt or b.shape != (w.shape[0],))):
                return fb(env)
            x = contiguous(x)
            w = contiguous(w)
            m, k = x.shape
            n = w.shape[0]
            out = np.empty((m, n), dt)
            fn(m, n, k, x.ctypes.data, w.ctypes.data,
               None if b is None else b.ctypes.data, out.ctypes.data, gemm)
            env[o] = out.reshape(shape)

        return run


def _chains(graph):
    """``linear -> reshape* -> relu`` runs whose intermediates nothing else
    reads (nor returns, nor writes back)."""
    vals, nodes = graph.values, graph.nodes
    escaping, readers = graph.escaping(), graph.readers()
    found = []
    for lin in nodes:
        if lin.kind != "prim" or lin.prim.name != "linear" or lin.params \
                or vals[lin.outs[0]].dtype not in _CT:
            continue
        chain, cur = [lin], lin.outs[0]
        while True:
            rs = readers.get(cur, [])
            if cur in escaping or len(rs) != 1 or rs[0].kind != "prim" \
                    or rs[0].ins != [cur]:
                break
            nxt = rs[0]
            if nxt.prim.name == "reshape":
                chain.append(nxt)
                cur = nxt.outs[0]
                continue
            if nxt.prim.name == "relu" and not nxt.params:
                chain.append(nxt)
                found.append(chain)
            break
    return found


def lower(graph, required=False):
    """Replace ``linear -> reshape* -> relu`` runs with one kernel node each."""
    from .ir import Node

    chains = _chains(graph)
    if not chains:
        return graph
    gemms = blas.gemms()
    vals = graph.values
    kernels = {}
    for chain in chains:
        dt = vals[chain[0].outs[0]].dtype
        if dt not in gemms:
            continue
        k = native.cached_kernel(kernels, dt, lambda: LinearKernels(dt, *gemms[dt]),
                                 "linear kernel", required)
        if k is None:
            return graph
        relu_out = chain[-1].outs[0]
        kern = _LinearRelu(k, chain, vals[relu_out].shape)
        node = Node("kernel", kern, chain[0].ins, {}, [relu_out])
        gone = {id(n) for n in chain[1:]}
        graph.nodes = [node if n is chain[0] else n for n in graph.nodes
                       if id(n) not in gone]
    return graph
