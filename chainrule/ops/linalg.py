"""Linear algebra: matmul and its relatives, einsum, and ``linalg``
(inverse, solves, Cholesky, determinants, eigh, SVD, norms).

Matrix functions act on the last two dims and batch over the rest.
"""
import string

import numpy as np

from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError, fmt_shape
from ..tensor import Tensor
from . import _abstract
from ._core import apply, primitive
from ._util import (
    calling_op, check_float, dim1, dtype_arg, int_arg, lift, shape_arg, t_, to_dtype,
)
from .elementwise import abs, _tadd
from .reduce import amax, sum, vector_norm
from .shape import diag_embed, diagonal, mT, reshape, squeeze, tril, triu, unsqueeze


def _eye_like(x, n):
    return Tensor._make(np.eye(n, dtype=x._data.dtype))


# -- matmul ----------------------------------------------------------------------------
matmul_p = primitive(
    "matmul", np.matmul,
    vjp=lambda n, g: (apply(matmul_p, g, mT(n.inputs[1])) if n.needs[0] else None,
                      apply(matmul_p, mT(n.inputs[0]), g) if n.needs[1] else None),
    jvp=lambda c, t: _tadd(
        None if t[0] is None else apply(matmul_p, t[0], c.inputs[1]),
        None if t[1] is None else apply(matmul_p, c.inputs[0], t[1])),
    kind="linalg", abstract=_abstract.matmul_aval, params=(),
)


def _same_dtype(a, b, op):
    if a._data.dtype != b._data.dtype:
        raise DTypeError(
            f"{calling_op(op)}: expected both operands to have the same dtype, but got "
            f"{a.dtype.name} and {b.dtype.name}; convert one with .to(...)")


def matmul(input, other):
    """Matrix product with NumPy/PyTorch semantics: 1-d operands are vectors,
    leading dims broadcast as batch dims."""
    for v in (input, other):
        if isinstance(v, (int, float, np.number)):  # (x @ 2 is a TypeError)
            raise DTypeError(f"matmul: operands must be tensors, got "
                             f"{type(v).__name__}")
    a, b = t_(input), t_(other)
    _same_dtype(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments need at least 1 dimension, got "
                         f"shapes {fmt_shape(a.shape)} and {fmt_shape(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        sa = "x".join(map(str, a.shape))
        sb = "x".join(map(str, b.shape))
        raise ShapeError(
            f"matmul: shapes cannot be multiplied ({sa} and {sb}): the last dim of "
            f"the first ({ka}) must equal the "
            f"{'first' if b.ndim == 1 else 'second-to-last'}"
            f" dim of the second ({kb})")
    if a.ndim == 1 and b.ndim == 1:
        return squeeze(apply(matmul_p, reshape(a, (1, ka)), reshape(b, (kb, 1))))
    if a.ndim == 1:
        return squeeze(apply(matmul_p, reshape(a, (1, ka)), b), -2)
    if b.ndim == 1:
        return squeeze(apply(matmul_p, a, reshape(b, (kb, 1))), -1)
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dims of {fmt_shape(a.shape)} and "
                         f"{fmt_shape(b.shape)} cannot be broadcast together; they "
                         "must match or be 1, aligned from the right") from None
    return apply(matmul_p, a, b)


def _need_dims(x, nd, op, what):
    if x.ndim != nd:
        # (a 0-d operand has no dimension 0 to check: PyTorch's IndexError)
        cls = IndexOutOfRange if x.ndim == 0 else ShapeError
        raise cls(f"{calling_op(op)}: {what} must be a {nd}-D tensor, got shape "
                  f"{fmt_shape(x.shape)}")


def mm(input, mat2):
    """Product of two matrices (2-D only)."""
    a, b = t_(input), t_(mat2)
    _need_dims(a, 2, "mm", "self")
    _need_dims(b, 2, "mm", "mat2")
    _same_dtype(a, b, "mm")
    if a.shape[1] != b.shape[0]:
        raise ShapeError(f"{calling_op('mm')}: mat1 and mat2 shapes cannot be "
                         f"multiplied "
                         f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]}): "
                         f"mat1's columns ({a.shape[1]}) must equal mat2's rows "
                         f"({b.shape[0]})")
    return matmul(a, b)


def bmm(input, mat2):
    """Batched product of (b, n, m) and (b, m, p) tensors."""
    a, b = t_(input), t_(mat2)
    _need_dims(a, 3, "bmm", "batch1")
    _need_dims(b, 3, "bmm", "batch2")
    _same_dtype(a, b, "bmm")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError(f"bmm: expected batch1 {fmt_shape(a.shape)} and batch2 "
                         f"{fmt_shape(b.shape)} to be [b, n, m] and [b, m, p]")
    return matmul(a, b)


def mv(input, vec):
    """Matrix-vector product."""
    a, v = t_(input), t_(vec)
    _need_dims(a, 2, "mv", "input")
    _need_dims(v, 1, "mv", "vec")
    _same_dtype(a, v, "mv")
    if a.shape[1] != v.shape[0]:
        raise ShapeError(f"mv: size mismatch, input {fmt_shape(a.shape)}, vec "
                         f"{fmt_shape(v.shape)}: vec must have as many elements as "
                         f"input has columns ({a.shape[1]})")
    return matmul(a, v)


def dot(input, tensor):
    """Inner product of two 1-D tensors of the same size."""
    a, b = t_(input), t_(tensor)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"{calling_op('dot')}: 1D tensors expected, but got {a.ndim}D "
                         f"and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise ShapeError(f"{calling_op('dot')}: inconsistent tensor size, expected "
                         f"tensor {fmt_shape(a.shape)} and src {fmt_shape(b.shape)} to "
                         "have the same number of elements")
    _same_dtype(a, b, "dot")
    return matmul(a, b)


def vdot(input, other):
    """Inner product of two 1-D tensors (no conjugation: tensors are real)."""
    return dot(input, other)


def inner(input, other):
    """Sum of products over the last dims: shape ``a.shape[:-1] + b.shape[:-1]``."""
    a, b = t_(input), t_(other)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"inner: the last dims of {fmt_shape(a.shape)} and "
                         f"{fmt_shape(b.shape)} must have the same size")
    _same_dtype(a, b, "inner")
    if a.ndim == 1 and b.ndim == 1:
        return matmul(a, b)
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))


def outer(input, vec2):
    """Outer product ``input[:, None] * vec2[None, :]``."""
    a, b = t_(input), t_(vec2)
    _need_dims(a, 1, "outer", "input")
    _need_dims(b, 1, "outer", "vec2")
    return unsqueeze(a, 1) * unsqueeze(b, 0)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``; input broadcasts to the product."""
    for name, v in (("beta", beta), ("alpha", alpha)):
        if not isinstance(v, (int, float, np.number)):
            raise DTypeError(f"addmm: {name} must be a number, got {v!r}")
    x, p = t_(input), mm(mat1, mat2)
    _same_dtype(x, p, "addmm")
    if p._data.dtype.kind in "iu":  # integer products scale by int(alpha), as PyTorch
        alpha, beta = int(alpha), int(beta)
    try:
        ok = np.broadcast_shapes(x.shape, p.shape) == p.shape
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"addmm: input of shape {fmt_shape(x.shape)} cannot be "
                         f"broadcast to the product's shape {fmt_shape(p.shape)}")
    if alpha.__class__ is not int or alpha != 1:
        p = p * alpha
    out = (x if beta.__class__ is int and beta == 1 else x * beta) + p
    return lift(out, x._data.dtype)  # (bool * 2 would be int64)


# -- einsum ----------------------------------------------------------------------------
def _parse_einsum(eq, shapes):
    """Explicit subscripts (ellipses spelled out) for ``eq`` over ``shapes``."""
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ArgumentError(f"einsum: the equation {eq!r} names {len(ins)} operands "
                            f"but {len(shapes)} were given")
    used = set(eq) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    ell_n = 0
    for s, shp in zip(ins, shapes):
        if "..." in s:
            ell_n = max(ell_n, len(shp) - (len(s) - 3))
    ell = "".join(spare[:ell_n])
    out_ins = []
    for s, shp in zip(ins, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[ell_n - k:])
        if len(s) != len(shp):
            raise ShapeError(f"einsum: subscripts {s!r} do not match an operand of "
                             f"shape {fmt_shape(shp)}")
        out_ins.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for s in out_ins:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items()
                                   if k == 1 and c not in ell))
    return out_ins, out


def _einsum_fwd(*xs, ins, out):
    return np.einsum(",".join(ins) + "->" + out, *xs, optimize=len(xs) > 2)


def _einsum_vjp(n, g):
    ins, out = n.params["ins"], n.params["out"]
    grads = []
    for i, need in enumerate(n.needs):
        if not need:
            grads.append(None)
            continue
        target, shape = ins[i], n.metas[i][0]
        subs = [out] + [ins[j] for j in range(len(ins)) if j != i]
        ops_ = [g] + [n.inputs[j] for j in range(len(ins)) if j != i]
        # A letter repeated in this operand ('ii') indexes a diagonal: give each
        # repeat a fresh letter, tied to the first by an identity matrix.
        spare = (c for c in string.ascii_letters if c not in set(out).union(*ins))
        renamed = ""
        for c, size in zip(target, shape):
            if c in renamed:
                fresh = next(spare)
                subs.append(c + fresh)
                ops_.append(Tensor._make(np.eye(size, dtype=g._data.dtype)))
                c = fresh
            renamed += c
        avail = set().union(*subs)
        keep = "".join(c for c in renamed if c in avail)
        gi = apply(einsum_p, *ops_, ins=subs, out=keep)
        if keep != renamed:  # letters summed away only in this operand
            gi = reshape(gi, tuple(gi.shape[keep.index(c)] if c in avail else 1
                                   for c in renamed))
        # Size-1 dims broadcast in the forward come back summed by the engine;
        # dims of gi that are 1 where the operand is not are broadcast back here.
        from .shape import expand

        grads.append(expand(gi, np.broadcast_shapes(gi.shape, shape)))
    return tuple(grads)


def _einsum_jvp(c, t):
    ins, out = c.params["ins"], c.params["out"]
    total = None
    for i, ti in enumerate(t):
        if ti is None:
            continue
        ops_ = list(c.inputs)
        ops_[i] = ti
        total = _tadd(total, apply(einsum_p, *ops_, ins=ins, out=out))
    return total


einsum_p = primitive("einsum", _einsum_fwd, vjp=_einsum_vjp, jvp=_einsum_jvp,
                     kind="linalg", abstract=_abstract.einsum_aval,
                     params=("ins", "out"))


def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise DTypeError(f"einsum: the equation must be a string, got "
                         f"{type(equation).__name__}")
    if not operands:
        raise ArgumentError("einsum: must provide at least one operand")
    ts = [t_(x) for x in operands]
    dt = ts[0]._data.dtype
    for x in ts[1:]:
        if x._data.dtype != dt:
            raise DTypeError("einsum: operands must share one dtype, got "
                             + ", ".join(str(y._data.dtype) for y in ts))
    ins, out = _parse_einsum(equation, [x.shape for x in ts])
    sizes = {}
    for s, x in zip(ins, ts):
        for c, k in zip(s, x.shape):
            if sizes.setdefault(c, k) != k and k != 1 and sizes[c] != 1:
                raise ShapeError(f"einsum: subscript {c!r} has size {k} for one "
                                 f"operand and {sizes[c]} for another")
    return apply(einsum_p, *ts, ins=ins, out=out)


def tensordot(a, b, dims=2):
    """Contract the last ``dims`` dims of ``a`` with the first of ``b`` (or the
    listed pairs of dims)."""
    a, b = t_(a), t_(b)
    if isinstance(dims, (list, tuple)) and len(dims) == 2:
        da, db = (list(shape_arg((d,), "tensordot")) for d in dims)
        if len(da) != len(db):
            raise ArgumentError(f"tensordot: both dimension lists should have the "
                                f"same length, got {dims!r}")
        for x, ds in ((a, da), (b, db)):
            if x.ndim == 0 and ds:
                raise IndexOutOfRange(f"tensordot: cannot contract dims {ds} of a 0-d "
                                      "tensor")
        da = [dim1(d, a.ndim, "tensordot") for d in da]
        db = [dim1(d, b.ndim, "tensordot") for d in db]
    else:
        dims = int_arg(dims, "dims", "tensordot")
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ArgumentError(f"tensordot: dims ({dims}) must be between 0 and the "
                                f"smaller number of dims ({min(a.ndim, b.ndim)})")
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    _same_dtype(a, b, "tensordot")
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise ShapeError(f"tensordot: contracted dimensions need to match, but "
                             f"first has size {a.shape[x]} in dim {x} and second has "
                             f"size {b.shape[y]} in dim {y}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    from .shape import permute

    k = int(np.prod([a.shape[d] for d in da])) if da else 1
    m = int(np.prod([a.shape[d] for d in fa])) if fa else 1
    n = int(np.prod([b.shape[d] for d in fb])) if fb else 1
    am = reshape(permute(a, fa + da), (m, k))
    bm = reshape(permute(b, db + fb), (k, n))
    return reshape(matmul(am, bm), tuple(a.shape[d] for d in fa) +
                   tuple(b.shape[d] for d in fb))


# -- matrix functions ------------------------------------------------------------------
def _square(x, op):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        got = "x".join(map(str, x.shape[-2:])) if x.ndim >= 2 else x.ndim
        raise ShapeError(f"{calling_op(op)}: a must be batches of square matrices, "
                         f"but they are {got} (shape {fmt_shape(x.shape)})")
    check_float(x, op)


inv_p = primitive(
    "inv", np.linalg.inv,
    vjp=lambda n, g: (-(mT(n.out) @ g @ mT(n.out)),),
    jvp=lambda c, t: -(c.out @ t[0] @ c.out),
    saves=(), save_out=True,
    kind="linalg", abstract=_abstract.square_aval, params=(),
)


def inv(A):
    """Inverse of square matrices; singular input raises LinAlgError."""
    A = t_(A)
    _square(A, "linalg.inv")
    return apply(inv_p, A)


solve_p = primitive(
    "solve", np.linalg.solve,
    vjp=lambda n, g: _solve_vjp(n.inputs[0], n.out, g, n.needs),
    jvp=lambda c, t: apply(solve_p, c.inputs[0], _tadd(
        t[1], None if t[0] is None else -(t[0] @ c.out))),
    saves=(0,), save_out=True,
    kind="linalg", abstract=_abstract.solve_aval, params=(),
)


def _solve_vjp(A, X, g, needs):
    gB = apply(solve_p, mT(A), g)
    return (-(gB @ mT(X)) if needs[0] else None, gB)


def solve(A, B, *, left=True):
    """Solve ``A X = B`` (``X A = B`` with left=False); B may be a vector."""
    A, B = t_(A), t_(B)
    _square(A, "linalg.solve")
    _same_dtype(A, B, "linalg.solve")
    if not left:
        if B.ndim < 2:
            raise ShapeError(f"{calling_op('linalg.solve')}: with left=False, B must "
                             f"be a matrix (or a batch), got shape "
                             f"{fmt_shape(B.shape)}")
        return mT(solve(mT(A), mT(B)))
    if B.ndim == 0:
        raise ShapeError(f"{calling_op('linalg.solve')}: B must have at least 1 "
                         "dimension, got a 0-d tensor")
    vec = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if vec:
        B = unsqueeze(B, -1)
    if B.shape[-2] != A.shape[-1]:
        raise ShapeError(f"linalg.solve: incompatible shapes of A {fmt_shape(A.shape)} "
                         f"and B {fmt_shape(B.shape)}")
    X = apply(solve_p, A, B)
    return squeeze(X, -1) if vec else X


def _cholesky_fwd(A, upper):
    L = np.linalg.cholesky(A)
    return np.swapaxes(L, -1, -2) if upper else L


def _cholesky_vjp(n, g):
    L = n.out
    if n.params["upper"]:
        L, g = mT(L), mT(g)
    n_ = L.shape[-1]
    P = tril(mT(L) @ g)
    P = P - 0.5 * diag_embed(diagonal(P, 0, -2, -1))
    Linv = solve_triangular(L, _eye_like(L, n_), upper=False)
    S = mT(Linv) @ P @ Linv
    return (0.5 * (S + mT(S)),)


def _cholesky_jvp(c, t):
    L = c.out
    if c.params["upper"]:
        L = mT(L)
    n_ = L.shape[-1]
    Linv = solve_triangular(L, _eye_like(L, n_), upper=False)
    M = Linv @ t[0] @ mT(Linv)
    phi = tril(M) - 0.5 * diag_embed(diagonal(M, 0, -2, -1))
    dL = L @ phi
    return mT(dL) if c.params["upper"] else dL


cholesky_p = primitive("cholesky", _cholesky_fwd, vjp=_cholesky_vjp,
                       jvp=_cholesky_jvp, saves=(), save_out=True, kind="linalg",
                       abstract=_abstract.square_aval, params=("upper",))


def cholesky(A, *, upper=False):
    """Cholesky factor L (lower) with ``A = L L^T``; A must be positive definite."""
    A = t_(A)
    _square(A, "linalg.cholesky")
    return apply(cholesky_p, A, upper=bool(upper))


def _tri_solve_fwd(A, B, upper, unitriangular):
    A = np.triu(A) if upper else np.tril(A)
    if unitriangular:
        k = A.shape[-1]
        A = A.copy()
        A[..., np.arange(k), np.arange(k)] = 1
    try:
        from scipy.linalg import solve_triangular as _st
    except ImportError:
        _st = None
    if _st is not None and A.ndim == 2 and B.ndim == 2:
        return _st(A, B, lower=not upper).astype(A.dtype, copy=False)
    return np.linalg.solve(A, B)


def _tri_solve_vjp(n, g):
    A, X = n.inputs[0], n.out
    upper, unit = n.params["upper"], n.params["unitriangular"]
    gB = apply(tri_solve_p, mT(A), g, upper=not upper, unitriangular=unit)
    gA = None
    if n.needs[0]:
        gA = -(gB @ mT(X))
        gA = triu(gA, 1 if unit else 0) if upper else tril(gA, -1 if unit else 0)
    return gA, gB


def _tri_solve_jvp(c, t):
    A, X = c.inputs[0], c.out
    upper, unit = c.params["upper"], c.params["unitriangular"]
    rhs = t[1]
    if t[0] is not None:
        tA = triu(t[0], 1 if unit else 0) if upper else tril(t[0], -1 if unit else 0)
        rhs = _tadd(rhs, -(tA @ X))
    return apply(tri_solve_p, A, rhs, **c.params)


tri_solve_p = primitive("solve_triangular", _tri_solve_fwd, vjp=_tri_solve_vjp,
                        jvp=_tri_solve_jvp, saves=(0,), save_out=True, kind="linalg",
                        abstract=_abstract.solve_aval,
                        params=("upper", "unitriangular"))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """Solve ``A X = B`` for triangular A (only its ``upper`` or lower part is read)."""
    A, B = t_(A), t_(B)
    _square(A, "linalg.solve_triangular")
    _same_dtype(A, B, "linalg.solve_triangular")
    if B.ndim < 2:
        raise ShapeError(f"{calling_op('linalg.solve_triangular')}: B must have at "
                         f"least 2 dimensions, got shape {fmt_shape(B.shape)}")
    if not left:
        return mT(solve_triangular(mT(A), mT(B), upper=not upper,
                                   unitriangular=unitriangular))
    if B.ndim < 2 or B.shape[-2] != A.shape[-1]:
        raise ShapeError(f"linalg.solve_triangular: incompatible shapes of A "
                         f"{fmt_shape(A.shape)} and B {fmt_shape(B.shape)}")
    return apply(tri_solve_p, A, B, upper=bool(upper),
                 unitriangular=bool(unitriangular))


det_p = primitive(
    "det", np.linalg.det,
    vjp=lambda n, g: (unsqueeze(unsqueeze(g * n.out, -1), -1) * mT(inv(n.inputs[0])),),
    jvp=lambda c, t: c.out * _trace_last(solve(c.inputs[0], t[0])),
    save_out=True,
    kind="linalg", abstract=_abstract.det_aval, params=(),
)


def _trace_last(M):
    return sum(diagonal(M, 0, -2, -1), -1)


def det(A):
    """Determinant of square matrices."""
    A = t_(A)
    _square(A, "linalg.det")
    return apply(det_p, A)


def _slogdet_fwd(A):
    s, l = np.linalg.slogdet(A)
    return np.asarray(s, A.dtype), np.asarray(l, A.dtype)


slogdet_p = primitive(
    "slogdet", _slogdet_fwd,
    vjp=lambda n, g: (unsqueeze(unsqueeze(g[1], -1), -1) * mT(inv(n.inputs[0])),),
    # d log|det A| = tr(A^-1 dA); the sign is locally constant.
    jvp=lambda c, t: (None, _trace_last(solve(c.inputs[0], t[0]))),
    n_out=2,
    kind="linalg", abstract=_abstract.slogdet_aval, params=(),
)


def slogdet(A):
    """(sign, log|det|) of square matrices."""
    import collections

    A = t_(A)
    _square(A, "linalg.slogdet")
    s, l = apply(slogdet_p, A)
    return collections.namedtuple("slogdet", ["sign", "logabsdet"])(s, l)


def logdet(input):
    """log(det), NaN where the determinant is negative."""
    s, l = slogdet(input)
    from .elementwise import log, where

    return where(s > 0, l, log(s))


def _eigh_fwd(A, upper):
    return np.linalg.eigh(A, "U" if upper else "L")


def _eigh_vjp(n, g):
    L, Q = n.out
    gL, gQ = g
    E = unsqueeze(L, -2) - unsqueeze(L, -1)
    k = L.shape[-1]
    eye = Tensor._make(np.eye(k, dtype=L._data.dtype))
    F = (1.0 - eye) / (E + eye)
    M = mT(Q) @ gQ
    # Only the skew part of M moves eigenvectors of a symmetric matrix; with it
    # the gradient is symmetric, as PyTorch's (which assumes symmetric inputs).
    inner = diag_embed(gL) + F * (0.5 * (M - mT(M)))
    return (Q @ inner @ mT(Q),)


def _eigh_jvp(c, t):
    L, Q = c.out
    k = L.shape[-1]
    eye = Tensor._make(np.eye(k, dtype=L._data.dtype))
    E = unsqueeze(L, -2) - unsqueeze(L, -1)
    F = (1.0 - eye) / (E + eye)
    M = mT(Q) @ t[0] @ Q
    return diagonal(M, 0, -2, -1), Q @ (F * M)


eigh_p = primitive("eigh", _eigh_fwd, vjp=_eigh_vjp, jvp=_eigh_jvp, saves=(),
                   save_out=True, n_out=2, kind="linalg",
                   abstract=_abstract.eigh_aval, params=("upper",))


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices."""
    import collections

    A = t_(A)
    _square(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise ArgumentError(f"{calling_op('linalg.eigh')}: UPLO must be 'L' or 'U', "
                            f"got {UPLO!r}")
    L, Q = apply(eigh_p, A, upper=UPLO == "U")
    return collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])(L, Q)


def eigvalsh(A, UPLO="L"):
    """Eigenvalues (ascending) of symmetric matrices."""
    return eigh(A, UPLO)[0]


def _svd_fwd(A, full_matrices):
    U, S, Vh = np.linalg.svd(A, full_matrices=full_matrices)
    return U, S.astype(A.dtype, copy=False), Vh


def _svd_vjp(n, g):
    U, S, Vh = n.out
    gU, gS, gVh = g
    m, nn = n.metas[0][0][-2:]
    k = min(m, nn)
    if n.params["full_matrices"]:
        from .shape import narrow

        U, gU = narrow(U, -1, 0, k), narrow(gU, -1, 0, k)
        Vh, gVh = narrow(Vh, -2, 0, k), narrow(gVh, -2, 0, k)
    UhgU = mT(U) @ gU
    VhgV = Vh @ mT(gVh)
    UhgU = UhgU - mT(UhgU)
    VhgV = VhgV - mT(VhgV)
    S2 = S * S
    eye = Tensor._make(np.eye(k, dtype=S._data.dtype))
    E = unsqueeze(S2, -2) - unsqueeze(S2, -1) + eye
    gA = (UhgU * unsqueeze(S, -2) + unsqueeze(S, -1) * VhgV) / E + diag_embed(gS)
    if m > k:
        gA = U @ gA
        gUSinv = gU / unsqueeze(S, -2)
        gA = gA + gUSinv - U @ (mT(U) @ gUSinv)
        gA = gA @ Vh
    elif nn > k:
        gA = gA @ Vh
        SinvgVh = gVh / unsqueeze(S, -1)
        gA = gA + SinvgVh - (SinvgVh @ mT(Vh)) @ Vh
        gA = U @ gA
    else:
        gA = U @ gA @ Vh
    return (gA,)


def _svd_jvp(c, t):
    """Tangents of (U, S, Vh) for A = U diag(S) Vh (thin SVD, distinct S > 0).

    With dP = U^T dA V and F_ij = 1 / (s_j^2 - s_i^2) off the diagonal:
    dS = diag(dP), dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1, and
    dV likewise with the roles of A and A^T swapped.
    """
    from ..errors import AutogradError

    U, S, Vh = c.out
    m, n_ = c.inputs[0].shape[-2:]
    k = min(m, n_)
    if c.params["full_matrices"] and m != n_:
        raise AutogradError(
            f"linalg.svd: forward-mode AD with full_matrices=True needs square "
            f"matrices (got {m}x{n_}); the extra singular vectors are not unique. "
            "Use full_matrices=False")
    dA, V = t[0], mT(Vh)
    dP = mT(U) @ dA @ V
    dPt = mT(dP)
    S2 = S * S
    eye = Tensor._make(np.eye(k, dtype=S._data.dtype))
    F = (1.0 - eye) / (unsqueeze(S2, -2) - unsqueeze(S2, -1) + eye)
    Sr, Sc = unsqueeze(S, -2), unsqueeze(S, -1)  # scale columns / rows by S
    dU = U @ (F * (dP * Sr + Sc * dPt))
    dV = V @ (F * (Sc * dP + dPt * Sr))
    if m > k:
        dU = dU + (dA @ V - U @ dP) / Sr
    if n_ > k:
        dV = dV + (mT(dA) @ U - V @ dPt) / Sr
    return dU, diagonal(dP, 0, -2, -1), mT(dV)


svd_p = primitive("svd", _svd_fwd, vjp=_svd_vjp, jvp=_svd_jvp, saves=(),
                  save_out=True, n_out=3, kind="linalg",
                  abstract=_abstract.svd_aval, params=("full_matrices",))


def svd(A, full_matrices=True, *, driver=None):
    """``A = U diag(S) Vh`` with singular values S in descending order."""
    import collections

    A = t_(A)
    if A.ndim < 2:  # (there is no dim -2: PyTorch's pinv says IndexError)
        raise IndexOutOfRange(f"{calling_op('linalg.svd')}: the input must have at "
                              f"least 2 dimensions, got shape {fmt_shape(A.shape)}")
    check_float(A, "linalg.svd")
    U, S, Vh = apply(svd_p, A, full_matrices=bool(full_matrices))
    return collections.namedtuple("svd", ["U", "S", "Vh"])(U, S, Vh)


def svdvals(A, *, driver=None):
    """Singular values, descending."""
    return svd(A, full_matrices=False)[1]


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Frobenius, nuclear, spectral (2), 1- or inf-norm of matrices."""
    from .shape import movedim

    A = t_(A)
    check_float(A, "linalg.matrix_norm")
    if dtype is not None:
        A = to_dtype(A, dtype_arg(dtype, "linalg.matrix_norm"))
    if not isinstance(dim, (list, tuple)):
        raise DTypeError(f"{calling_op('linalg.matrix_norm')}: dim must be a pair of "
                         f"ints, got {dim!r}")
    dim = shape_arg((dim,), "linalg.matrix_norm")
    if len(dim) != 2:
        raise ArgumentError(f"{calling_op('linalg.matrix_norm')}: dim must be a pair "
                            f"of dims, got {list(dim)}")
    d0, d1 = (dim1(d, A.ndim, "linalg.matrix_norm") for d in dim)
    if d0 == d1:
        raise ArgumentError(f"{calling_op('linalg.matrix_norm')}: dims must be "
                            f"different, got {list(dim)}")
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim)
    if ord in ("nuc", 2, -2):
        B = movedim(A, (d0, d1), (-2, -1))
        s = svdvals(B)
        r = sum(s, -1) if ord == "nuc" else (amax(s, -1) if ord == 2 else
                                             -amax(-s, -1))
    elif ord in (1, -1, float("inf"), float("-inf")):
        red, keep = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = sum(abs(A), red, keepdim=True)
        keep_ = keep
        r = amax(s, keep_, keepdim=True) if ord > 0 else -amax(-s, keep_, keepdim=True)
        if not keepdim:
            r = squeeze(r, (d0, d1))
        return r
    else:
        raise ArgumentError(f"linalg.matrix_norm: order {ord!r} is not supported; use "
                            "'fro', 'nuc', 2, -2, 1, -1, inf or -inf")
    if keepdim:
        for d in sorted((d0 % A.ndim, d1 % A.ndim)):
            r = unsqueeze(r, d)
    return r


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``linalg.norm``: a vector norm, or a matrix norm for 2-D input with ord or
    a pair of dims."""
    A = t_(A)
    check_float(A, "linalg.norm")
    if dim is not None and not isinstance(dim, (list, tuple)):
        dim = int_arg(dim, "dim", "linalg.norm")
    if isinstance(dim, (list, tuple)) and len(dim) not in (1, 2):
        raise ArgumentError(f"linalg.norm: if dim is given, it must be an int or 1 or "
                            f"2 dims, got {dim!r}")
    if ord is not None and dim is None and A.ndim not in (1, 2):
        raise ArgumentError(f"linalg.norm: with ord and no dim the input must be 1-D "
                            f"or 2-D, got shape {fmt_shape(A.shape)}")
    if dim is not None and not isinstance(dim, int) and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None and A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def inverse(input):
    """Alias of ``linalg.inv``."""
    return inv(input)


def pinverse(input, rcond=1e-15):
    """``linalg.pinv`` with singular values below ``rcond * max`` cut."""
    if not isinstance(rcond, (int, float, np.number)):
        raise DTypeError(f"pinverse: rcond must be a number, got {rcond!r}")
    return pinv(input, rtol=rcond)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """Pseudo-inverse via the SVD: singular values at or below
    ``max(atol, rtol * largest)`` count as zero (default rtol: eps * max(m, n))."""
    from .elementwise import where

    A = t_(A)
    for name, v in (("atol", atol), ("rtol", rtol)):
        if v is not None and not isinstance(v, (int, float, np.number)):
            raise DTypeError(f"{calling_op('linalg.pinv')}: {name} must be a number "
                             f"or None, got {v!r}")
    if hermitian and A.ndim >= 2:  # only the lower triangle is read, as PyTorch
        _square(A, "linalg.pinv")
        A = tril(A) + mT(tril(A, -1))
    U, S, Vh = svd(A, full_matrices=False)
    if rtol is None:
        rtol = 0.0 if atol else max(A.shape[-2:]) * np.finfo(A._data.dtype).eps
    tol = amax(S, -1, keepdim=True).detach() * rtol
    if atol:
        tol = where(tol > atol, tol, float(atol))
    Sinv = where(S > tol, 1.0 / S, 0.0)
    return mT(Vh) @ (unsqueeze(Sinv, -1) * mT(U))


def cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along ``dim``."""
    from .shape import narrow, cat

    a, b = t_(input), t_(other)
    dim = int_arg(dim, "dim", "linalg.cross")
    if a.ndim != b.ndim:
        raise ShapeError(f"linalg.cross: inputs must have the same number of "
                         f"dimensions, got shapes {fmt_shape(a.shape)} and "
                         f"{fmt_shape(b.shape)}")
    for x in (a, b):
        if x.ndim == 0:
            raise IndexOutOfRange("linalg.cross: dimension specified as -1 but the "
                                  "tensor has no dimensions")
        d = dim1(dim, x.ndim, "linalg.cross")
        if x.shape[d] != 3:
            raise ShapeError(f"linalg.cross: inputs must have length 3 in dimension "
                             f"{dim}, got shapes {fmt_shape(a.shape)} and "
                             f"{fmt_shape(b.shape)}")
    _same_dtype(a, b, "linalg.cross")

    def c(x, i):
        return narrow(x, dim, i, 1)

    return cat([c(a, 1) * c(b, 2) - c(a, 2) * c(b, 1),
                c(a, 2) * c(b, 0) - c(a, 0) * c(b, 2),
                c(a, 0) * c(b, 1) - c(a, 1) * c(b, 0)], dim)


# Top-level chainrule.* names; the rest live in chainrule.linalg as in PyTorch.
__all__ = ["matmul", "mm", "bmm", "mv", "dot", "inner", "vdot", "outer", "ger",
           "addmm", "einsum", "tensordot", "det", "logdet", "slogdet", "inverse",
           "pinverse"]
