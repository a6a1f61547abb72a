"""The LSTM time loop as generated C: ``lstm_seq`` and its backward.

The native backend (``native.lower``) hands its graph here; every
``lstm_seq`` / ``lstm_seq_backward`` node whose dtype is float32 or float64
becomes a ``kernel`` node that runs the whole sequence in one C call:

- forward, per step: ``acts[t] = xg[t] + h @ W_hh^T`` as one BLAS gemm
  (``beta = 1`` onto a copy of ``xg[t]``), then one fused loop for the gate
  nonlinearities, the cell and the output.  When ``xg`` is
  ``reshape(x @ W_ih^T + b)`` read by nothing else, the kernel absorbs those
  nodes: one gemm for all steps straight into the gate buffer, the bias
  added step by step (no ``xg`` array, no pass over it);
- backward, per step: one fused loop from ``dh``, ``dc`` and the saved
  activations to the four gate gradients, then ``dh = d @ W_hh`` as one
  gemm; after the loop ``dW_hh`` is one gemm over all steps at once.  A
  ``sum_to`` of ``dxg`` to the bias (its gradient) is absorbed too; the
  output gradient may be strided (batch-first models).

The matrix products go to the BLAS NumPy itself uses (its bundled OpenBLAS
exports CBLAS symbols such as ``scipy_cblas_sgemm64_``): the kernel gets the
function's address as an argument, so the library needs no link step.

The gate math follows eager's NumPy primitive (``fused._lstm_fwd`` and
``_lstm_bwd_fwd``) operation for operation -- sigmoid as ``1 / (1 +
exp(-x))``, the same products in the same order, the bias gradient summed
row by row in time order and ``dW_hh`` as one gemm over all steps -- and
``exp``/``tanh`` call NumPy's own inner loops (``codegen_c``'s ``ucall``),
so a native step is bit-identical to eager.  The exception: a batch or
hidden size of 1, where NumPy's matmul takes a gemv or its own loop instead
of gemm and the products round differently (still to rounding).

No BLAS found, a dtype other than float32/float64, or a build failure: the
nodes stay NumPy replay nodes.  At run time, inputs of another dtype or an
empty dimension run the NumPy steps the kernel node stands for.
"""
import ctypes

import numpy as np

from . import blas, native, whole_step
from .codegen_c import prelude, ufunc_slot
from .native import contiguous

# Per dtype: the C type.
_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

_SRC = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { ROW = 101, NOTR = 111, TR = 112 };

/* NumPy's exp / tanh inner loops over n contiguous elements (codegen_c's
   ucall): the same roundings as eager's np.exp / np.tanh. */
#define EXP(in, out, n) ucall(EXP_SLOT, in, out, n, sizeof(T))
#define TANH(in, out, n) ucall(TANH_SLOT, in, out, n, sizeof(T))

int NAME_ufunc(PyObject *u, int slot, int type) { return set_ufunc(u, slot, type); }

/* The time loop over acts (S, N, 4H), which holds the input's share of the
   pre-activations (bias (4H) still to add, unless NULL) and is overwritten
   with the gate activations; out (S, N, H), hT, cT (N, H), cs (S, N, H). */
static void loop_fwd(long S, long N, long H, const T *restrict bias,
                     const T *restrict whh,
                     const T *restrict h0, const T *restrict c0, T *restrict out,
                     T *restrict hT, T *restrict cT, T *restrict acts,
                     T *restrict cs, int reverse, gemm_t gemm) {
    const long G = 4 * H;
    const T *h = h0, *c = c0;
    for (long s = 0; s < S; s++) {
        const long t = reverse ? S - 1 - s : s;
        T *a = acts + t * N * G, *ct = cs + t * N * H, *ht = out + t * N * H;
        if (bias)  /* here, on a step that is in cache: no pass over memory */
            for (long n = 0; n < N; n++)
                for (long j = 0; j < G; j++) a[n * G + j] += bias[j];
        gemm(ROW, NOTR, TR, N, G, H, (T)1, h, H, whh, H, (T)1, a, G);
        /* Eager's order (fused._lstm_fwd), rounding for rounding: sigmoid
           is 1 / (1 + exp(-x)), c = f c + i g, h = tanh(c) o. */
        for (long n = 0; n < N; n++) {
            T *restrict an = a + n * G;
            const T *restrict cp = c + n * H;
            T *restrict cn = ct + n * H;
            for (long j = 0; j < 2 * H; j++) an[j] = -an[j];
            for (long j = 3 * H; j < G; j++) an[j] = -an[j];
            EXP(an, an, 2 * H);
            TANH(an + 2 * H, an + 2 * H, H);
            EXP(an + 3 * H, an + 3 * H, H);
            for (long j = 0; j < H; j++) {
                T i = (T)1 / ((T)1 + an[j]), f = (T)1 / ((T)1 + an[H + j]);
                T g = an[2 * H + j], o = (T)1 / ((T)1 + an[3 * H + j]);
                an[j] = i; an[H + j] = f; an[3 * H + j] = o;
                cn[j] = f * cp[j] + i * g;
            }
        }
        TANH(ct, ht, N * H);  /* the step's (N, H) cells in one call */
        for (long n = 0; n < N; n++)
            for (long j = 0; j < H; j++) ht[n * H + j] *= a[n * G + 3 * H + j];
        h = ht;
        c = ct;
    }
    memcpy(hT, h, sizeof(T) * N * H);
    memcpy(cT, c, sizeof(T) * N * H);
}

/* lstm_seq: xg (S, N, 4H) are the input projections. */
void FWD(long S, long N, long H, const T *restrict xg, const T *restrict whh,
         const T *restrict h0, const T *restrict c0, T *restrict out,
         T *restrict hT, T *restrict cT, T *restrict acts, T *restrict cs,
         int reverse, gemm_t gemm) {
    memcpy(acts, xg, sizeof(T) * S * N * 4 * H);
    loop_fwd(S, N, H, NULL, whh, h0, c0, out, hT, cT, acts, cs, reverse, gemm);
}

/* lstm_seq fed by its projection: xg = x (S N, F) @ w (F, 4H) + bias (4H or
   NULL): one gemm for all steps into acts, the bias added step by step (wt:
   w is stored transposed, as W_ih (4H, F)). */
void FWDP(long S, long N, long H, long F, const T *restrict x, const T *restrict w,
          int wt, const T *restrict bias, const T *restrict whh,
          const T *restrict h0, const T *restrict c0, T *restrict out,
          T *restrict hT, T *restrict cT, T *restrict acts, T *restrict cs,
          int reverse, gemm_t gemm) {
    const long G = 4 * H;
    gemm(ROW, NOTR, wt ? TR : NOTR, S * N, G, F, (T)1, x, F, w, wt ? F : G, (T)0,
         acts, G);
    loop_fwd(S, N, H, bias, whh, h0, c0, out, hT, cT, acts, cs, reverse, gemm);
}

/* Gradients of xg (dxg), W_hh (dwhh), h0 (dh), c0 (dc); dh and dc come in
   holding the gradients of h_T and c_T.  gout (S, N, H) may be strided in
   its first two dims (gst, gsn elements), as batch-first models hand it.
   db (4H, zeroed, or NULL): the bias gradient, the sum of dxg's rows. */
void BWD(long S, long N, long H, const T *restrict gout, long gst, long gsn,
         const T *restrict whh, const T *restrict h0, const T *restrict c0,
         const T *restrict out, const T *restrict acts, const T *restrict cs,
         T *restrict dxg, T *restrict dwhh, T *restrict dh, T *restrict dc,
         T *restrict db, int reverse, gemm_t gemm) {
    const long G = 4 * H;
    T *tcs = malloc(sizeof(T) * N * H), *hprev = malloc(sizeof(T) * S * N * H);
    for (long s = 0; s < S; s++) {
        const long t = reverse ? s : S - 1 - s;  /* backward: last step first */
        const long tp = reverse ? t + 1 : t - 1;
        const T *cprev = (tp < 0 || tp >= S) ? c0 : cs + tp * N * H;
        const T *a = acts + t * N * G, *ct = cs + t * N * H;
        const T *go = gout + t * gst;
        T *d = dxg + t * N * G;
        TANH(ct, tcs, N * H);
        for (long n = 0; n < N; n++) {
            const T *restrict an = a + n * G;
            const T *restrict cp = cprev + n * H;
            const T *restrict gn = go + n * gsn;
            T *restrict dn = d + n * G, *restrict dhn = dh + n * H;
            T *restrict dcn = dc + n * H;
            const T *restrict tn = tcs + n * H;
            for (long j = 0; j < H; j++) {
                T i = an[j], f = an[H + j], g = an[2 * H + j], o = an[3 * H + j];
                T tc = tn[j];
                T hj = dhn[j] + gn[j];
                T cj = dcn[j] + hj * (o * ((T)1 - tc * tc));
                dn[j] = (cj * g) * (i * ((T)1 - i));
                dn[H + j] = (cj * cp[j]) * (f * ((T)1 - f));
                dn[2 * H + j] = (cj * i) * ((T)1 - g * g);
                dn[3 * H + j] = (hj * tc) * (o * ((T)1 - o));
                dcn[j] = cj * f;
            }
        }
        gemm(ROW, NOTR, NOTR, N, H, G, (T)1, d, G, whh, H, (T)0, dh, H);
    }
    /* As eager sums them: the bias gradient row by row in time order, dW_hh
       as one gemm over all steps of d_t^T h_{t-1} (h0, then the outputs
       shifted by one step). */
    if (db)
        for (long r = 0; r < S * N; r++)
            for (long j = 0; j < G; j++) db[j] += dxg[r * G + j];
    const long first = reverse ? S - 1 : 0;  /* the step whose h_{t-1} is h0 */
    memcpy(hprev + first * N * H, h0, sizeof(T) * N * H);
    if (S > 1)
        memcpy(hprev + (reverse ? 0 : N * H), out + (reverse ? N * H : 0),
               sizeof(T) * (S - 1) * N * H);
    gemm(ROW, TR, NOTR, G, H, S * N, (T)1, dxg, G, hprev, H, (T)0, dwhh, H);
    free(tcs);
    free(hprev);
}
"""


def source(dtype, bint):
    """(name, C source) of the forward and backward kernels for ``dtype``."""
    dt = np.dtype(dtype)
    t = _TYPES[dt]
    name = f"lstm_{t}_{bint.replace(' ', '')}"
    defs = dict(T=t, BINT=bint, FWD=name + "_fwd", FWDP=name + "_fwd_proj",
                BWD=name + "_bwd", EXP_SLOT=ufunc_slot("exp", dt),
                TANH_SLOT=ufunc_slot("tanh", dt))
    head = "".join(f"#define {k} {v}\n" for k, v in defs.items())
    return name, (prelude(bint) + head + blas.GEMM_T
                  + _SRC.replace("NAME_ufunc", name + "_ufunc"))


# -- the kernel objects ---------------------------------------------------------------
class LstmKernel:
    """Forward and backward of ``lstm_seq`` for one dtype (one library)."""

    def __init__(self, dtype, gemm, bint):
        self.dtype = np.dtype(dtype)
        self.name, self.src = source(dtype, bint)
        lib, self.path, self.cache_hit = native.build(self.name, self.src,
                                                      whole_step._flags())
        setu = getattr(lib, self.name + "_ufunc")
        setu.argtypes = [ctypes.py_object, ctypes.c_int, ctypes.c_int]
        for uname in ("exp", "tanh"):
            if setu(getattr(np, uname), ufunc_slot(uname, self.dtype),
                    self.dtype.num):
                raise OSError(f"no {self.dtype} loop of np.{uname}")
        p, lng, i = ctypes.c_void_p, ctypes.c_long, ctypes.c_int
        self.fwd = getattr(lib, self.name + "_fwd")
        self.fwd.argtypes = [lng] * 3 + [p] * 9 + [i, p]
        self.fwdp = getattr(lib, self.name + "_fwd_proj")
        self.fwdp.argtypes = [lng] * 4 + [p, p, i] + [p] * 9 + [i, p]
        self.bwd = getattr(lib, self.name + "_bwd")
        self.bwd.argtypes = [lng] * 3 + [p, lng, lng] + [p] * 11 + [i, p]
        self.fwd.restype = self.fwdp.restype = self.bwd.restype = None
        self.gemm = gemm

    def step(self, node):
        if node.params["_prim"].name == "lstm_seq_backward":
            return self._backward(node)
        if "_proj" in node.params:
            return self._forward_proj(node)
        return self._forward(node)

    def _ready(self, arrays):
        """The arrays as C-contiguous ``self.dtype`` (copies where needed), or
        None when one has another dtype or a dimension is empty."""
        dt = self.dtype
        if any(a.dtype != dt for a in arrays) or any(0 in a.shape for a in arrays):
            return None
        return [contiguous(a) for a in arrays]

    @staticmethod
    def _fallback(node):
        """The NumPy steps the kernel node stands for (the projection's
        matmul, bias add and reshape first, when it absorbed them)."""
        from .replay import step_for

        steps = [step_for(n) for n in node.params.get("_proj", ())]
        outs = node.outs[:node.params["_prim"].n_out]
        steps.append(native.prim_fallback(node, outs, node.params.get("_ins")))
        steps += [step_for(n) for n in node.params.get("_bias_grad", ())]
        return native.run_steps(steps)

    def _outputs(self, steps, batch, hid):
        """Fresh (out, h_T, c_T, acts, cs)."""
        dt, e = self.dtype, np.empty
        return (e((steps, batch, hid), dt), e((batch, hid), dt), e((batch, hid), dt),
                e((steps, batch, 4 * hid), dt), e((steps, batch, hid), dt))

    def _forward(self, node):
        ins, outs = tuple(node.ins), tuple(node.outs)
        rev, fn, gemm = int(node.params["reverse"]), self.fwd, self.gemm
        fallback = self._fallback(node)

        def run(env):
            arrs = self._ready([env[i] for i in ins])
            if arrs is None:
                return fallback(env)
            xg, whh, h0, c0 = arrs
            steps, batch, four_h = xg.shape
            res = self._outputs(steps, batch, four_h // 4)
            fn(steps, batch, four_h // 4, xg.ctypes.data, whh.ctypes.data,
               h0.ctypes.data, c0.ctypes.data, *[r.ctypes.data for r in res], rev,
               gemm)
            for o, r in zip(outs, res):
                env[o] = r

        return run

    def _forward_proj(self, node):
        ins, outs = tuple(node.ins), tuple(node.outs)
        rev, fn, gemm = int(node.params["reverse"]), self.fwdp, self.gemm
        steps, batch = node.params["_steps"]
        fallback = self._fallback(node)

        def run(env):
            arrs = [env[i] for i in ins]
            w = arrs[1]
            # W_ih^T is a transposed view: hand BLAS the matrix as stored.
            wt = not w.flags.c_contiguous and w.T.flags.c_contiguous
            arrs = self._ready(arrs[:1] + arrs[2:])
            if arrs is None or w.dtype != self.dtype or 0 in w.shape:
                return fallback(env)
            if not wt and not w.flags.c_contiguous:
                w = np.ascontiguousarray(w)
            x, *b, whh, h0, c0 = arrs
            feat, four_h = w.shape
            res = self._outputs(steps, batch, four_h // 4)
            fn(steps, batch, four_h // 4, feat, x.ctypes.data, w.ctypes.data, int(wt),
               b[0].ctypes.data if b else None, whh.ctypes.data, h0.ctypes.data,
               c0.ctypes.data, *[r.ctypes.data for r in res], rev, gemm)
            for o, r in zip(outs, res):
                env[o] = r

        return run

    def _backward(self, node):
        ins, outs = tuple(node.ins), tuple(node.outs)
        rev, fn, gemm, dt = int(node.params["reverse"]), self.bwd, self.gemm, self.dtype
        fallback = self._fallback(node)
        bias_grad = "_bias_grad" in node.params

        def run(env):
            gout = env[ins[0]]
            arrs = self._ready([env[i] for i in ins[1:]])
            if arrs is None or gout.dtype != dt or gout.shape != arrs[5].shape:
                return fallback(env)
            size = dt.itemsize
            st, sn, sj = gout.strides
            if sj != size or st % size or sn % size or st < 0 or sn < 0:
                gout = np.ascontiguousarray(gout)
                st, sn, sj = gout.strides
            ghT, gcT, whh, h0, c0, out, acts, cs = arrs
            steps, batch, hid = out.shape
            dxg, dwhh = np.empty(acts.shape, dt), np.empty(whh.shape, dt)
            dh, dc = ghT.copy(), gcT.copy()  # the kernel updates them in place
            res = (dxg, dwhh, dh, dc)
            if bias_grad:
                res += (np.zeros(4 * hid, dt),)
            fn(steps, batch, hid, gout.ctypes.data, st // size, sn // size,
               *[a.ctypes.data for a in (whh, h0, c0, out, acts, cs) + res[:4]],
               res[4].ctypes.data if bias_grad else None, rev, gemm)
            for o, r in zip(outs, res):
                env[o] = r

        return run


# -- lowering -------------------------------------------------------------------------
_NAMES = ("lstm_seq", "lstm_seq_backward")


def _projection(graph, k, producer, readers):
    """For the ``lstm_seq`` node at position ``k``: the nodes computing its
    ``xg`` as ``reshape(matmul(x, w) [+ bias])`` -- each read by the next one
    only, nothing written in between -- or None."""
    nodes, vals = graph.nodes, graph.values
    node = nodes[k]
    chain, v = [], node.ins[0]
    for name in ("reshape", "add", "matmul"):
        j = producer.get(v)
        if j is None or readers.get(v) != 1:
            return None
        n = nodes[j]
        if n.kind != "prim" or n.prim.name != name or len(n.outs) != 1:
            if name == "add":
                continue  # no bias: the reshape reads the matmul
            return None
        chain.append(j)
        v = n.ins[0]
    m = nodes[chain[-1]]
    steps, batch, four_h = vals[node.ins[0]].shape
    x, w = (vals[i] for i in m.ins)
    if x.shape != (steps * batch, x.shape[-1]) or w.shape != (x.shape[-1], four_h):
        return None
    ins = list(m.ins)
    if len(chain) == 3:
        a = nodes[chain[1]]
        if len(a.ins) != 2 or vals[a.ins[1]].shape != (four_h,):
            return None
        ins.append(a.ins[1])
    dt = vals[node.ins[0]].dtype
    if any(vals[i].dtype != dt for i in ins):
        return None
    if any(n.mutates for n in nodes[chain[-1]:k]):
        return None
    return sorted(chain), ins


def _fuse_projections(graph, kernel_nodes):
    """Let forward kernels compute their input projection themselves: one
    gemm straight into the gate buffer, no ``xg`` array, no bias pass."""
    nodes = graph.nodes
    producer, readers = {}, {}
    for j, n in enumerate(nodes):
        for o in n.outs:
            producer[o] = j
        for i in n.ins:
            readers[i] = readers.get(i, 0) + 1
    for o in graph.outputs:
        readers[o] = readers.get(o, 0) + 1
    for _, o in graph.writebacks:
        readers[o] = readers.get(o, 0) + 1
    drop = set()
    for k, n in enumerate(nodes):
        if id(n) not in kernel_nodes or n.params["_prim"].name != "lstm_seq":
            continue
        found = _projection(graph, k, producer, readers)
        if found is None:
            continue
        chain, ins = found
        steps, batch, _ = graph.values[n.ins[0]].shape
        n.params = dict(n.params, _proj=[nodes[j] for j in chain], _ins=list(n.ins),
                        _steps=(steps, batch))
        n.ins = ins + n.ins[1:]
        drop.update(chain)
    graph.nodes = [n for j, n in enumerate(nodes) if j not in drop]


def _fuse_bias_grads(graph, kernel_nodes):
    """Let backward kernels sum the bias gradient (``sum_to`` of ``dxg``,
    perhaps through a reshape to rows) while each step is in cache."""
    nodes, vals = graph.nodes, graph.values
    producer = {o: j for j, n in enumerate(nodes) for o in n.outs}
    drop = set()
    for j, n in enumerate(nodes):
        if n.kind != "prim" or n.prim.name != "sum_to" or len(n.ins) != 1:
            continue
        chain, v = [j], n.ins[0]
        p = producer.get(v)
        r = nodes[p] if p is not None else None
        if r is not None and r.kind == "prim" and r.prim.name == "reshape":
            chain.insert(0, p)  # rows: (S N, 4H)
            v = r.ins[0]
            shape = vals[v].shape
            if len(shape) != 3 or vals[r.outs[0]].shape != (
                    shape[0] * shape[1], shape[2]):
                continue
        b = producer.get(v)
        if b is None or id(nodes[b]) not in kernel_nodes:
            continue
        k = nodes[b]
        if (k.params["_prim"].name != "lstm_seq_backward" or v != k.outs[0]
                or "_bias_grad" in k.params or len(k.outs) != 4):
            continue
        four_h = vals[v].shape[-1]
        if (tuple(n.params.get("shape", ())) != (four_h,)
                or vals[n.outs[0]].dtype != vals[v].dtype
                or any(m.mutates for m in nodes[b:j])):
            continue
        k.params = dict(k.params, _bias_grad=[nodes[i] for i in chain])
        k.outs = k.outs + [n.outs[0]]
        drop.add(j)
    graph.nodes = [n for j, n in enumerate(nodes) if j not in drop]


def lower(graph, required=False):
    """Turn the graph's LSTM sequence nodes into kernel nodes (in place)."""
    vals = graph.values
    todo = [n for n in graph.nodes if n.kind == "prim" and n.prim.name in _NAMES
            and vals[n.ins[0]].dtype in _TYPES
            and len(vals[n.ins[0]].shape) == 3]  # (an unbatched one stays eager)
    if not todo:
        return graph
    gemms = blas.gemms()
    kernels, lowered = {}, set()
    for n in todo:
        dt = vals[n.ins[0]].dtype
        if dt not in gemms:
            continue
        k = native.cached_kernel(kernels, dt, lambda: LstmKernel(dt, *gemms[dt]),
                                 "LSTM kernel", required)
        if k is None:
            return graph
        native.make_kernel_node(n, k)
        lowered.add(id(n))
    _fuse_projections(graph, lowered)
    _fuse_bias_grads(graph, lowered)
    return graph
