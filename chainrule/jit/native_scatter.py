"""The gradient of a row lookup as a C loop: ``index_grad`` with one integer
index array (an embedding's backward).

``index_grad(g, idx, shape, index=(Slot(0),))`` (the index array is the
primitive's second input) is ``np.add.at(zeros(shape), idx, g)``:
row ``idx[p]`` of the result gets row ``p`` of ``g`` added, for every
position ``p`` of ``idx`` in order.  NumPy's ``add.at`` walks that
element by element through a generic path; the C loop adds whole rows.  The
additions happen in the same order, one rounding each, so the result is
bit-identical to the NumPy forward.  An index out of range (or ``g`` of
another dtype) hands the call to the NumPy forward, which raises as eager
does.
"""
import ctypes

import numpy as np

from ..ops.index import Slot
from . import native

_C = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

_SRC = r"""
/* out (rows, width) zeroed; idx (n); g (n, width).  Returns 0, or 1 when an
   index is out of range (out is then incomplete). */
int KNAME(long n, long rows, long width, const long long *restrict idx,
          const T *restrict g, T *restrict out) {
    for (long p = 0; p < n; p++) {
        long long r = idx[p];
        if (r < 0) r += rows;  /* NumPy's negative indices */
        if (r < 0 || r >= rows) return 1;
        T *restrict o = out + r * width;
        const T *restrict gp = g + p * width;
        for (long j = 0; j < width; j++) o[j] += gp[j];
    }
    return 0;
}
"""


class ScatterAddKernel:
    """``index_grad`` with one int64 index array, for one float dtype."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.name = f"scatter_add_rows_{_C[self.dtype]}"
        self.src = f"#define T {_C[self.dtype]}\n#define KNAME {self.name}\n" + _SRC
        lib, self.path, self.cache_hit = native.build(self.name, self.src)
        self.fn = getattr(lib, self.name)
        self.fn.argtypes = [ctypes.c_long] * 3 + [ctypes.c_void_p] * 3
        self.fn.restype = ctypes.c_int

    def step(self, node):
        fallback = native.prim_fallback(node)
        shape = node.params["shape"]
        rows, width = shape[0], int(np.prod(shape[1:], dtype=np.int64))
        g_in, idx_in, out_id = node.ins[0], node.ins[1], node.outs[0]
        fn, dt = self.fn, self.dtype

        def run(env):
            g, idx = env[g_in], env[idx_in]
            if g.dtype != dt or idx.dtype.kind not in "iu":
                return fallback(env)
            g = np.ascontiguousarray(g)
            idx = np.ascontiguousarray(idx, np.int64).reshape(-1)
            out = np.zeros(shape, dt)
            if fn(idx.size, rows, width, idx.ctypes.data, g.ctypes.data,
                  out.ctypes.data):
                return fallback(env)  # out of range: NumPy raises
            env[out_id] = out

        return run


def _matches(node, vals):
    if node.kind != "prim" or node.prim.name != "index_grad" or len(node.ins) != 2:
        return False
    index, shape = node.params.get("index"), node.params.get("shape")
    if index != (Slot(0),) or shape is None:
        return False
    idx, g = vals[node.ins[1]], vals[node.ins[0]]
    return (idx.dtype.kind in "iu"
            and g.dtype in _C and vals[node.outs[0]].dtype == g.dtype
            and len(shape) >= 1 and tuple(g.shape) == idx.shape + tuple(shape[1:]))


def lower(graph, required=False):
    """Turn matching ``index_grad`` nodes into kernel nodes (in place)."""
    kernels = {}
    for n in graph.nodes:
        if not _matches(n, graph.values):
            continue
        dt = graph.values[n.ins[0]].dtype
        k = native.cached_kernel(kernels, dt, lambda: ScatterAddKernel(dt),
                                 "scatter kernel", required)
        if k is None:
            return graph
        native.make_kernel_node(n, k)
    return graph
