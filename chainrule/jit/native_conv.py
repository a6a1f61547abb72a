"""Convolution and max pooling as generated C: ``conv2d``, ``conv2d_backward``,
``max_pool`` and ``pool_scatter``.

The native backend (``native.lower``) hands its graph here; every such node
of float32 or float64 becomes a ``kernel`` node:

- ``conv2d``: the window rows (``N*oh*ow, kh*kw*C``, channels last, as the
  eager primitive lays them out) are copied straight from the ``(N, C, H,
  W)`` input through a small per-image padded scratch, one BLAS gemm
  multiplies them by the weight rows, and one tiled loop adds the bias while
  turning the ``(N*oh*ow, O)`` product back to ``(N, O, oh, ow)``.  A
  ``relu`` node that is the output's only reader is folded into that loop
  (``np.maximum(t, 0)`` branch-free: NaN stays, -0 becomes +0);
- ``conv2d_backward``: the upstream gradient is turned channels last in one
  tiled loop, the weight gradient is one gemm, the input gradient one gemm
  plus col2im into a per-image scratch that is turned back to NCHW while
  still in cache.  An input gradient no node reads (the first layer's) is
  not computed at all;
- ``max_pool``: one pass over each window (ties to the first maximum, the
  first NaN wins, padding never reported) writing values and int64 indices;
  2x2 windows tiling the image go through horizontal then vertical pairs,
  in flat vectorisable passes over blocks of rows;
- ``pool_scatter``: the gradient added (or, for non-overlapping windows,
  stored) at those indices.

The gemms are the calls NumPy's ``@`` makes (same BLAS, same shapes,
transposes and leading dimensions: its bundled OpenBLAS exports CBLAS
symbols such as ``scipy_cblas_sgemm64_`` and the kernel gets the function's
address), and every sum runs in the eager order, so the kernels are
bit-identical to the replay except for the bias gradient, which stays
NumPy's ``g.sum``.

No BLAS found (convolutions then stay replay nodes), a dtype other than
float32/float64, or an index out of range at run time (``pool_scatter``):
the NumPy forward runs instead.
"""
import ctypes

import numpy as np

from ..ops.conv import _weight_rows as _eager_weight_rows
from . import blas, native
from .native import contiguous

_CT = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

_SRC = r"""
#include <stdlib.h>
#include <string.h>

enum { ROW = 101, NT = 111, TR = 112 };
#define TILE 32

/* Geometry, d[]: n c h w o kh kw dh dw pt pl sh sw oh ow hp wp */
#define GEOM                                                          \
    const long n = d[0], c = d[1], h = d[2], w = d[3], o = d[4];      \
    const long kh = d[5], kw = d[6], dh = d[7], dw = d[8];            \
    const long pt = d[9], pl = d[10], sh = d[11], sw = d[12];         \
    const long oh = d[13], ow = d[14], hp = d[15], wp = d[16];        \
    const long L = oh * ow, K = kh * kw * c;                          \
    (void)n; (void)h; (void)w; (void)o; (void)hp; (void)L; (void)K;

/* dst (cols x rows) = src (rows x cols) transposed, in cache tiles. */
static void transpose(const T *restrict src, T *restrict dst, long rows,
                      long cols) {
    for (long r0 = 0; r0 < rows; r0 += TILE)
        for (long c0 = 0; c0 < cols; c0 += TILE) {
            long r1 = r0 + TILE < rows ? r0 + TILE : rows;
            long c1 = c0 + TILE < cols ? c0 + TILE : cols;
            for (long q = c0; q < c1; q++)
                for (long r = r0; r < r1; r++)
                    dst[q * rows + r] = src[r * cols + q];
        }
}

/* out (N, O, L) = tmp (N*L, O) transposed per image, plus bias (or NULL):
   the eager order is the product, then the bias, then the transpose. */
void PFX_conv_fwd(const long *d, const T *restrict x, const T *restrict wr,
                  const T *restrict bias, T *restrict cols, T *restrict tmp,
                  T *restrict out, void *gemm, int relu) {
    GEOM
    T *pad = calloc((size_t)(hp * wp * c), sizeof(T));
    for (long i = 0; i < n; i++) {
        const T *xi = x + i * c * h * w;
        /* padded channels-last image; the border stays zero */
        for (long ch = 0; ch < c; ch++)
            for (long y = 0; y < h; y++)
                for (long xx = 0; xx < w; xx++)
                    pad[((y + pt) * wp + xx + pl) * c + ch] = xi[(ch * h + y) * w + xx];
        T *ci = cols + i * L * K;
        for (long a = 0; a < oh; a++)
            for (long b = 0; b < ow; b++) {
                T *row = ci + (a * ow + b) * K;
                for (long u = 0; u < kh; u++) {
                    const T *src = pad + ((a * sh + u * dh) * wp + b * sw) * c;
                    T *dst = row + u * kw * c;
                    if (dw == 1)
                        for (long t = 0; t < kw * c; t++) dst[t] = src[t];
                    else
                        for (long v = 0; v < kw; v++)
                            for (long ch = 0; ch < c; ch++)
                                dst[v * c + ch] = src[v * dw * c + ch];
                }
            }
    }
    free(pad);
    ((gemm_t)gemm)(ROW, NT, NT, n * L, o, K, (T)1, cols, K, wr, o, (T)0, tmp, o);
    for (long i = 0; i < n; i++) {
        const T *ti = tmp + i * L * o;
        T *oi = out + i * o * L;
        for (long p0 = 0; p0 < L; p0 += TILE) {
            long p1 = p0 + TILE < L ? p0 + TILE : L;
            for (long q = 0; q < o; q++) {
                const T bq = bias ? bias[q] : (T)0;
                if (bias && relu)
                    for (long p = p0; p < p1; p++) {
                        /* np.maximum(t, 0), branch-free: NaN stays, -0 -> +0 */
                        const T t = ti[p * o + q] + bq;
                        const T r = t > 0 ? t : (T)0;
                        oi[q * L + p] = t != t ? t : r;
                    }
                else if (bias)
                    for (long p = p0; p < p1; p++) oi[q * L + p] = ti[p * o + q] + bq;
                else if (relu)
                    for (long p = p0; p < p1; p++) {
                        const T t = ti[p * o + q];
                        const T r = t > 0 ? t : (T)0;
                        oi[q * L + p] = t != t ? t : r;
                    }
                else
                    for (long p = p0; p < p1; p++) oi[q * L + p] = ti[p * o + q];
            }
        }
    }
}

/* g (N, O, L) -> g2 (N*L, O); gwk (K, O) = cols^T g2 (or skipped when NULL);
   gx (N, C, H, W) = col2im(g2 wr^T) (or skipped when NULL). */
void PFX_conv_bwd(const long *d, const T *restrict g, const T *restrict wr,
                  const T *restrict cols, T *restrict g2, T *restrict gwk,
                  T *restrict gcols, T *restrict gx, void *gemm) {
    GEOM
    for (long i = 0; i < n; i++) transpose(g + i * o * L, g2 + i * L * o, o, L);
    if (gwk)
        ((gemm_t)gemm)(ROW, TR, NT, K, o, n * L, (T)1, cols, K, g2, o, (T)0, gwk,
                       o);
    if (!gx) return;
    ((gemm_t)gemm)(ROW, NT, TR, n * L, K, o, (T)1, g2, o, wr, o, (T)0, gcols, K);
    T *pad = malloc((size_t)(hp * wp * c) * sizeof(T));
    for (long i = 0; i < n; i++) {
        memset(pad, 0, (size_t)(hp * wp * c) * sizeof(T));
        const T *gi = gcols + i * L * K;
        /* kernel offsets outermost: every element sums its terms in the
           order of the eager loop (0 + term(0,0) + term(0,1) + ...) */
        for (long u = 0; u < kh; u++)
            for (long v = 0; v < kw; v++)
                for (long a = 0; a < oh; a++)
                    for (long b = 0; b < ow; b++) {
                        const T *src = gi + (a * ow + b) * K + (u * kw + v) * c;
                        T *dst = pad + ((a * sh + u * dh) * wp + b * sw + v * dw) * c;
                        for (long ch = 0; ch < c; ch++) dst[ch] += src[ch];
                    }
        T *xi = gx + i * c * h * w;
        for (long ch = 0; ch < c; ch++)
            for (long y = 0; y < h; y++)
                for (long xx = 0; xx < w; xx++)
                    xi[(ch * h + y) * w + xx] = pad[((y + pt) * wp + xx + pl) * c + ch];
    }
    free(pad);
}

/* 2x2 windows tiling the image (stride 2, no padding, h = 2 oh, w = 2 ow):
   rows of windows in blocks; per block one flat pass over horizontal pairs
   (the first of equals, the first NaN), then one over vertical pairs of
   those winners -- together the window's first maximum in row-major order. */
#define PBLOCK 64
static void pool2x2(long rows, long ow, const T *restrict x, T *restrict val,
                    long long *restrict idx, T *restrict hv, QT *restrict hq) {
    const long w = 2 * ow;
    for (long r0 = 0; r0 < rows; r0 += PBLOCK) {
        const long nr = r0 + PBLOCK < rows ? PBLOCK : rows - r0;
        const T *xb = x + r0 * 2 * w;
        for (long i = 0; i < nr * 2 * ow; i++) {
            const T a = xb[2 * i], b = xb[2 * i + 1];
            const int t = (b > a) | ((b != b) & (a == a));
            hv[i] = t ? b : a;
            hq[i] = (QT)t;
        }
        for (long r = 0; r < nr; r++) {
            const T *top = hv + 2 * r * ow, *bot = top + ow;
            const QT *qt = hq + 2 * r * ow, *qbt = qt + ow;
            T *vr = val + (r0 + r) * ow;
            long long *ir = idx + (r0 + r) * ow;
            for (long b = 0; b < ow; b++) {
                const T m0 = top[b], m1 = bot[b];
                const int t = (m1 > m0) | ((m1 != m1) & (m0 == m0));
                vr[b] = t ? m1 : m0;
                ir[b] = (long long)(t ? w + qbt[b] : qt[b]) + 2 * b;
            }
        }
    }
}

/* Max pooling, d[]: nc h w kh kw dh dw pt pl sh sw oh ow.  Returns 1 if a
   window holds no input element (the NumPy forward then decides). */
int PFX_max_pool(const long *d, const T *restrict x, T *restrict val,
                 long long *restrict idx) {
    const long nc = d[0], h = d[1], w = d[2], kh = d[3], kw = d[4], dh = d[5];
    const long dw = d[6], pt = d[7], pl = d[8], sh = d[9], sw = d[10];
    const long oh = d[11], ow = d[12];
    if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && pt == 0
            && pl == 0 && h == 2 * oh && w == 2 * ow) {
        T *hv = malloc((size_t)(PBLOCK * 2 * ow) * sizeof(T));
        QT *hq = malloc((size_t)(PBLOCK * 2 * ow) * sizeof(QT));
        pool2x2(nc * oh, ow, x, val, idx, hv, hq);
        free(hv);
        free(hq);
        /* indices so far are within each row pair; add the rows above */
        for (long q = 0; q < nc; q++)
            for (long a = 0; a < oh; a++) {
                long long *ir = idx + (q * oh + a) * ow;
                for (long b = 0; b < ow; b++) ir[b] += 2 * a * w;
            }
        return 0;
    }
    QT *qb = malloc((size_t)ow * sizeof(QT));
    long *step = malloc((size_t)(kh * kw) * sizeof(long));
    for (long u = 0; u < kh; u++)
        for (long v = 0; v < kw; v++) step[u * kw + v] = u * dh * w + v * dw;
    const int inside = pt == 0 && pl == 0 && (oh - 1) * sh + (kh - 1) * dh < h
                       && (ow - 1) * sw + (kw - 1) * dw < w;
    for (long q = 0; q < nc; q++) {
        const T *xq = x + q * h * w;
        T *vq = val + q * oh * ow;
        long long *iq = idx + q * oh * ow;
        if (inside) {
            /* every window lies inside the image: offsets outermost, a row
               of windows innermost, the winning offset kept as an int of
               the value's width (no bounds checks; vectorisable) */
            for (long a = 0; a < oh; a++) {
                T *vr = vq + a * ow;
                long long *ir = iq + a * ow;
                const T *r0 = xq + a * sh * w;
                for (long b = 0; b < ow; b++) {
                    vr[b] = r0[b * sw];
                    qb[b] = 0;
                }
                for (long u = 0; u < kh; u++)
                    for (long v = 0; v < kw; v++) {
                        if (u == 0 && v == 0) continue;
                        const QT s = (QT)(u * kw + v);
                        const T *r = r0 + u * dh * w + v * dw;
                        for (long b = 0; b < ow; b++) {
                            const T e = r[b * sw], m = vr[b];
                            const int take = (e > m) | ((e != e) & (m == m));
                            vr[b] = take ? e : m;
                            qb[b] = take ? s : qb[b];
                        }
                    }
                for (long b = 0; b < ow; b++)
                    ir[b] = a * sh * w + b * sw + step[qb[b]];
            }
            continue;
        }
        for (long a = 0; a < oh; a++) {
            const long y0 = a * sh - pt;
            for (long b = 0; b < ow; b++) {
                const long x0 = b * sw - pl;
                int found = 0;
                T best = 0;
                long bi = 0;
                for (long u = 0; u < kh; u++) {
                    const long y = y0 + u * dh;
                    if (y < 0 || y >= h) continue;
                    for (long v = 0; v < kw; v++) {
                        const long xx = x0 + v * dw;
                        if (xx < 0 || xx >= w) continue;
                        const long k = y * w + xx;
                        const T e = xq[k];
                        /* first maximum; the first NaN wins */
                        const int take = !found | (e > best)
                                         | ((e != e) & (best == best));
                        best = take ? e : best;
                        bi = take ? k : bi;
                        found = 1;
                    }
                }
                if (!found) {
                    free(qb);
                    free(step);
                    return 1;
                }
                vq[a * ow + b] = best;
                iq[a * ow + b] = bi;
            }
        }
    }
    free(qb);
    free(step);
    return 0;
}

/* out (nc, hw) zeros; out[q, idx] += g (or = g when windows never overlap).
   Returns 1 on an index outside [0, hw) (the NumPy forward then decides). */
int PFX_pool_scatter(long nc, long per, long hw, const T *restrict g,
                     const long long *restrict idx, T *restrict out, int unique) {
    for (long q = 0; q < nc; q++)
        for (long e = 0; e < per; e++) {
            const long long k = idx[q * per + e];
            if (k < 0 || k >= hw) return 1;
            if (unique)
                out[q * hw + k] = g[q * per + e];
            else
                out[q * hw + k] += g[q * per + e];
        }
    return 0;
}
"""


def source(dtype, bint):
    """(name, C source) of the convolution and pooling kernels for ``dtype``."""
    t = _CT[np.dtype(dtype)]
    name = f"conv_{t}_{bint.replace(' ', '')}"
    qt = "int" if t == "float" else "long long"
    return name, (f"#define T {t}\n#define QT {qt}\n#define BINT {bint}\n"
                  + blas.GEMM_T + _SRC.replace("PFX_", name + "_"))


class ConvKernels:
    """The four kernels for one dtype (one library)."""

    def __init__(self, dtype, gemm, bint):
        self.dtype = np.dtype(dtype)
        self.name, self.src = source(dtype, bint)
        lib, self.path, self.cache_hit = native.build(self.name, self.src)
        p, lng, i = ctypes.c_void_p, ctypes.c_long, ctypes.c_int
        self.gemm = gemm
        self.conv_fwd = getattr(lib, self.name + "_conv_fwd")
        self.conv_fwd.argtypes = [p] * 8 + [i]
        self.conv_bwd = getattr(lib, self.name + "_conv_bwd")
        self.conv_bwd.argtypes = [p] * 9
        self.conv_fwd.restype = self.conv_bwd.restype = None
        self.max_pool = getattr(lib, self.name + "_max_pool")
        self.max_pool.argtypes = [p] * 4
        self.scatter = getattr(lib, self.name + "_pool_scatter")
        self.scatter.argtypes = [lng, lng, lng, p, p, p, i]
        self.max_pool.restype = self.scatter.restype = i


class _Node(native.LibraryNode):
    """A lowered node: ``step(node)`` gives the closure the replay runs.
    ``relu``: the convolution's only reader was a ``relu`` node, folded in
    (``relu_node``, kept for the fallback)."""

    def __init__(self, kernels, prim, needed, relu_node=None):
        super().__init__(kernels, prim.name + ("_relu" if relu_node else ""))
        self.prim_name, self.needed, self.relu_node = prim.name, needed, relu_node

    def step(self, node):
        args = self.step_args(node)
        if self.relu_node is not None:
            return _conv_fwd_step(self.k, *args, self.needed, self.relu_node)
        make = {"conv2d": _conv_fwd_step, "conv2d_backward": _conv_bwd_step,
                "max_pool": _max_pool_step, "pool_scatter": _scatter_step}
        return make[self.prim_name](self.k, *args, self.needed)


def _geometry(x_shape, o, prm):
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = (prm["kernel"], prm["dilation"],
                                              prm["stride"], prm["windows"])
    pt, pb, pl, pr = prm["padding"]
    n, c, h, w = x_shape
    return np.array([n, c, h, w, o, kh, kw, dh, dw, pt, pl, sh, sw, oh, ow,
                     h + pt + pb, w + pl + pr], np.int64)


def _weight_rows(w):
    """(O, C, kh, kw) -> (kh*kw*C, O), as the eager primitive builds them."""
    return contiguous(_eager_weight_rows(w))


def _conv_fwd_step(k, prm, fallback, ins, outs, needed, relu_node=None):
    fb = fallback(outs)
    if relu_node is not None:  # the conv's own output, then the relu node
        from .replay import step_for

        pre = relu_node.ins[0]
        fb = native.run_steps([fallback((pre, outs[1])), step_for(relu_node)],
                              drop=(pre,))

    dt, run_c, gemm = k.dtype, k.conv_fwd, k.gemm
    relu = int(relu_node is not None)
    o_out, o_cols = (relu_node.outs[0], outs[1]) if relu else outs
    geo = {}

    def run(env):
        x, w = env[ins[0]], env[ins[1]]
        b = env[ins[2]] if len(ins) > 2 else None
        if x.dtype != dt or w.dtype != dt or (b is not None and b.dtype != dt) \
                or 0 in x.shape or 0 in w.shape:
            return fb(env)
        d = geo.get(x.shape)
        if d is None:
            d = geo[x.shape] = _geometry(x.shape, w.shape[0], prm)
        n, o, (oh, ow) = x.shape[0], w.shape[0], prm["windows"]
        x, wr = contiguous(x), _weight_rows(w)
        b = None if b is None else contiguous(b)
        cols = np.empty((n * oh * ow, wr.shape[0]), dt)
        tmp = np.empty((n * oh * ow, o), dt)
        out = np.empty((n, o, oh, ow), dt)
        run_c(d.ctypes.data, x.ctypes.data, wr.ctypes.data,
              None if b is None else b.ctypes.data, cols.ctypes.data,
              tmp.ctypes.data, out.ctypes.data, gemm, relu)
        env[o_out] = out
        env[o_cols] = cols

    return run


def _conv_bwd_step(k, prm, fallback, ins, outs, needed):
    fb = fallback(outs)
    dt, run_c, gemm = k.dtype, k.conv_bwd, k.gemm
    want_gx, want_gw = needed[0], needed[1]
    bias = prm["bias"]
    kh, kw = prm["kernel"]
    size = prm["size"]
    geo = {}

    def run(env):
        g, w, cols = env[ins[0]], env[ins[1]], env[ins[2]]
        if g.dtype != dt or w.dtype != dt or cols.dtype != dt or 0 in g.shape \
                or 0 in w.shape:
            return fb(env)
        n, o = g.shape[:2]
        c = w.shape[1]
        xs = (n, c) + tuple(size)
        d = geo.get(xs)
        if d is None:
            d = geo[xs] = _geometry(xs, o, prm)
        g0 = g  # the bias gradient sums g in its own layout, as eager does
        g, cols, wr = contiguous(g), contiguous(cols), _weight_rows(w)
        m, kk = cols.shape
        g2 = np.empty((m, o), dt)
        gwk = np.empty((kk, o), dt) if want_gw else None
        gcols = np.empty((m, kk), dt) if want_gx else None
        gx = np.empty(xs, dt) if want_gx else None
        run_c(d.ctypes.data, g.ctypes.data, wr.ctypes.data, cols.ctypes.data,
              g2.ctypes.data, None if gwk is None else gwk.ctypes.data,
              None if gcols is None else gcols.ctypes.data,
              None if gx is None else gx.ctypes.data, gemm)
        env[outs[0]] = gx
        if want_gw:
            env[outs[1]] = np.ascontiguousarray(
                gwk.reshape(kh, kw, c, o).transpose(3, 2, 0, 1))
        if bias:
            env[outs[2]] = g0.sum(axis=(0, 2, 3))

    return run


def _max_pool_step(k, prm, fallback, ins, outs, needed):
    fb = fallback(outs)
    dt, run_c = k.dtype, k.max_pool
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = (prm["kernel"], prm["dilation"],
                                              prm["stride"], prm["windows"])
    pt, _, pl, _ = prm["padding"]

    def run(env):
        x = env[ins[0]]
        if x.dtype != dt or x.ndim != 4 or 0 in x.shape:
            return fb(env)
        n, c, h, w = x.shape
        x = contiguous(x)
        d = np.array([n * c, h, w, kh, kw, dh, dw, pt, pl, sh, sw, oh, ow], np.int64)
        val = np.empty((n, c, oh, ow), dt)
        idx = np.empty((n, c, oh, ow), np.int64)
        if run_c(d.ctypes.data, x.ctypes.data, val.ctypes.data, idx.ctypes.data):
            return fb(env)
        env[outs[0]] = val
        env[outs[1]] = idx

    return run


def _scatter_step(k, prm, fallback, ins, outs, needed):
    fb = fallback(outs)
    dt, run_c = k.dtype, k.scatter
    size, unique = tuple(prm["size"]), int(bool(prm.get("unique", False)))
    hw = int(np.prod(size))

    def run(env):
        g, idx = env[ins[0]], env[ins[1]]
        if g.dtype != dt or idx.dtype != np.int64 or g.shape != idx.shape \
                or g.ndim < 2:
            return fb(env)
        n, c = g.shape[:2]
        g, idx = contiguous(g), contiguous(idx)
        out = np.zeros((n, c) + size, dt)
        per = g.size // (n * c) if n * c else 0
        if run_c(n * c, per, hw, g.ctypes.data, idx.ctypes.data, out.ctypes.data,
                 unique):
            return fb(env)
        env[outs[0]] = out

    return run


_PRIMS = ("conv2d", "conv2d_backward", "max_pool", "pool_scatter")


def lower(graph, required=False):
    """Replace the convolution and pooling nodes of float32/float64 with kernel
    nodes (NumPy replay stays for the rest, and for all of them without BLAS)."""
    vals = graph.values
    cands = [n for n in graph.nodes if n.kind == "prim" and n.prim.name in _PRIMS
             and vals[n.ins[0]].dtype in _CT]
    if not cands:
        return graph
    gemms = blas.gemms()
    read = {i for n in graph.nodes for i in n.ins} | graph.escaping()
    kernels = {}
    for n in cands:
        dt = vals[n.ins[0]].dtype
        if dt not in gemms:
            continue
        k = native.cached_kernel(kernels, dt, lambda: ConvKernels(dt, *gemms[dt]),
                                 "convolution kernel", required)
        if k is None:
            return graph
        needed = [o in read for o in n.outs]
        relu = _relu_after(n, graph) if n.prim.name == "conv2d" else None
        native.make_kernel_node(n, _Node(k, n.prim, needed, relu))
        if relu is not None:
            n.outs = [relu.outs[0], n.outs[1]]
            graph.nodes = [m for m in graph.nodes if m is not relu]
    return graph


def _relu_after(conv, graph):
    """The ``relu`` node that is the only reader of ``conv``'s output (and
    the output goes nowhere else), or None."""
    out = conv.outs[0]
    if out in graph.escaping():
        return None
    readers = [n for n in graph.nodes if out in n.ins]
    if len(readers) != 1:
        return None
    r = readers[0]
    if r.kind != "prim" or r.prim.name != "relu" or r.ins != [out] or r.params:
        return None
    return r
