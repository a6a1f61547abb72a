"""PyTorch functions that real programs call, written as composites of ops.

Each function here is a few ordinary ops, so values, gradients (first and
higher order) and forward mode come from the primitives' rules; nothing
here touches arrays directly.  They are exported as ``chainrule.<name>`` and,
where PyTorch has the method, bound as ``Tensor.<name>`` in
``_tensor_methods.py``.  Shapes follow PyTorch's documentation of each name.
"""
import math

import numpy as np

from . import ops
from ._dtype import as_dtype, get_default_dtype
from ._dtype import result_type as _result_type
from .errors import ArgumentError, ShapeError, fmt_shape
from .ops._util import dim1, floating, t_

__all__ = """
arccos arccosh arcsin arcsinh arctan arctanh positive hypot logaddexp logaddexp2
copysign deg2rad rad2deg heaviside signbit sinc logit nan_to_num ldexp angle conj
conj_physical resolve_conj resolve_neg isreal nanmean logcumsumexp msort ravel select
take split_with_sizes unsafe_split unsafe_chunk narrow_copy rot90 diff kron diagflat
select_scatter slice_scatter hardshrink prelu addmv addr addbmm baddbmm dist
matrix_power index_copy
meshgrid atleast_1d atleast_3d dstack column_stack row_stack block_diag
cartesian_prod cdist tril_indices triu_indices searchsorted bucketize trapezoid
trapz cumulative_trapezoid vander is_floating_point is_complex is_nonzero
is_same_size is_signed is_conj is_neg finfo iinfo scalar_tensor result_type
pi e inf nan newaxis
""".split()

pi, e, inf, nan, newaxis = math.pi, math.e, math.inf, math.nan, None


# -- elementwise -----------------------------------------------------------------------
arccos, arccosh, arcsin, arcsinh = ops.acos, ops.acosh, ops.asin, ops.asinh
arctan, arctanh = ops.atan, ops.atanh


def positive(input):
    """``+x``: the input itself."""
    return input


def hypot(input, other):
    """``sqrt(x^2 + y^2)`` elementwise (broadcast)."""
    return ops.sqrt(input * input + other * other)


def logaddexp(input, other):
    """``log(exp(x) + exp(y))`` without overflow: ``max + log1p(exp(-|x - y|))``."""
    return ops.maximum(input, other) + ops.log1p(ops.exp(-ops.abs(input - other)))


def logaddexp2(input, other):
    """``log2(2^x + 2^y)``."""
    return logaddexp(input * math.log(2), other * math.log(2)) / math.log(2)


def copysign(input, other):
    """``|x|`` with the sign of ``other`` (``other < 0`` counts as negative)."""
    x = floating(input)
    return ops.where(t_(other) < 0, -ops.abs(x), ops.abs(x))


def deg2rad(input):
    return floating(input) * (math.pi / 180)


def rad2deg(input):
    return floating(input) * (180 / math.pi)


def heaviside(input, values):
    """0 where ``x < 0``, ``values`` where ``x == 0``, 1 where ``x > 0``."""
    x = t_(input)
    one, zero = ops.ones_like(x), ops.zeros_like(x)
    return ops.where(x == 0, ops.to_dtype(t_(values), x._data.dtype),
                     ops.where(x > 0, one, zero))


def signbit(input):
    """True where ``x < 0`` (bool)."""
    return t_(input) < 0


def sinc(input):
    """``sin(pi x) / (pi x)``, 1 at 0 (computed on a safe input there)."""
    x = floating(input)
    zero = x == 0
    safe = ops.where(zero, ops.ones_like(x), x) * math.pi
    return ops.where(zero, ops.ones_like(x), ops.sin(safe) / safe)


def logit(input, eps=None):
    """``log(p / (1 - p))``; with ``eps``, ``p`` is clamped to ``[eps, 1-eps]``."""
    p = floating(input)
    if eps is not None:
        p = ops.clamp(p, eps, 1 - eps)
    return ops.log(p) - ops.log1p(-p)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> ``nan``, +inf -> ``posinf`` (default: dtype max), -inf -> ``neginf``."""
    x = t_(input)
    if x._data.dtype.kind != "f":
        return ops.clone(x)
    big = float(np.finfo(x._data.dtype).max)
    x = ops.where(ops.isnan(x), ops.full_like(x, nan), x)
    x = ops.where(ops.isposinf(x), ops.full_like(x, big if posinf is None else posinf),
                  x)
    return ops.where(ops.isneginf(x),
                     ops.full_like(x, -big if neginf is None else neginf), x)


def ldexp(input, other):
    """``x * 2^other``."""
    return floating(input) * ops.pow(2.0, floating(other))


def angle(input):
    """Of a real tensor: ``pi`` where ``x < 0``, else 0 (NaN stays NaN)."""
    x = floating(input)
    return ops.where(x < 0, ops.full_like(x, math.pi), x * 0)


def conj(input):
    """Real tensors only, so the conjugate is the tensor itself."""
    return input


conj_physical = resolve_conj = resolve_neg = conj


def isreal(input):
    """All True: chainrule tensors are real."""
    return ops.ones_like(t_(input), dtype="bool")


# -- reductions ------------------------------------------------------------------------
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over the non-NaN elements."""
    x = t_(input) if dtype is None else t_(input).to(dtype)
    count = ops.sum(ops.logical_not(ops.isnan(x)).to(x.dtype), dim, keepdim=keepdim)
    return ops.nansum(x, dim, keepdim=keepdim) / count


def logcumsumexp(input, dim):
    """``log(cumsum(exp(x), dim))``, shifted by the (detached) max along ``dim``."""
    x = floating(input)
    d = dim1(dim, x.ndim, "logcumsumexp") if x.ndim else 0
    if x.ndim == 0:
        return ops.clone(x)
    m = ops.amax(x.detach(), d, keepdim=True)
    m = ops.where(ops.isfinite(m), m, ops.zeros_like(m))
    return ops.log(ops.cumsum(ops.exp(x - m), d)) + m


def msort(input):
    """Sorted along dim 0."""
    return ops.sort(input, 0)[0]


# -- shapes and indexing ---------------------------------------------------------------
def ravel(input):
    return ops.flatten(input)


def select(input, dim, index):
    """``input`` indexed by the integer ``index`` along ``dim`` (dim removed)."""
    x = t_(input)
    d = dim1(dim, x.ndim, "select")
    return ops.getitem(x, (slice(None),) * d + (index,))


def take(input, index):
    """``input.flatten()[index]``; the result has ``index``'s shape."""
    return ops.getitem(ops.flatten(input), index)


def split_with_sizes(input, split_sizes, dim=0):
    return ops.split(input, list(split_sizes), dim)


def unsafe_split(input, split_size, dim=0):
    return ops.split(input, split_size, dim)


def unsafe_chunk(input, chunks, dim=0):
    return ops.chunk(input, chunks, dim)


def narrow_copy(input, dim, start, length):
    return ops.clone(ops.narrow(input, dim, start, length))


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by ``k * 90`` degrees in the plane of ``dims`` (from the first
    towards the second)."""
    x = t_(input)
    if len(dims) != 2:
        raise ArgumentError(f"rot90: expected total rotation dims == 2, got {dims}")
    if x.ndim < 2:
        raise ShapeError(f"rot90: expected total dims >= 2, got {x.ndim}")
    a, b = (dim1(d, x.ndim, "rot90") for d in dims)
    if a == b:
        raise ArgumentError(f"rot90: the rotation dims must differ, got {dims}")
    k %= 4
    if k == 1:
        return ops.transpose(ops.flip(x, (b,)), a, b)
    if k == 2:
        return ops.flip(x, (a, b))
    if k == 3:
        return ops.flip(ops.transpose(x, a, b), (b,))
    return ops.clone(x)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """``n``-th forward difference along ``dim`` (after concatenating
    ``prepend`` and ``append``)."""
    x = t_(input)
    d = dim1(dim, x.ndim, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = ops.cat(parts, d)
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi, lo = ops.narrow(x, d, 1, size - 1), ops.narrow(x, d, 0, size - 1)
        x = ops.logical_xor(hi, lo) if x.dtype.name == "bool" else hi - lo
    return x


def kron(input, other):
    """Kronecker product; the shorter operand gets leading ones."""
    a, b = t_(input), t_(other)
    nd = max(a.ndim, b.ndim)
    a = ops.reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = ops.reshape(b, (1,) * (nd - b.ndim) + b.shape)
    # a[i0, 1, i1, 1, ...] * b[1, j0, 1, j1, ...] then merge each pair.
    ea = ops.reshape(a, tuple(s for n in a.shape for s in (n, 1)))
    eb = ops.reshape(b, tuple(s for n in b.shape for s in (1, n)))
    return ops.reshape(ea * eb, tuple(m * n for m, n in zip(a.shape, b.shape)))


def diagflat(input, offset=0):
    """The flattened input on the ``offset``-th diagonal of a square matrix."""
    return ops.diag(ops.flatten(input), offset)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    x = floating(input)
    return ops.where(ops.abs(x) > lambd, x, x * 0)


def prelu(input, weight):
    """``max(0, x) + weight * min(0, x)``; ``weight`` has 1 or ``C = x.shape[1]``
    elements."""
    x, w = floating(input), t_(weight)
    if w.numel() != 1:
        if x.ndim < 2 or w.numel() != x.shape[1]:
            raise ShapeError(
                f"prelu: weight of {w.numel()} elements needs an input with that many "
                f"channels in dim 1, got input shape {fmt_shape(x.shape)}")
        w = ops.reshape(w, (-1,) + (1,) * (x.ndim - 2))
    return ops.where(x >= 0, x, w * x)


def _scatter_into(input, src, index, op):
    out = ops.clone(t_(input))
    src = t_(src)
    if tuple(out[index].shape) != tuple(src.shape):
        raise ShapeError(f"{op}: expected src to have a size equal to the slice of "
                         f"self {fmt_shape(out[index].shape)}, got "
                         f"{fmt_shape(src.shape)}")
    out[index] = src
    return out


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    d = dim1(dim, t_(input).ndim, "select_scatter")
    return _scatter_into(input, src, (slice(None),) * d + (index,), "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with the slice ``start:end:step`` along ``dim``
    replaced by ``src``."""
    d = dim1(dim, t_(input).ndim, "slice_scatter")
    return _scatter_into(input, src, (slice(None),) * d + (slice(start, end, step),),
                         "slice_scatter")


def index_copy(input, dim, index, source):
    """A copy of ``input`` whose slices ``index`` along ``dim`` are ``source``'s
    (``index`` without repeats)."""
    x = t_(input)
    return ops.index_add(ops.index_fill(x, dim, index, 0), dim, index, source)


# -- matrix products -------------------------------------------------------------------
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``."""
    return _scaled(input, ops.mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _scaled(input, ops.outer(vec1, vec2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    return _scaled(input, ops.sum(ops.bmm(batch1, batch2), 0), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)`` per batch."""
    return _scaled(input, ops.bmm(batch1, batch2), beta, alpha)


def _scaled(input, product, beta, alpha):
    prod = product if alpha == 1 else product * alpha
    if beta == 0:  # PyTorch ignores input then (NaN in it does not propagate)
        return prod + ops.zeros_like(t_(input))
    return (t_(input) if beta == 1 else t_(input) * beta) + prod


def dist(input, other, p=2):
    """``p``-norm of ``input - other``."""
    return ops.vector_norm(t_(input) - t_(other), p)


def matrix_power(input, n):
    """``A^n`` for square (batches of) matrices by repeated squaring;
    negative ``n`` inverts first."""
    a = t_(input)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError("matrix_power: expected a square matrix or a batch of "
                         f"them, got shape {fmt_shape(a.shape)}")
    if n < 0:
        a, n = ops.inverse(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else ops.matmul(result, a)
        n >>= 1
        if n:
            a = ops.matmul(a, a)
    if result is None:
        eye = ops.eye(a.shape[-1], dtype=a.dtype)
        return ops.expand(eye, a.shape) + ops.zeros_like(a)
    return result


# -- building tensors ------------------------------------------------------------------
def _tensors(args):
    return list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) \
        else list(args)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors; ``indexing`` is ``'ij'`` or ``'xy'``."""
    ts = [t_(t) for t in _tensors(tensors)]
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got "
                            f"{indexing!r}")
    for t in ts:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-D or 1-D tensors, got shape "
                             f"{fmt_shape(t.shape)}")
    ts = [ops.reshape(t, (-1,)) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = -1
        out.append(ops.expand(ops.reshape(t, tuple(view)), shape))
    if swap:  # 'xy' is 'ij' with the first two inputs (and outputs) swapped
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def atleast_1d(*tensors):
    ts = [t_(t) for t in _tensors(tensors)]
    out = [ops.reshape(t, (1,)) if t.ndim == 0 else t for t in ts]
    return out[0] if len(out) == 1 and not isinstance(tensors[0], (list, tuple)) \
        else tuple(out)


def atleast_3d(*tensors):
    ts = [t_(t) for t in _tensors(tensors)]

    def lift3(t):
        if t.ndim == 0:
            return ops.reshape(t, (1, 1, 1))
        if t.ndim == 1:
            return ops.reshape(t, (1, t.shape[0], 1))
        if t.ndim == 2:
            return ops.unsqueeze(t, -1)
        return t
    out = [lift3(t) for t in ts]
    return out[0] if len(out) == 1 and not isinstance(tensors[0], (list, tuple)) \
        else tuple(out)


def dstack(tensors):
    return ops.cat(list(atleast_3d(list(tensors))), 2)


def column_stack(tensors):
    cols = [ops.reshape(t_(t), (-1, 1)) if t_(t).ndim <= 1 else t_(t) for t in tensors]
    return ops.cat(cols, 1)


row_stack = ops.vstack


def block_diag(*tensors):
    """The 2-D (or promoted) inputs on the diagonal of one zero matrix."""
    ts = [t_(t) for t in tensors]
    ts = [ops.reshape(t, (1, -1)) if t.ndim < 2 else t for t in ts]
    for t in ts:
        if t.ndim != 2:
            raise ShapeError(f"block_diag: input tensors must have 2 or fewer "
                             f"dimensions, got shape {fmt_shape(t.shape)}")
    if not ts:
        return ops.zeros(1, 0)
    cols = sum(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        rows.append(ops.pad(t, (left, cols - left - t.shape[1])))
        left += t.shape[1]
    return ops.cat(rows, 0)


def cartesian_prod(*tensors):
    """All combinations of the 1-D inputs, ``(prod n_i, k)`` (``(n,)`` for one)."""
    grids = meshgrid(*tensors, indexing="ij")
    if len(grids) == 1:
        return grids[0]
    return ops.stack([ops.reshape(g, (-1,)) for g in grids], 1)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise ``p``-norm distances: ``(B, P, M)``, ``(B, R, M)`` -> ``(B, P, R)``."""
    a, b = floating(x1), floating(x2)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"cdist: expected x1 (..., P, M) and x2 (..., R, M) with the "
                         f"same M, got {fmt_shape(a.shape)} and {fmt_shape(b.shape)}")
    return ops.vector_norm(ops.unsqueeze(a, -2) - ops.unsqueeze(b, -3), p, -1)


def _tri_indices(row, col, offset, upper, dtype):
    idx = np.arange(row)[:, None], np.arange(col)[None, :]
    keep = (idx[1] - idx[0] >= offset) if upper else (idx[1] - idx[0] <= offset)
    rows, cols = np.nonzero(keep)
    return ops.tensor(np.stack([rows, cols]), dtype=dtype)


def tril_indices(row, col, offset=0, *, dtype="int64", device=None, layout=None):
    """``(2, N)`` row and column indices of the lower triangle of a
    ``row x col`` matrix."""
    return _tri_indices(row, col, offset, False, dtype)


def triu_indices(row, col, offset=0, *, dtype="int64", device=None, layout=None):
    """``(2, N)`` indices of the upper triangle."""
    return _tri_indices(row, col, offset, True, dtype)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Insertion indices of ``input`` into the last dim of ``sorted_sequence``."""
    seq, v = t_(sorted_sequence), t_(input)
    if sorter is not None:
        seq = ops.take_along_dim(seq, sorter, -1)
    right = right or side == "right"
    if seq.ndim == 1:
        cmp = ops.unsqueeze(v, -1) >= seq if right else ops.unsqueeze(v, -1) > seq
    else:
        if seq.shape[:-1] != v.shape[:-1]:
            raise ShapeError(
                "searchsorted: boundaries and input should have the same leading "
                f"dims, got {fmt_shape(seq.shape)} and {fmt_shape(v.shape)}")
        s, w = ops.unsqueeze(seq, -2), ops.unsqueeze(v, -1)
        cmp = w >= s if right else w > s
    return ops.sum(cmp, -1).to("int32" if out_int32 else "int64")


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """Index of the bucket of every element for 1-D ``boundaries``."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _spacing(y, x, dx, d):
    if x is None:
        return dx
    x = t_(x)
    if x.ndim == 1:
        shape = [1] * y.ndim
        shape[d] = -1
        x = ops.reshape(x, tuple(shape))
    return diff(x, dim=d)


def trapezoid(y, x=None, *, dx=1.0, dim=-1):
    """Integral of ``y`` along ``dim`` by the trapezoid rule."""
    y = floating(y)
    d = dim1(dim, y.ndim, "trapezoid")
    n = y.shape[d]
    if n == 0:
        return ops.sum(y, d)
    mid = (ops.narrow(y, d, 1, n - 1) + ops.narrow(y, d, 0, n - 1)) / 2
    return ops.sum(mid * _spacing(y, x, dx, d), d)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=1.0, dim=-1):
    """Running trapezoid integral along ``dim`` (one element shorter)."""
    y = floating(y)
    d = dim1(dim, y.ndim, "cumulative_trapezoid")
    n = y.shape[d]
    mid = (ops.narrow(y, d, 1, n - 1) + ops.narrow(y, d, 0, n - 1)) / 2
    return ops.cumsum(mid * _spacing(y, x, dx, d), d)


def vander(x, N=None, increasing=False):
    """Columns ``x^(N-1), ..., x^0`` (reversed with ``increasing``)."""
    x = t_(x)
    n = x.shape[0] if N is None else N
    powers = ops.arange(n, dtype=x.dtype if x.dtype.name != "bool" else "int64")
    if not increasing:
        powers = ops.flip(powers, (0,))
    return ops.pow(ops.unsqueeze(x, 1), powers)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return ops.tensor(s, dtype=dtype or get_default_dtype(),
                      requires_grad=requires_grad)


# -- predicates and type information ---------------------------------------------------
def is_floating_point(input):
    return input.dtype.name.startswith("float")


def is_complex(input):
    return False


def is_conj(input):
    return False


is_neg = is_conj


def is_signed(input):
    return input.dtype.name != "bool"


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def is_nonzero(input):
    """The truth of a one-element tensor (raises for any other)."""
    if input.numel() != 1:
        what = "no values" if input.numel() == 0 else "more than one value"
        raise ArgumentError(f"is_nonzero: Boolean value of Tensor with {what} is "
                            "ambiguous")
    return bool(input)


def finfo(type=None):
    """Machine limits (``eps``, ``max``, ``min``, ``tiny``, ``bits``...) of a float
    dtype (default: the default dtype)."""
    dt = as_dtype(type) if type is not None else get_default_dtype()
    if not dt.name.startswith("float"):
        raise ArgumentError(f"finfo: expected a floating point dtype, got {dt.name}")
    return np.finfo(dt.np)


def iinfo(type):
    """Limits (``max``, ``min``, ``bits``) of an integer dtype."""
    dt = as_dtype(type)
    if not dt.name.startswith("int"):
        raise ArgumentError(f"iinfo: expected an integer dtype, got {dt.name}")
    return np.iinfo(dt.np)


def result_type(tensor1, tensor2):
    """The dtype of ``tensor1 + tensor2`` under the promotion rules."""
    return _result_type(tensor1, tensor2)


# ``torch.<name>`` functions that are ``torch.nn.functional.<name>`` with the same
# signature; ``chainrule/__init__`` serves them lazily from ``nn.functional``.
NN_FUNCTIONAL_ALIASES = {name: "nn.functional" for name in """
conv1d conv2d conv_transpose1d conv_transpose2d avg_pool1d max_pool1d max_pool2d
max_pool1d_with_indices adaptive_avg_pool1d adaptive_max_pool1d cosine_similarity
pairwise_distance selu celu threshold threshold_ dropout layer_norm group_norm
rms_norm bilinear
""".split()}


# -- more of torch's namespace ---------------------------------------------------------
def _copy_of(fn, name):
    def f(*args, **kwargs):
        out = fn(*args, **kwargs)
        if isinstance(out, (tuple, list)):
            return type(out)(ops.clone(o) for o in out)
        return ops.clone(out)

    f.__name__ = name
    f.__doc__ = f"A copy (not a view) of ``{name[:-5]}``'s result."
    return f


def _slice(input, dim=0, start=None, end=None, step=1):
    d = dim1(dim, t_(input).ndim, "slice_copy")
    return ops.getitem(input, (slice(None),) * d + (slice(start, end, step),))


alias_copy = _copy_of(lambda x: x, "alias_copy")
detach_copy = _copy_of(lambda x: x.detach(), "detach_copy")
expand_copy = _copy_of(ops.expand, "expand_copy")
permute_copy = _copy_of(ops.permute, "permute_copy")
select_copy = _copy_of(select, "select_copy")
slice_copy = _copy_of(_slice, "slice_copy")
squeeze_copy = _copy_of(ops.squeeze, "squeeze_copy")
unsqueeze_copy = _copy_of(ops.unsqueeze, "unsqueeze_copy")
t_copy = _copy_of(ops.t, "t_copy")
transpose_copy = _copy_of(ops.transpose, "transpose_copy")
view_copy = _copy_of(ops.view, "view_copy")
diagonal_copy = _copy_of(ops.diagonal, "diagonal_copy")
split_with_sizes_copy = _copy_of(split_with_sizes, "split_with_sizes_copy")
unsafe_split_with_sizes = split_with_sizes


def adjoint(input):
    """The conjugate transpose of the last two dims (a transpose: real tensors)."""
    return ops.transpose(input, -2, -1)


def real(input):
    """The real part: the tensor itself."""
    return input


def _split_along(input, sections, dim, name, min_ndim):
    x = t_(input)
    if x.ndim < min_ndim:
        raise ShapeError(f"{name}: requires a tensor with at least {min_ndim} "
                         f"dimension(s), got shape {fmt_shape(x.shape)}")
    if isinstance(sections, int) and x.shape[dim] % sections:
        raise ShapeError(f"{name}: dim {dim} of size {x.shape[dim]} is not divisible "
                         f"by the split size {sections}")
    return ops.tensor_split(x, sections, dim)


def hsplit(input, indices_or_sections):
    return _split_along(input, indices_or_sections, 1 if t_(input).ndim > 1 else 0,
                        "hsplit", 1)


def vsplit(input, indices_or_sections):
    return _split_along(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):
    return _split_along(input, indices_or_sections, 2, "dsplit", 3)


def chain_matmul(*matrices):
    """``m1 @ m2 @ ...`` (PyTorch's older spelling of ``linalg.multi_dot``)."""
    out = matrices[0]
    for m in matrices[1:]:
        out = ops.matmul(out, m)
    return out


def torch_range(start=0, end=None, step=1, *, dtype=None, requires_grad=False, **_):
    """``start, start + step, ..., end`` *including* ``end`` (default float dtype)."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    dt = dtype or get_default_dtype()
    return ops.arange(n, dtype=dt) * step + start if n > 0 else ops.zeros(0, dtype=dt)


def fill(input, value):
    """A tensor like ``input`` full of ``value``."""
    return ops.zeros_like(input) + value


def constant_pad_nd(input, pad, value=0):
    return ops.pad(input, tuple(pad), value=value)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` occurs in ``test_elements``."""
    e, t = t_(elements), ops.reshape(t_(test_elements), (-1,))
    hit = ops.any(ops.unsqueeze(e, -1) == t, -1)
    return ops.logical_not(hit) if invert else hit


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in ``shape``: a tuple of tensors."""
    idx = t_(indices)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    size = math.prod(shape)
    if bool(ops.any(idx >= size)) or bool(ops.any(idx < -size)):
        raise ArgumentError(f"unravel_index: index out of bounds for shape {shape}")
    idx = ops.remainder(idx, max(size, 1))
    out = []
    for n in reversed(shape):
        out.append(ops.remainder(idx, n))
        idx = ops.floor_divide(idx, n)
    return tuple(reversed(out))


def _window(n, periodic, dtype, name, fn):
    dt = dtype or get_default_dtype()
    if n == 0:
        return ops.zeros(0, dtype=dt)
    if n == 1:
        return ops.ones(1, dtype=dt)
    denom = n if periodic else n - 1
    return fn(ops.arange(n, dtype=dt), denom)


def hann_window(window_length, periodic=True, *, dtype=None, **_):
    return _window(window_length, periodic, dtype, "hann_window",
                   lambda k, d: 0.5 - 0.5 * ops.cos(k * (2 * math.pi / d)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *,
                   dtype=None, **_):
    return _window(window_length, periodic, dtype, "hamming_window",
                   lambda k, d: alpha - beta * ops.cos(k * (2 * math.pi / d)))


def blackman_window(window_length, periodic=True, *, dtype=None, **_):
    return _window(window_length, periodic, dtype, "blackman_window",
                   lambda k, d: 0.42 - 0.5 * ops.cos(k * (2 * math.pi / d))
                   + 0.08 * ops.cos(k * (4 * math.pi / d)))


def bartlett_window(window_length, periodic=True, *, dtype=None, **_):
    return _window(window_length, periodic, dtype, "bartlett_window",
                   lambda k, d: 1 - ops.abs(k * (2 / d) - 1))


__all__ += """
alias_copy detach_copy expand_copy permute_copy select_copy slice_copy squeeze_copy
unsqueeze_copy t_copy transpose_copy view_copy diagonal_copy split_with_sizes_copy
unsafe_split_with_sizes adjoint real hsplit vsplit dsplit chain_matmul fill
constant_pad_nd isin unravel_index hann_window hamming_window blackman_window
bartlett_window
""".split()
