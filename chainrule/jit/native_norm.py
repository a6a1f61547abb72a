"""Layer norm and softmax as generated C: ``layer_norm``,
``layer_norm_backward`` (over the last dim), ``softmax`` over the last dim
and the four nodes of its backward.  (The gather's gradient, ``index_grad``,
is ``native_scatter.py``'s.)

The native backend (``native.lower``) hands its graph here; such nodes of
float32 or float64 become ``kernel`` nodes doing one pass per row instead of
a dozen NumPy passes over the whole array:

- the row sums are NumPy's own pairwise summation (eight accumulators over
  blocks of up to 128, halves above), started from 0 as ``np.add.reduce``
  starts, and the means divide by the count as ``np.mean`` does, so the
  statistics, ``x_hat`` and every output are bit-identical to the NumPy
  forwards; the weight and bias gradients are summed row after row, the
  order NumPy's reduction over the leading axes takes;
- ``softmax``: one C pass for the row maxima and the shift, NumPy's own
  ``exp`` (its SIMD exp is not reproduced), one C pass for the pairwise row
  sums and the division; an ``add`` only the softmax reads, of an operand
  of a trailing shape (attention scores plus their mask), is folded into the
  shift pass (``add_softmax``: the sum is never written out); its backward
  ``g*y - y*sum(g*y)`` (a ``mul``, a ``sum``, a ``mul`` and a ``sub`` node
  whose intermediates nothing else reads) becomes one pass per row.

Rows longer than 8192 (where NumPy's reduction may work in buffered
chunks), other dtypes, or inputs
of another shape at run time: the NumPy forward runs instead.
"""
import ctypes

import numpy as np

from . import native
from .native import contiguous

_CT = {np.dtype(np.float32): ("float", "sqrtf"),
       np.dtype(np.float64): ("double", "sqrt")}
_MAX_ROW = 8192

_SRC = r"""
#include <math.h>
#include <stdlib.h>

/* NumPy's pairwise sum (numpy/_core/src/umath/loops_utils.h.src). */
static T psum(const T *a, long n) {
    if (n < 8) {
        T res = -0.0;
        for (long i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        T r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j];
        long i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    long n2 = n / 2;
    n2 -= n2 % 8;
    return psum(a, n2) + psum(a + n2, n - n2);
}

/* np.mean over a row: 0 + pairwise sum, divided by the count */
static T mean(const T *a, long n) { return ((T)0 + psum(a, n)) / (T)n; }

/* xc (row - mean) into xc, returns 1/sqrt(var + eps); tmp: scratch */
static T stats(const T *restrict x, long d, T eps, T *restrict xc,
               T *restrict tmp) {
    const T mu = mean(x, d);
    for (long j = 0; j < d; j++) xc[j] = x[j] - mu;
    for (long j = 0; j < d; j++) tmp[j] = xc[j] * xc[j];
    const T var = mean(tmp, d);
    return (T)1 / SQRT(var + eps);
}

void PFX_ln_fwd(long rows, long d, const T *restrict x, const T *restrict w,
                const T *restrict b, T eps, T *restrict out) {
    T *tmp = malloc((size_t)d * sizeof(T));
    for (long r = 0; r < rows; r++) {
        T *o = out + r * d;
        const T rstd = stats(x + r * d, d, eps, o, tmp);
        for (long j = 0; j < d; j++) o[j] = o[j] * rstd;
        if (w)
            for (long j = 0; j < d; j++) o[j] = o[j] * w[j] + b[j];
    }
    free(tmp);
}

/* gx (rows, d); gw, gb (d) zeroed by the caller, or NULL without weight.
   gw sums the rows in order (NumPy's g * x_hat is C-ordered), gb in the
   order ``order`` gives (the upstream gradient's memory order), or in
   order when it is NULL.  Row r of g starts at g + goff[r] (or r * d). */
void PFX_ln_bwd(long rows, long d, const T *restrict g, const T *restrict x,
                const T *restrict w, T eps, T *restrict gx, T *restrict gw,
                T *restrict gb, const long long *restrict order,
                const long long *restrict goff) {
    T *xh = malloc((size_t)(3 * d) * sizeof(T));
    T *tmp = xh + d, *gh = xh + 2 * d;
    for (long r = 0; r < rows; r++) {
        const T *gr = g + (goff ? goff[r] : r * d);
        T *o = gx + r * d;
        const T rstd = stats(x + r * d, d, eps, xh, tmp);
        for (long j = 0; j < d; j++) xh[j] = xh[j] * rstd;
        if (w)
            for (long j = 0; j < d; j++) gh[j] = gr[j] * w[j];
        else
            for (long j = 0; j < d; j++) gh[j] = gr[j];
        const T m1 = mean(gh, d);
        for (long j = 0; j < d; j++) tmp[j] = gh[j] * xh[j];
        const T m2 = mean(tmp, d);
        for (long j = 0; j < d; j++) o[j] = (gh[j] - m1 - xh[j] * m2) * rstd;
        if (w)
            for (long j = 0; j < d; j++) gw[j] += gr[j] * xh[j];
    }
    free(xh);
    if (w)
        for (long r = 0; r < rows; r++) {
            const long q = order ? order[r] : r;
            const T *gr = g + (goff ? goff[q] : q * d);
            for (long j = 0; j < d; j++) gb[j] += gr[j];
        }
}

/* softmax over rows, in two halves around NumPy's exp: e = x - max (a
   NaN wins the max; masked: a max that is not finite is taken as 0), then
   e /= (0 + pairwise sum of e) (masked: a zero sum is taken as 1). */
void PFX_softmax_shift(long rows, long d, const T *restrict x, T *restrict e,
                       int masked) {
    for (long r = 0; r < rows; r++) {
        const T *xr = x + r * d;
        T *er = e + r * d;
        /* eight running maxima and a NaN flag: vectorisable */
        T mm[8];
        int nan = 0;
        for (int q = 0; q < 8; q++) mm[q] = xr[0];
        long j = 0;
        for (; j + 8 <= d; j += 8)
            for (int q = 0; q < 8; q++) {
                const T v = xr[j + q];
                mm[q] = v > mm[q] ? v : mm[q];
                nan |= v != v;
            }
        for (; j < d; j++) {
            const T v = xr[j];
            mm[0] = v > mm[0] ? v : mm[0];
            nan |= v != v;
        }
        T m = mm[0];
        for (int q = 1; q < 8; q++) m = mm[q] > m ? mm[q] : m;
        if (nan) m = (T)NAN;
        if (masked && !(m - m == 0)) m = 0; /* inf or NaN */
        for (long j = 0; j < d; j++) er[j] = xr[j] - m;
    }
}

/* softmax_shift of x + a, where a's rows repeat every arows rows (an
   attention mask of shape x.shape[-2:]); each row's sum goes through a
   buffer, so x + a is never written out. */
void PFX_softmax_shift_add(long rows, long d, const T *restrict x,
                           const T *restrict a, long arows, T *restrict e,
                           int masked) {
    T *buf = malloc((size_t)d * sizeof(T));
    for (long r = 0; r < rows; r++) {
        const T *xr = x + r * d, *ar = a + (r % arows) * d;
        for (long j = 0; j < d; j++) buf[j] = xr[j] + ar[j];
        PFX_softmax_shift(1, d, buf, e + r * d, masked);
    }
    free(buf);
}

void PFX_softmax_scale(long rows, long d, T *restrict e, int masked) {
    for (long r = 0; r < rows; r++) {
        T *er = e + r * d;
        T total = (T)0 + psum(er, d);
        if (masked && total == 0) total = 1;
        for (long j = 0; j < d; j++) er[j] = er[j] / total;
    }
}

/* softmax's backward from its output y: gy = g * y, then
   gy - y * (0 + pairwise sum of gy) per row, as the four NumPy passes. */
void PFX_softmax_bwd(long rows, long d, const T *restrict g, const T *restrict y,
                     T *restrict out) {
    for (long r = 0; r < rows; r++) {
        const T *gr = g + r * d, *yr = y + r * d;
        T *o = out + r * d;
        for (long j = 0; j < d; j++) o[j] = gr[j] * yr[j];
        const T s = (T)0 + psum(o, d);
        for (long j = 0; j < d; j++) o[j] = o[j] - yr[j] * s;
    }
}

"""


def source(dtype):
    """(name, C source) of the kernels for ``dtype``."""
    t, sqrt = _CT[np.dtype(dtype)]
    name = f"norm_{t}"
    return name, (f"#define T {t}\n#define SQRT {sqrt}\n"
                  + _SRC.replace("PFX_", name + "_"))


class NormKernels:
    """The three kernels for one dtype (one library)."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.name, self.src = source(dtype)
        lib, self.path, self.cache_hit = native.build(self.name, self.src)
        p, lng = ctypes.c_void_p, ctypes.c_long
        t = ctypes.c_float if self.dtype == np.float32 else ctypes.c_double
        self.ln_fwd = getattr(lib, self.name + "_ln_fwd")
        self.ln_fwd.argtypes = [lng, lng, p, p, p, t, p]
        self.ln_bwd = getattr(lib, self.name + "_ln_bwd")
        self.ln_bwd.argtypes = [lng, lng, p, p, p, t, p, p, p, p, p]
        self.sm_shift = getattr(lib, self.name + "_softmax_shift")
        self.sm_shift.argtypes = [lng, lng, p, p, ctypes.c_int]
        self.sm_shift_add = getattr(lib, self.name + "_softmax_shift_add")
        self.sm_shift_add.argtypes = [lng, lng, p, p, lng, p, ctypes.c_int]
        self.sm_scale = getattr(lib, self.name + "_softmax_scale")
        self.sm_scale.argtypes = [lng, lng, p, ctypes.c_int]
        self.sm_bwd = getattr(lib, self.name + "_softmax_bwd")
        self.sm_bwd.argtypes = [lng, lng, p, p, p]
        for f in (self.ln_fwd, self.ln_bwd, self.sm_shift, self.sm_shift_add,
                  self.sm_scale, self.sm_bwd):
            f.restype = None


class _Node(native.LibraryNode):
    """A lowered node: ``step(node)`` gives the closure the replay runs."""

    def __init__(self, kernels, prim):
        super().__init__(kernels, prim.name)
        self.prim_name = prim.name

    def step(self, node):
        make = {"layer_norm": _ln_fwd_step, "layer_norm_backward": _ln_bwd_step,
                "softmax": _softmax_step}[self.prim_name]
        return make(self.k, *self.step_args(node))


class _AddSoftmax(native.LibraryNode):
    """An ``add`` whose only reader is a ``softmax`` over the last dim as one
    kernel node: ``(x, a) -> softmax(x + a)`` with ``a`` of a trailing shape
    of ``x`` (attention scores plus their mask); the sum is not written."""

    def __init__(self, kernels, add, softmax, x_first):
        super().__init__(kernels, "add_softmax")
        self.nodes, self.x_first = [add, softmax], x_first

    def step(self, node):
        from .replay import step_for

        add, sm = self.nodes
        fb = native.run_steps([step_for(add), step_for(sm)], drop=add.outs)
        ix, ia = node.ins
        dt, k, o = self.k.dtype, self.k, node.outs[0]
        masked, dim = int(bool(sm.params.get("masked", False))), sm.params["dim"]
        exp = np.exp

        def run(env):
            x, a = env[ix], env[ia]
            nd = x.ndim
            if x.dtype != dt or a.dtype != dt or dim != nd - 1 or a.ndim < 1 \
                    or a.shape != x.shape[nd - a.ndim:] \
                    or not 0 < x.shape[-1] <= _MAX_ROW:
                return fb(env)
            x, a = contiguous(x), contiguous(a)
            d = x.shape[-1]
            e = np.empty(x.shape, dt)
            k.sm_shift_add(x.size // d, d, x.ctypes.data, a.ctypes.data,
                           a.size // d, e.ctypes.data, masked)
            exp(e, out=e)  # NumPy's own exp, as the softmax kernel
            k.sm_scale(x.size // d, d, e.ctypes.data, masked)
            env[o] = e

        return run


def _add_softmaxes(graph):
    """``(add, softmax, x_first)``: an ``add`` of two arrays of the softmax's
    dtype, one of the output's shape and one of a trailing part of it, whose
    result only a lowerable ``softmax`` reads (nor returned, nor written
    back).  Float addition commutes, so either operand may be the mask."""
    vals, readers, escaping = graph.values, graph.readers(), graph.escaping()
    producer = {o: n for n in graph.nodes for o in n.outs}
    found = []
    for sm in graph.nodes:
        if sm.kind != "prim" or sm.prim.name != "softmax" \
                or not _lowerable(sm, vals):
            continue
        v = sm.ins[0]
        add = producer.get(v)
        if add is None or add.kind != "prim" or add.prim.name != "add" \
                or add.params or add.mutates or len(add.ins) != 2 \
                or v in escaping \
                or [id(r) for r in readers.get(v, [])] != [id(sm)]:
            continue
        out = vals[v]
        a0, a1 = (vals[i] for i in add.ins)
        if not (a0.dtype == a1.dtype == out.dtype):
            continue
        for x_first, (x, a) in ((True, (a0, a1)), (False, (a1, a0))):
            n = len(a.shape)
            if tuple(x.shape) == tuple(out.shape) and n >= 1 \
                    and tuple(a.shape) == tuple(out.shape)[len(out.shape) - n:]:
                found.append((add, sm, x_first))
                break
    return found


class _SoftmaxBackward(native.LibraryNode):
    """The four nodes of softmax's vjp (``mul``, ``sum`` over the last dim,
    ``mul``, ``sub``) as one kernel node: ``(g, y) -> g*y - y*sum(g*y)``."""

    def __init__(self, kernels, nodes):
        super().__init__(kernels, "softmax_backward")
        self.nodes = nodes

    def step(self, node):
        from .replay import step_for

        fallback = native.run_steps([step_for(n) for n in self.nodes])
        (g_id, y_id), o = node.ins, node.outs[0]
        dt, run_c = self.k.dtype, self.k.sm_bwd

        def run(env):
            g, y = env[g_id], env[y_id]
            if g.dtype != dt or y.dtype != dt or g.shape != y.shape \
                    or not g.flags.c_contiguous or not y.flags.c_contiguous:
                return fallback(env)
            out = np.empty(g.shape, dt)
            d = g.shape[-1]
            run_c(g.size // d, d, g.ctypes.data, y.ctypes.data, out.ctypes.data)
            env[o] = out

        return run


def _ok(arrs, dt):
    return all(a.dtype == dt for a in arrs) and arrs[0].ndim >= 1 \
        and 0 < arrs[0].shape[-1] <= _MAX_ROW and arrs[0].size > 0


def _ln_fwd_step(k, prm, fallback, ins, outs):
    fb = fallback(outs)
    dt, run_c, eps = k.dtype, k.ln_fwd, prm["eps"]
    out_id = outs[0]

    def run(env):
        arrs = [env[i] for i in ins]
        x = arrs[0]
        if not _ok(arrs, dt) or (len(arrs) > 1 and (
                arrs[1].shape != x.shape[-1:] or arrs[2].shape != x.shape[-1:])):
            return fb(env)
        x = contiguous(x)
        d = x.shape[-1]
        out = np.empty(x.shape, dt)
        if len(arrs) > 1:
            w, b = contiguous(arrs[1]), contiguous(arrs[2])
            run_c(x.size // d, d, x.ctypes.data, w.ctypes.data, b.ctypes.data, eps,
                  out.ctypes.data)
        else:
            run_c(x.size // d, d, x.ctypes.data, None, None, eps, out.ctypes.data)
        env[out_id] = out

    return run


def _row_order(g):
    """The rows of ``g`` (C-order numbers) in its memory order -- the order
    NumPy's sum over the leading axes visits them -- or None for a layout
    whose last axis is not unit-stride or has negative strides."""
    st = g.strides
    if st[-1] != g.itemsize or any(s < 0 for s in st):
        return None
    lead = g.shape[:-1]
    perm = sorted(range(len(lead)), key=lambda i: -st[i])  # stable
    return np.ascontiguousarray(
        np.arange(int(np.prod(lead)), dtype=np.int64).reshape(lead).transpose(perm)
    ).ravel()


def _row_offsets(g):
    """Element offset of each row of ``g`` (C-order row numbers), or None
    when its last axis is not unit-stride or a stride is negative."""
    st = g.strides
    if st[-1] != g.itemsize or any(s < 0 for s in st):
        return None
    lead = g.shape[:-1]
    idx = np.indices(lead, dtype=np.int64).reshape(len(lead), -1)
    steps = np.array([s // g.itemsize for s in st[:-1]], np.int64)
    return np.ascontiguousarray(steps @ idx)


def _ln_bwd_step(k, prm, fallback, ins, outs):
    fb = fallback(outs)
    dt, run_c, eps = k.dtype, k.ln_bwd, prm["eps"]
    layouts = {}  # strides of a non-contiguous g -> (row order, row offsets)

    def run(env):
        arrs = [env[i] for i in ins]
        g, x = arrs[0], arrs[1]
        if not _ok(arrs, dt) or g.shape != x.shape or (
                len(arrs) > 2 and arrs[2].shape != x.shape[-1:]):
            return fb(env)
        order = goff = None
        if not g.flags.c_contiguous:
            # read g in place, row by row: no copy of a permuted gradient
            key = g.strides
            got = layouts.get(key)
            if got is None:
                got = layouts[key] = (_row_order(g), _row_offsets(g))
            order, goff = got
            if order is None:
                return fb(env)
        x = contiguous(x)
        d = x.shape[-1]
        gx = np.empty(x.shape, dt)
        if len(arrs) > 2:
            w = contiguous(arrs[2])
            gw, gb = np.zeros(d, dt), np.zeros(d, dt)
            run_c(x.size // d, d, g.ctypes.data, x.ctypes.data, w.ctypes.data, eps,
                  gx.ctypes.data, gw.ctypes.data, gb.ctypes.data,
                  None if order is None else order.ctypes.data,
                  None if goff is None else goff.ctypes.data)
            env[outs[0]], env[outs[1]], env[outs[2]] = gx, gw, gb
        else:
            run_c(x.size // d, d, g.ctypes.data, x.ctypes.data, None, eps,
                  gx.ctypes.data, None, None, None,
                  None if goff is None else goff.ctypes.data)
            env[outs[0]] = gx

    return run


def _softmax_step(k, prm, fallback, ins, outs):
    fb = fallback(outs)
    dt, shift, scale = k.dtype, k.sm_shift, k.sm_scale
    masked, dim, o = int(bool(prm.get("masked", False))), prm["dim"], outs[0]
    exp = np.exp

    def run(env):
        x = env[ins[0]]
        if x.dtype != dt or dim != x.ndim - 1 or not 0 < x.shape[-1] <= _MAX_ROW:
            return fb(env)
        x = contiguous(x)
        d = x.shape[-1]
        e = np.empty(x.shape, dt)
        shift(x.size // d, d, x.ctypes.data, e.ctypes.data, masked)
        exp(e, out=e)  # NumPy's own exp: the result stays bit-identical
        scale(x.size // d, d, e.ctypes.data, masked)
        env[o] = e

    return run


def _lowerable(n, vals):
    name = n.prim.name
    if name == "softmax":
        v = vals[n.ins[0]]
        return v.dtype in _CT and n.params.get("dim") == len(v.shape) - 1
    if name == "layer_norm" or name == "layer_norm_backward":
        return n.params.get("k") == 1 and vals[n.ins[0]].dtype in _CT
    return False


def _softmax_backwards(graph):
    """``(mul, sum, mul, sub)`` runs that are softmax's vjp, found from the
    softmax outputs: ``a = g * y``, ``s = sum(a, last, keepdim)``,
    ``c = y * s``, ``d = a - c`` with a, s and c read by nothing else."""
    vals, nodes = graph.values, graph.nodes
    escaping, readers = graph.escaping(), graph.readers()
    found = []
    for sm in nodes:
        if sm.kind != "prim" or sm.prim.name != "softmax":
            continue
        y = sm.outs[0]
        last = len(vals[y].shape) - 1
        if vals[y].dtype not in _CT or last < 0:
            continue
        for a in readers.get(y, ()):
            if not (a.kind == "prim" and a.prim.name == "mul" and len(a.ins) == 2
                    and a.ins[1] == y and a.ins[0] != y
                    and vals[a.ins[0]].shape == vals[y].shape
                    and vals[a.ins[0]].dtype == vals[y].dtype):
                continue
            ra = readers.get(a.outs[0], [])
            sums = [n for n in ra if n.kind == "prim" and n.prim.name == "sum"
                    and tuple(n.params.get("axis") or ()) == (last,)
                    and n.params.get("keepdim") is True]
            if len(ra) != 2 or len(sums) != 1:
                continue
            b = sums[0]
            rb = readers.get(b.outs[0], [])
            if len(rb) != 1 or not (rb[0].kind == "prim" and rb[0].prim.name == "mul"
                                    and rb[0].ins == [y, b.outs[0]]):
                continue
            c = rb[0]
            rc = readers.get(c.outs[0], [])
            if len(rc) != 1 or not (rc[0].kind == "prim" and rc[0].prim.name == "sub"
                                    and rc[0].ins == [a.outs[0], c.outs[0]]):
                continue
            d = rc[0]
            if d not in ra or any(v in escaping for v in
                                  (a.outs[0], b.outs[0], c.outs[0])):
                continue
            found.append((a, b, c, d))
    return found


def lower(graph, required=False):
    """Replace layer norm and softmax nodes (and the four nodes of softmax's
    backward) of float32/float64 with kernel nodes."""
    from .ir import Node

    vals = graph.values
    kernels = {}
    for a, b, c, d in _softmax_backwards(graph):
        dt = vals[d.outs[0]].dtype
        k = native.cached_kernel(kernels, dt, lambda: NormKernels(dt),
                                 "softmax kernel", required)
        if k is None:
            return graph
        kn = Node("kernel", _SoftmaxBackward(k, [a, b, c, d]), a.ins, {}, d.outs)
        gone = {id(b), id(c), id(d)}
        graph.nodes = [kn if n is a else n for n in graph.nodes if id(n) not in gone]
    for add, sm, x_first in _add_softmaxes(graph):
        dt = vals[sm.outs[0]].dtype
        k = native.cached_kernel(kernels, dt, lambda: NormKernels(dt),
                                 "softmax kernel", required)
        if k is None:
            return graph
        ins = add.ins if x_first else add.ins[::-1]
        kn = Node("kernel", _AddSoftmax(k, add, sm, x_first), ins, {}, sm.outs)
        graph.nodes = [kn if n is sm else n for n in graph.nodes if n is not add]
    for n in graph.nodes:
        if n.kind != "prim" or not _lowerable(n, vals):
            continue
        dt = vals[n.ins[0]].dtype
        k = native.cached_kernel(kernels, dt, lambda: NormKernels(dt),
                                 "layer norm kernel", required)
        if k is None:
            return graph
        native.make_kernel_node(n, _Node(k, n.prim))
    return graph
