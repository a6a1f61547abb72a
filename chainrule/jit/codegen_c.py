"""C code for one primitive call at a time, for the whole-step kernel.

:class:`Emitter` turns a straight-line graph (``prim`` and ``copy`` nodes
only) into the statements of one C function.  Every value is a pointer to
a C-contiguous buffer of its shape (``b<id>``), except the 2-d transposes
that only matrix products read: those stay views, and the product passes
BLAS the transpose flag instead of copying.

What it covers is what a dense training step needs: ``linear``, 2-d
``matmul`` and ``permute`` (CBLAS ``sgemm``/``dgemm``), the elementwise ops
with broadcasting (``add sub mul div neg gt lt ge le relu exp log tanh
sqrt to_dtype``), ``sum`` over leading or trailing axes, ``reshape`` (an
alias), ``log_softmax`` over the last axis of a 2-d array, ``nll`` /
``nll_grad`` of class indices and the fused ``adam_step``.  Anything else
raises :class:`Unsupported` and the graph keeps its per-node backends.

Rounding: sums use NumPy's pairwise summation and every float op is
computed in the operands' type (no fused multiply-add, see ``native.py``),
and ``exp``/``log``/``tanh`` call NumPy's own inner loops (found in the
ufunc objects), so the results are bit-identical to NumPy's.
"""
import numpy as np

from .native import _ADAM

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
FLOATS = (F32, F64)
CTYPE = {F32: "float", F64: "double", np.dtype(np.bool_): "unsigned char",
         np.dtype(np.int64): "long long", np.dtype(np.int32): "int"}
NPY_TYPE = {F32: "NPY_FLOAT", F64: "NPY_DOUBLE", np.dtype(np.bool_): "NPY_BOOL",
            np.dtype(np.int64): "NPY_INT64", np.dtype(np.int32): "NPY_INT32"}
_BIN = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_CMP = {"gt": ">", "lt": "<", "ge": ">=", "le": "<="}
# (float, double) C spellings of the unary maths, x is the operand.
_UNARY = {"neg": ("(-{x})", "(-{x})"), "sqrt": ("sqrtf({x})", "sqrt({x})"),
          # np.maximum(x, 0): x when x >= 0 or x is NaN
          # (NaN and -0.0 pass through; a select gcc vectorises)
          "relu": ("(({x}) < 0 ? 0 : ({x}))",) * 2}


# NumPy's loops, called from C: (slot of float32, slot of float64)
UFUNCS = {"exp": (0, 1), "log": (2, 3), "tanh": (4, 5)}


def _is_elementwise(name):
    return name in _BIN or name in _CMP or name in _UNARY or name == "to_dtype"


def ufunc_slot(name, dtype):
    return UFUNCS[name][dtype == F64]


class Unsupported(Exception):
    """The graph has a node the whole-step kernel does not cover."""


def prelude(blas_int):
    """Includes, the BLAS pointers and NumPy's pairwise summation in C."""
    sums = "".join(_PAIRWISE.replace("T", t).replace("NAME", n)
                   for t, n in (("float", "pw_f"), ("double", "pw_d")))
    return _PRELUDE.replace("BLASINT", blas_int) + sums


_PRELUDE = r"""
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <Python.h>
#include <numpy/ndarraytypes.h>
#include <numpy/ufuncobject.h>
#include <math.h>
#include <string.h>
/* gcc takes the code after an early return for cold and does not
   vectorise it: the checks say they are unlikely to fail */
#define UNLIKELY(c) __builtin_expect(!!(c), 0)
typedef BLASINT BI;
typedef void (*sgemm_t)(int, int, int, BI, BI, BI, float, const float *, BI,
                        const float *, BI, float, float *, BI);
typedef void (*dgemm_t)(int, int, int, BI, BI, BI, double, const double *, BI,
                        const double *, BI, double, double *, BI);
static sgemm_t sgemm_p;
static dgemm_t dgemm_p;
/* CBLAS enums: row-major 101, no transpose 111, transpose 112 */
#define GEMM(f, ta, tb, M, N, K, A, lda, B, ldb, C) \
    f(101, (ta) ? 112 : 111, (tb) ? 112 : 111, M, N, K, 1, A, lda, B, ldb, 0, C, N)
/* NumPy's own inner loops of exp, log, tanh (float32, float64): its SIMD
   versions round differently from the C library's */
static PyUFuncGenericFunction uloop[6];
static void *udata[6];
static int set_ufunc(PyObject *o, int slot, int type) {
    PyUFuncObject *u = (PyUFuncObject *)o;
    for (int i = 0; i < u->ntypes; i++)
        if (u->nargs == 2 && u->types[2 * i] == type && u->types[2 * i + 1] == type) {
            uloop[slot] = u->functions[i];
            udata[slot] = u->data ? u->data[i] : NULL;
            return 0;
        }
    return 1;
}
static void ucall(int slot, const void *in, void *out, npy_intp n, npy_intp size) {
    char *a[2] = {(char *)in, (char *)out};
    npy_intp st[2] = {size, size};
    uloop[slot](a, &n, st, udata[slot]);
}
static int check(PyObject *o, int nd, const npy_intp *dims, int type, int write) {
    PyArrayObject *a = (PyArrayObject *)o;
    if (PyArray_NDIM(a) != nd || PyArray_TYPE(a) != type
            || !PyArray_CHKFLAGS(a, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED)
            || !PyArray_ISNOTSWAPPED(a))
        return 1;
    if (write && !PyArray_CHKFLAGS(a, NPY_ARRAY_WRITEABLE))
        return 1;
    for (int k = 0; k < nd; k++)
        if (PyArray_DIMS(a)[k] != dims[k])
            return 1;
    return 0;
}
"""
# numpy/_core/src/umath/loops_utils.h.src, in the array's own type.
_PAIRWISE = r"""
static T NAME(const T *a, long n, long s) {
    if (n < 8) {
        T res = -0.0;
        for (long i = 0; i < n; i++) res += a[i * s];
        return res;
    }
    if (n <= 128) {
        T r[8], res;
        long i;
        for (int j = 0; j < 8; j++) r[j] = a[j * s];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[(i + j) * s];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i * s];
        return res;
    }
    long n2 = n / 2;
    n2 -= n2 % 8;
    return NAME(a, n2, s) + NAME(a + n2 * s, n - n2, s);
}
"""


def adam_source(ctype, cnt):
    """The fused Adam update of ``native.py`` as a static C function."""
    body = _ADAM.replace("#include <math.h>", "").replace("void KNAME",
                                                          "static void KNAME")
    name = f"adam_{ctype}_{cnt}"
    sqrt = "sqrtf" if ctype == "float" else "sqrt"
    return name, (f"#define T {ctype}\n#define CT {cnt}\n#define SQRT {sqrt}\n"
                  f"#define KNAME {name}\n{body}#undef T\n#undef CT\n#undef SQRT\n"
                  "#undef KNAME\n")


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))


class Emitter:
    """Statements for ``nodes`` over the values of ``graph``.

    ``ptr(vid)`` names a value's buffer; the caller declares those names.
    ``views`` maps a transposed value to the value it is the transpose of;
    ``aliases`` maps an output that is another value's buffer (an in-place
    update's result, a reshape) to that value.  ``scratch`` collects extra
    buffers a node needs, as (name, ctype, size).
    """

    def __init__(self, graph, nodes):
        self.vals = graph.values
        self.nodes = nodes
        self.lines, self.checks, self.helpers = [], [], {}
        self.views, self.aliases, self.scratch = {}, {}, []
        readers = {}
        for n in nodes:
            for i in n.ins:
                readers.setdefault(i, []).append(n)
        self.readers = readers
        self.inline, self.inlined, self.escaping = {}, set(), set()

    # -- naming -------------------------------------------------------------
    def base(self, vid):
        while vid in self.aliases:
            vid = self.aliases[vid]
        return vid

    def ptr(self, vid):
        if vid in self.views:
            raise AssertionError("a transposed view read as a buffer")
        return f"b{self.base(vid)}"

    def ct(self, vid):
        return CTYPE[self.vals[vid].dtype]

    def _new_scratch(self, ctype, size):
        name = f"s{len(self.scratch)}"
        self.scratch.append((name, ctype, size))
        return name

    # -- the walk -------------------------------------------------------------
    def emit(self, escaping):
        """Fill ``lines``; ``escaping``: values that leave the call (they must
        be real buffers, not views or aliases of other values)."""
        self.escaping = set(escaping)
        for n in self.nodes:
            if n.kind == "copy":
                self._copy(n)
                continue
            if n.kind != "prim":
                raise Unsupported(f"a {n.kind} node")
            for i in n.ins:
                if self.vals[i].dtype not in CTYPE:
                    raise Unsupported(f"{n.prim.name} on {self.vals[i].dtype}")
            fn = getattr(self, "_" + n.prim.name, None)
            if fn is None:
                if n.prim.name in UFUNCS:
                    fn = self._ufunc
                elif not _is_elementwise(n.prim.name):
                    raise Unsupported(n.prim.name)
                else:
                    fn = self._elementwise
            if any(self.vals[o].dtype not in CTYPE for o in n.outs):
                raise Unsupported(f"{n.prim.name} output dtype")
            self.lines.append(f"    /* {n.prim.name} */")
            fn(n)
        for v in escaping:
            if v in self.views or (v in self.aliases
                                   and self.vals[self.base(v)].kind == "node"):
                raise Unsupported("a view of an intermediate leaves the call")

    # -- movement -------------------------------------------------------------
    def _copy(self, n):
        src, out = n.ins[0], n.outs[0]
        nb = _size(self.vals[out].shape) * self.vals[out].dtype.itemsize
        self._materialize_views([src])
        self.lines.append(f"    memcpy({self.ptr(out)}, {self.ptr(src)}, {nb});")

    def _permute(self, n):
        (x,), out = n.ins, n.outs[0]
        if tuple(n.params["axes"]) != (1, 0) or x in self.views:
            raise Unsupported("permute other than a 2-d transpose")
        if all(r.kind == "prim" and r.prim.name in ("matmul", "linear")
               for r in self.readers.get(out, ())):
            self.views[out] = x
            return
        r, c = self.vals[x].shape
        self.lines.append(
            f"    for (long i = 0; i < {c}; i++) for (long j = 0; j < {r}; j++) "
            f"{self.ptr(out)}[i * {r} + j] = {self.ptr(x)}[j * {c} + i];")

    def _reshape(self, n):
        (x,), out = n.ins, n.outs[0]
        if x in self.views:
            raise Unsupported("reshape of a transpose")
        self.aliases[out] = x

    def _materialize_views(self, ins):
        for i in ins:
            if i in self.views:
                raise Unsupported("a transposed view read elementwise")

    # -- matrix products -------------------------------------------------------
    def _mat_operand(self, vid):
        """(pointer, transposed, leading dimension) of a 2-d operand."""
        if vid in self.views:
            src = self.views[vid]
            return self.ptr(src), 1, self.vals[src].shape[1]
        return self.ptr(vid), 0, self.vals[vid].shape[1]

    def _gemm(self, out, a, b, b_transposed_already=False):
        vals = self.vals
        if len(vals[a].shape) != 2 or len(vals[b].shape) != 2:
            raise Unsupported("matmul of non-2-d operands")
        dt = vals[out].dtype
        if dt not in FLOATS or vals[a].dtype != dt or vals[b].dtype != dt:
            raise Unsupported("matmul dtype")
        m, k = vals[a].shape
        n = vals[out].shape[1]
        if 0 in (m, n, k):
            raise Unsupported("empty matmul")
        pa, ta, lda = self._mat_operand(a)
        pb, tb, ldb = self._mat_operand(b)
        if b_transposed_already:  # linear: weight (n, k) read as its transpose
            tb = 1 - tb
        f = "sgemm_p" if dt == F32 else "dgemm_p"
        self.lines.append(f"    GEMM({f}, {ta}, {tb}, {m}, {n}, {k}, {pa}, {lda}, "
                          f"{pb}, {ldb}, {self.ptr(out)});")

    def _matmul(self, n):
        self._gemm(n.outs[0], *n.ins)

    def _linear(self, n):
        x, w = n.ins[:2]
        out = n.outs[0]
        if n.params:
            raise Unsupported("linear with parameters")
        self._gemm(out, x, w, b_transposed_already=True)
        if len(n.ins) == 3:
            b = n.ins[2]
            r, c = self.vals[out].shape
            if self.vals[b].shape != (c,) or self.vals[b].dtype != self.vals[out].dtype:
                raise Unsupported("linear bias shape")
            t = CTYPE[self.vals[out].dtype]
            self.lines.append(
                f"    {{ {t} *restrict o = {self.ptr(out)}; const {t} *restrict "
                f"b = {self.ptr(b)};\n      for (long i = 0; i < {r}; i++) for "
                f"(long j = 0; j < {c}; j++) o[i * {c} + j] += b[j]; }}")

    # -- elementwise -------------------------------------------------------------
    def _index(self, vid, shape):
        """C index expression of input ``vid`` broadcast to ``shape``
        (loop counters i0, i1, ...)."""
        ish = self.vals[vid].shape
        if ish == ():
            return "0"
        pad = (1,) * (len(shape) - len(ish)) + tuple(ish)
        terms, stride = [], 1
        for k in reversed(range(len(shape))):
            if pad[k] != 1:
                terms.append(f"i{k} * {stride}" if stride != 1 else f"i{k}")
            stride *= pad[k]
        return " + ".join(reversed(terms)) or "0"

    def _flat(self, n):
        """True for an elementwise node whose inputs are its shape or 0-d."""
        shape = self.vals[n.outs[0]].shape
        return all(self.vals[i].shape in (shape, ()) for i in n.ins)

    def _inlinable(self, k, n):
        """Keep node ``k``'s result in a register: its one reader is the next
        node, elementwise over the same shape, and it does not leave the call."""
        out = n.outs[0]
        rd = self.readers.get(out, ())
        if (k + 1 >= len(self.nodes) or len(rd) != 1 or rd[0] is not self.nodes[k + 1]
                or out in self.escaping or not self._flat(n)):
            return False
        nxt = rd[0]
        return (nxt.kind == "prim" and _is_elementwise(nxt.prim.name)
                and self.vals[nxt.outs[0]].shape == self.vals[out].shape
                and self._flat(nxt))

    def _operand(self, i, idx, decl):
        if i in self.inline:
            sub_decl, e = self.inline.pop(i)
            decl.extend(sub_decl)
            return f"({e})"
        t = CTYPE[self.vals[i].dtype]
        if self.vals[i].shape == ():
            decl.append(f"const {t} a{i} = {self.ptr(i)}[0];")
            return f"a{i}"
        decl.append(f"const {t} *restrict p{i} = {self.ptr(i)};")
        return f"p{i}[{idx}]"

    def _elementwise(self, n):
        name, out = n.prim.name, n.outs[0]
        vals = self.vals
        self._materialize_views(n.ins)
        odt = vals[out].dtype
        idt = [vals[i].dtype for i in n.ins]
        if name in _BIN or name in _UNARY:
            if odt not in FLOATS or any(d != odt for d in idt):
                raise Unsupported(f"{name} with mixed dtypes")
            if name in _UNARY and n.params:
                raise Unsupported(f"{name} with parameters")
        if name in _CMP and any(d == np.bool_ for d in idt):
            raise Unsupported("comparison of booleans")
        shape = vals[out].shape
        flat = self._flat(n)
        # Locals with restrict: distinct buffers, so gcc vectorises the loop
        # (a store through an unsigned char pointer may alias anything).
        decl = []
        a = [self._operand(i, "i" if flat else self._index(i, shape), decl)
             for i in n.ins]
        if name in _BIN:
            e = f"({a[0]} {_BIN[name]} {a[1]})"
        elif name in _CMP:
            x, y = (a[0], a[1]) if idt[0] == idt[1] else (
                f"(double){a[0]}", f"(double){a[1]}")
            e = f"(unsigned char)({x} {_CMP[name]} {y})"
        elif name in _UNARY:
            e = _UNARY[name][odt == F64].format(x=a[0])
        elif odt == np.bool_:
            e = f"(unsigned char)({a[0]} != 0)"
        else:
            e = f"({CTYPE[odt]})({a[0]})"
        if self._inlinable(self.nodes.index(n), n):
            self.inline[out] = (decl, e)
            self.inlined.add(out)
            return
        decl.insert(0, f"{CTYPE[odt]} *restrict o = {self.ptr(out)};")
        if flat:
            loop = f"for (long i = 0; i < {_size(shape)}; i++) o[i] = {e};"
        else:
            loops = "".join(f"for (long i{k} = 0; i{k} < {d}; i{k}++) "
                            for k, d in enumerate(shape))
            loop = f"{loops}o[{self._index(out, shape)}] = {e};"
        self.lines.append("    { " + " ".join(dict.fromkeys(decl)) + "\n      "
                          + loop + " }")

    def _ufunc(self, n):
        (x,), out = n.ins, n.outs[0]
        self._materialize_views(n.ins)
        dt = self.vals[x].dtype
        if dt not in FLOATS or self.vals[out].dtype != dt or n.params:
            raise Unsupported(f"{n.prim.name} form")
        self.lines.append(f"    ucall({ufunc_slot(n.prim.name, dt)}, {self.ptr(x)}, "
                          f"{self.ptr(out)}, {_size(self.vals[x].shape)}, "
                          f"{dt.itemsize});")

    def _to_dtype(self, n):
        self._elementwise(n)

    # -- reductions ----------------------------------------------------------------
    def _sum(self, n):
        (x,), out = n.ins, n.outs[0]
        self._materialize_views(n.ins)
        shape, dt = self.vals[x].shape, self.vals[x].dtype
        if dt not in FLOATS or self.vals[out].dtype != dt:
            raise Unsupported("sum dtype")
        axis = n.params["axis"]
        nd = len(shape)
        axes = tuple(range(nd)) if axis is None else tuple(a % nd for a in axis)
        k = len(axes)
        pw = "pw_f" if dt == F32 else "pw_d"
        o, p = self.ptr(out), self.ptr(x)
        if axes == tuple(range(nd - k, nd)):  # trailing: a pairwise sum per row
            rows, cols = _size(shape[:nd - k]), _size(shape[nd - k:])
            self.lines.append(f"    for (long i = 0; i < {rows}; i++) "
                              f"{o}[i] = {pw}({p} + i * {cols}, {cols}, 1);")
        elif axes == tuple(range(k)):  # leading: add the rows in order
            rows, cols = _size(shape[:k]), _size(shape[k:])
            t = CTYPE[dt]
            self.lines.append(
                f"    {{ {t} *restrict o = {o}; const {t} *restrict x = {p};\n"
                f"      for (long j = 0; j < {cols}; j++) o[j] = -0.0;\n"
                f"      for (long i = 0; i < {rows}; i++) for (long j = 0; j < {cols}; "
                f"j++) o[j] += x[i * {cols} + j]; }}")
        else:
            raise Unsupported("sum over middle axes")

    def _log_softmax(self, n):
        (x,), out = n.ins, n.outs[0]
        self._materialize_views(n.ins)
        shape, dt = self.vals[x].shape, self.vals[x].dtype
        if len(shape) != 2 or n.params["dim"] not in (1, -1) or dt not in FLOATS:
            raise Unsupported("log_softmax other than over the last of 2 axes")
        r, c = shape
        t = CTYPE[dt]
        pw = "pw_f" if dt == F32 else "pw_d"
        e, lse = self._new_scratch(t, r * c), self._new_scratch(t, r)
        o, p = self.ptr(out), self.ptr(x)
        # As NumPy: s = x - max (NaN-propagating), s - log(sum(exp(s))); one
        # exp over the array and one log over the row sums.
        self.lines.append(f"""    for (long i = 0; i < {r}; i++) {{
        const {t} *xi = {p} + i * {c};
        {t} *oi = {o} + i * {c};
        {t} top = xi[0];
        for (long j = 1; j < {c}; j++) if (!(xi[j] <= top) && top == top) top = xi[j];
        for (long j = 0; j < {c}; j++) oi[j] = xi[j] - top;
    }}
    ucall({ufunc_slot("exp", dt)}, {o}, {e}, {r * c}, {dt.itemsize});
    for (long i = 0; i < {r}; i++) {lse}[i] = {pw}({e} + i * {c}, {c}, 1);
    ucall({ufunc_slot("log", dt)}, {lse}, {lse}, {r}, {dt.itemsize});
    for (long i = 0; i < {r}; i++) for (long j = 0; j < {c}; j++)
        {o}[i * {c} + j] -= {lse}[i];""")

    def _targets(self, n, t, classes, ii):
        """Check the class indices ``t`` before anything is written: a bad
        one makes the kernel return 1, and the replay raises eager's error."""
        if self.vals[t].kind == "node" or self.vals[t].dtype != np.int64:
            raise Unsupported("class indices computed in the call")
        size = self.vals[t].shape[0]
        self.checks.append(
            f"    for (long i = 0; i < {size}; i++) {{ long long ti = {self.ptr(t)}[i];"
            f" if (UNLIKELY(ti != {ii}LL && (ti < 0 || ti >= {classes}))) return 1; }}")

    def _weights(self, t, n_rows, dt, ii, reduction):
        """Scratch with NumPy's per-sample weights (1 or 1/count; 0 ignored)."""
        ct = CTYPE[dt]
        pw = "pw_f" if dt == F32 else "pw_d"
        w = self._new_scratch(ct, n_rows)
        self.lines.append(f"    for (long i = 0; i < {n_rows}; i++) "
                          f"{w}[i] = ({ct})({self.ptr(t)}[i] != {ii}LL);")
        if reduction == "mean":
            self.lines.append(f"    {{ const {ct} cnt = {pw}({w}, {n_rows}, 1);\n"
                              f"      for (long i = 0; i < {n_rows}; i++) "
                              f"{w}[i] /= cnt; }}")
        return w

    def _nll(self, n):
        (lp, t), out = n.ins, n.outs[0]
        self._materialize_views(n.ins)
        p = n.params
        shape, dt = self.vals[lp].shape, self.vals[lp].dtype
        if (len(shape) != 2 or dt not in FLOATS or p["reduction"] not in ("mean", "sum")
                or not isinstance(p["ignore_index"], int)):
            raise Unsupported("nll form")
        r, c = shape
        ii = p["ignore_index"]
        self._targets(n, t, c, ii)
        w = self._weights(t, r, dt, ii, p["reduction"])
        pw = "pw_f" if dt == F32 else "pw_d"
        self.lines.append(
            f"    for (long i = 0; i < {r}; i++) {{ long long ti = {self.ptr(t)}[i];\n"
            f"        {w}[i] = {self.ptr(lp)}[i * {c} + (ti != {ii}LL ? ti : 0)] "
            f"* {w}[i]; }}\n"
            f"    {self.ptr(out)}[0] = -({pw}({w}, {r}, 1));")

    def _nll_grad(self, n):
        (g, t), out = n.ins, n.outs[0]
        p = n.params
        dt = self.vals[g].dtype
        if (self.vals[g].shape != () or dt not in FLOATS
                or p["reduction"] not in ("mean", "sum")
                or not isinstance(p["ignore_index"], int)):
            raise Unsupported("nll_grad form")
        r, c = self.vals[out].shape
        ii = p["ignore_index"]
        self._targets(n, t, c, ii)
        w = self._weights(t, r, dt, ii, p["reduction"])
        o = self.ptr(out)
        self.lines.append(
            f"    memset({o}, 0, {r * c * dt.itemsize});\n"
            f"    for (long i = 0; i < {r}; i++) if ({w}[i] != 0) "
            f"{o}[i * {c} + {self.ptr(t)}[i]] = -({self.ptr(g)}[0] * {w}[i]);")

    # -- optimizer ------------------------------------------------------------------
    def _adam_step(self, n):
        if len(n.ins) != 5:
            raise Unsupported("AMSGrad")
        self._materialize_views(n.ins)
        p, g, m, v, c = n.ins
        dt, cdt = self.vals[p].dtype, self.vals[c].dtype
        if (dt not in FLOATS or cdt not in FLOATS or self.vals[c].shape != ()
                or any(self.vals[i].dtype != dt or self.vals[i].shape
                       != self.vals[p].shape for i in (g, m, v))):
            raise Unsupported("adam_step dtypes")
        name, src = adam_source(CTYPE[dt], CTYPE[cdt])
        self.helpers[name] = src
        q = n.params
        self.lines.append(
            f"    {name}({self.ptr(p)}, {self.ptr(g)}, {self.ptr(m)}, {self.ptr(v)}, "
            f"{self.ptr(c)}, {_size(self.vals[p].shape)}, {float(q['lr'])!r}, "
            f"{float(q['beta1'])!r}, {float(q['beta2'])!r}, {float(q['eps'])!r}, "
            f"{float(q['weight_decay'])!r}, {int(q['decoupled'])}, "
            f"{int(q['maximize'])});")
        self.aliases[n.outs[0]] = p
