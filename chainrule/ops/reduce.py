"""Reductions: sum, mean, prod, var/std, max/min, arg-reductions, norms,
cumulative sums and products, sorting and top-k.

Primitives are ``sum``, ``sum_to``, ``prod``, ``amax``, ``amin``,
``cumsum``, ``cumprod`` and the non-differentiable arg-reductions; the rest
are composites whose gradients come for free.
"""
import collections

import numpy as np

from ..errors import ArgumentError, DTypeError, IndexOutOfRange
from ..tensor import Tensor
from . import _abstract
from ._core import apply, primitive
from ._core import _cumsum_aval, _sum_to_aval
from .fused import _composite_jvp, _recompute_vjp
from ._util import (
    calling_op, check_float, dim1, dims, dtype_arg, floating, int_arg, lift, t_,
    to_dtype,
)
from .elementwise import (
    abs, eq, exp, isinf, log, maximum, pow, sign, sqrt, where,
)


def _keep_shape(shape, axis):
    """The shape a reduction over ``axis`` has with keepdim=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


def _axes(dim, x, op, empty_is_all=True):
    """``dim`` normalised for a reduction.  An empty list of dims means all
    dims (PyTorch's sum, mean, var; its all/any leave the tensor as it is).
    On a 0-d tensor dim 0 (or -1) is the tensor itself: all (no) axes."""
    axis = dims(dim, x.ndim, op)
    if axis == () and empty_is_all:
        return None
    return None if x.ndim == 0 and axis is not None else axis


def _unreduce(g, in_shape, axis, keepdim):
    """Broadcast a reduced gradient back over the reduced dims."""
    from .shape import expand, reshape

    if not keepdim:
        g = reshape(g, _keep_shape(in_shape, axis))
    return expand(g, in_shape)


# -- sum ---------------------------------------------------------------------------
def _sum_fwd(x, axis, keepdim):
    if x.dtype.kind in "bi" and x.dtype != np.int64:
        return np.sum(x, axis=axis, keepdims=keepdim, dtype=np.int64)
    return np.sum(x, axis=axis, keepdims=keepdim)


sum_p = primitive(
    "sum", _sum_fwd,
    vjp=lambda n, g: (_unreduce(g, n.metas[0][0], n.params["axis"],
                                n.params["keepdim"]),),
    jvp=lambda c, t: apply(sum_p, t[0], **c.params),
    saves=(),
    kind="reduction", abstract=_abstract.sum_aval, params=("axis", "keepdim"),
)


def _sum_to_fwd(x, shape):
    lead = x.ndim - len(shape)
    axis = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    out = np.sum(x, axis=axis, keepdims=True) if axis else x
    return out.reshape(shape)


sum_to_p = primitive(
    "sum_to", _sum_to_fwd,
    vjp=lambda n, g: (_expand(g, n.metas[0][0]),),
    jvp=lambda c, t: sum_to(t[0], c.params["shape"]),
    saves=(),
    kind="reduction", abstract=_sum_to_aval, params=("shape",),
)


def _expand(g, shape):
    from .shape import expand

    return expand(g, shape)


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the inverse of broadcasting)."""
    shape = tuple(shape)
    if x._data.shape == shape:
        return x
    return apply(sum_to_p, x, shape=shape)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (an int, a tuple, or None for all elements)."""
    x = t_(input)
    if dtype is not None:  # computed and returned in dtype (ints: not int64)
        dt = dtype_arg(dtype)
        return to_dtype(sum(to_dtype(x, dt), dim, keepdim), dt)
    axis = _axes(dim, x, "sum")
    return apply(sum_p, x, axis=axis, keepdim=bool(keepdim))


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape)) if shape else 1
    return int(np.prod([shape[i] for i in axis])) if axis else 1


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean over ``dim``; only floating-point inputs, as in PyTorch."""
    x = t_(input)
    if dtype is not None:
        x = to_dtype(x, dtype_arg(dtype))
    if x._data.dtype.kind != "f":
        raise DTypeError(
            f"mean: could not infer output dtype; the input must be floating point, "
            f"got {x._data.dtype}. Use x.float().mean()"
        )
    axis = _axes(dim, x, "mean")
    n = _count(x.shape, axis)
    return sum(x, dim, keepdim) * (1.0 / n if n else float("nan"))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero."""
    x = t_(input)
    if x._data.dtype.kind == "f":
        x = where(x != x, 0.0, x)
    return sum(x, dim, keepdim, dtype=dtype)


def _var_args(dim, unbiased, correction):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise DTypeError(f"{calling_op('var')}: pass either unbiased or correction, "
                         "not both")
    if correction is not None and (not isinstance(correction, (int, float, np.number))
                                   or isinstance(correction, bool)):
        raise DTypeError(f"{calling_op('var')}: correction must be a number, got "
                         f"{correction!r}")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance with Bessel's ``correction`` (1 by default; 0 = population)."""
    dim, correction = _var_args(dim, unbiased, correction)
    x = t_(input)
    check_float(x, "var")
    axis = _axes(dim, x, "var")
    n = _count(x.shape, axis)
    d = x - mean(x, dim, keepdim=True)
    denom = n - correction  # no degrees of freedom left: divide by 0, as PyTorch
    scale = float("nan") if n == 0 else 1.0 / denom if denom > 0 else float("inf")
    return sum(d * d, dim, keepdim) * scale


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: ``sqrt(var(...))`` with the same arguments."""
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


_VM = collections.namedtuple("var_mean", ["var", "mean"])


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _VM(var(input, dim, unbiased, keepdim, correction=correction),
               mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _VM(std(input, dim, unbiased, keepdim, correction=correction),
               mean(input, dim, keepdim))


# -- prod --------------------------------------------------------------------------
def _prod_fwd(x, axis, keepdim):
    if x.dtype.kind in "bi":
        return np.prod(x, axis=axis, keepdims=keepdim, dtype=np.int64)
    return np.prod(x, axis=axis, keepdims=keepdim)


def _prod_vjp(n, g):
    """Product of all *other* elements, via exclusive cumulative products.

    Correct when the input contains zeros, unlike ``out / x``.
    """
    from .shape import cat, flip, movedim, narrow, reshape

    x = n.inputs[0]
    axis, keepdim = n.params["axis"], n.params["keepdim"]
    shape = x.shape
    if x._data.size == 0:  # nothing to differentiate (and no cumprod to build)
        return (Tensor._make(np.zeros(shape, x._data.dtype)),)
    if axis is None:
        xs = reshape(x, (-1,))
        ax = 0
    else:
        xs, ax = x, axis[0]
    xs = movedim(xs, ax, -1)
    L = xs.shape[-1]
    ones = Tensor._make(np.ones(xs.shape[:-1] + (1,), xs._data.dtype))
    left = cat([ones, cumprod(narrow(xs, -1, 0, L - 1), -1)], -1)
    rxs = flip(xs, (-1,))
    right = flip(cat([ones, cumprod(narrow(rxs, -1, 0, L - 1), -1)], -1), (-1,))
    others = movedim(left * right, -1, ax)
    if axis is None:
        others = reshape(others, shape)
    return (_unreduce(g, shape, axis, keepdim) * others,)


prod_p = primitive(
    "prod", _prod_fwd, vjp=_prod_vjp,
    jvp=lambda c, t: sum(t[0] * _prod_vjp_others(c), c.params["axis"],
                         c.params["keepdim"]),
    kind="reduction", abstract=_abstract.sum_aval, params=("axis", "keepdim"),
)


def _prod_vjp_others(c):
    ones = Tensor._make(np.ones(c.out.shape, c.out._data.dtype))
    return _prod_vjp(c, ones)[0]


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over one ``dim`` or all elements."""
    x = t_(input)
    if dtype is not None:  # computed and returned in dtype (ints: not int64)
        dt = dtype_arg(dtype)
        return to_dtype(prod(to_dtype(x, dt), dim, keepdim), dt)
    axis = None if dim is None else (dim1(dim, x.ndim, "prod"),)
    if x.ndim == 0:
        axis = None
    return apply(prod_p, x, axis=axis, keepdim=bool(keepdim))


# -- max / min ---------------------------------------------------------------------
def _amax_vjp(n, g):
    x, out = n.inputs[0], n.out
    axis, keepdim = n.params["axis"], n.params["keepdim"]
    if not keepdim:
        from .shape import reshape

        ks = _keep_shape(x.shape, axis)
        out, g = reshape(out, ks), reshape(g, ks)
    mask = eq(x, out)
    cnt = sum(mask, axis, keepdim=True)
    return (g * mask / cnt,)


def _amax_jvp(c, t):
    x, out = c.inputs[0], c.out
    axis, keepdim = c.params["axis"], c.params["keepdim"]
    from .shape import reshape

    ks = _keep_shape(x.shape, axis)
    mask = eq(x, reshape(out, ks))
    return sum(t[0] * mask, axis, keepdim) / sum(mask, axis, keepdim)


def _check_nonempty(x, axis, op):
    """max/min/arg-reductions have no identity: the reduced dims must be non-empty
    (PyTorch raises IndexError)."""
    if x._data.size == 0 and (axis is None or 0 in [x.shape[a] for a in axis]):
        raise IndexOutOfRange(
            f"{calling_op(op)}: expected a non-empty tensor (or a dim with non-zero "
            f"size); got shape {list(x.shape)}"
        )


amax_p = primitive("amax", lambda x, axis, keepdim: np.max(x, axis, keepdims=keepdim),
                   vjp=_amax_vjp, jvp=_amax_jvp, save_out=True,
                   kind="reduction", params=("axis", "keepdim"))
amin_p = primitive("amin", lambda x, axis, keepdim: np.min(x, axis, keepdims=keepdim),
                   vjp=_amax_vjp, jvp=_amax_jvp, save_out=True,
                   kind="reduction", params=("axis", "keepdim"))


def _empty_dims_first(x, dim, op):
    """For an empty ``x``, an empty reduced dim is reported before repeated
    dims, in PyTorch's order."""
    if x._data.size == 0 and isinstance(dim, (list, tuple)):
        for d in dim:
            _check_nonempty(x, (dim1(d, x.ndim, op),) if x.ndim else None, op)


def amax(input, dim=(), keepdim=False):
    """Maximum over ``dim`` (all dims by default); ties share the gradient."""
    x = t_(input)
    _empty_dims_first(x, dim, "amax")
    axis = None if dim == () or dim is None else _axes(dim, x, "amax")
    _check_nonempty(x, axis, "amax")
    return apply(amax_p, x, axis=axis, keepdim=bool(keepdim))


def amin(input, dim=(), keepdim=False):
    """Minimum over ``dim`` (all dims by default); ties share the gradient."""
    x = t_(input)
    _empty_dims_first(x, dim, "amin")
    axis = None if dim == () or dim is None else _axes(dim, x, "amin")
    _check_nonempty(x, axis, "amin")
    return apply(amin_p, x, axis=axis, keepdim=bool(keepdim))


argmax_p = primitive(
    "argmax", lambda x, axis, keepdim: np.argmax(x, axis, keepdims=keepdim), saves=(),
    kind="reduction", abstract=_abstract.arg_reduce_aval, params=("axis", "keepdim"))
argmin_p = primitive(
    "argmin", lambda x, axis, keepdim: np.argmin(x, axis, keepdims=keepdim), saves=(),
    kind="reduction", abstract=_abstract.arg_reduce_aval, params=("axis", "keepdim"))


def _no_bool(x, op):
    if x._data.dtype == np.bool_:
        raise DTypeError(f"{op}: bool tensors are not supported (as in PyTorch); "
                         "convert with .int() first")
    return x


def argmax(input, dim=None, keepdim=False):
    """Index of the (first) maximum, over the flattened tensor or along ``dim``."""
    x = _no_bool(t_(input), "argmax")
    if dim is None:
        _check_nonempty(x, None, "argmax")
        out = apply(argmax_p, x, axis=None, keepdim=False)
        return out.reshape((1,) * x.ndim) if keepdim else out
    d = dim1(dim, x.ndim, "argmax")
    _check_nonempty(x, (d,), "argmax")
    return apply(argmax_p, x, axis=d if x.ndim else None, keepdim=bool(keepdim))


def argmin(input, dim=None, keepdim=False):
    """Index of the (first) minimum, over the flattened tensor or along ``dim``."""
    x = _no_bool(t_(input), "argmin")
    if dim is None:
        _check_nonempty(x, None, "argmin")
        out = apply(argmin_p, x, axis=None, keepdim=False)
        return out.reshape((1,) * x.ndim) if keepdim else out
    d = dim1(dim, x.ndim, "argmin")
    _check_nonempty(x, (d,), "argmin")
    return apply(argmin_p, x, axis=d if x.ndim else None, keepdim=bool(keepdim))


MaxMin = collections.namedtuple("return_types", ["values", "indices"])


def _select(x, idx, d, keepdim):
    from .index import take_along_dim
    from .shape import squeeze, unsqueeze

    v = take_along_dim(x, unsqueeze(idx, d), d)
    return v if keepdim else squeeze(v, d)


def max(input, dim=None, keepdim=False, *, other=None):
    """``max(x)``: the largest element; ``max(x, dim)``: (values, indices);
    ``max(x, other_tensor)``: elementwise maximum."""
    x = t_(input)
    if isinstance(dim, Tensor) or other is not None:
        return maximum(x, dim if other is None else other)
    if dim is None:
        return amax(x)
    d = dim1(dim, x.ndim, "max")
    if x.ndim == 0:
        return MaxMin(x, Tensor._make(np.zeros((), np.int64)))
    xi = lift(x, np.int32) if x._data.dtype == np.bool_ else x  # argmax: no bools
    idx = argmax(xi, d, keepdim=False)
    return MaxMin(_select(x, idx, d, keepdim), argmax(xi, d, keepdim))


def min(input, dim=None, keepdim=False, *, other=None):
    """Counterpart of :func:`max`."""
    from .elementwise import minimum

    x = t_(input)
    if isinstance(dim, Tensor) or other is not None:
        return minimum(x, dim if other is None else other)
    if dim is None:
        return amin(x)
    d = dim1(dim, x.ndim, "min")
    if x.ndim == 0:
        return MaxMin(x, Tensor._make(np.zeros((), np.int64)))
    xi = lift(x, np.int32) if x._data.dtype == np.bool_ else x  # argmin: no bools
    idx = argmin(xi, d, keepdim=False)
    return MaxMin(_select(x, idx, d, keepdim), argmin(xi, d, keepdim))


def aminmax(input, *, dim=None, keepdim=False):
    r = collections.namedtuple("aminmax", ["min", "max"])
    return r(amin(input, dim if dim is not None else (), keepdim),
             amax(input, dim if dim is not None else (), keepdim))


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, computed stably."""
    x = floating(input)
    axis = _axes(dim, x, "logsumexp")
    m = amax(x, axis, keepdim=True).detach()
    m = where(isinf(m), 0.0, m)
    s = log(sum(exp(x - m), axis, keepdim=True)) + m
    if not keepdim:
        from .shape import squeeze

        s = squeeze(s, axis) if axis else s
    return s


# -- cumulative ------------------------------------------------------------------------
def _flip_cumsum(g, axis):
    from .shape import flip

    return flip(cumsum(flip(g, (axis,)), axis), (axis,))


def _cumsum_fwd(x, axis):
    if x.dtype.kind in "bi":
        return np.cumsum(x, axis, dtype=np.int64)
    return np.cumsum(x, axis)


cumsum_p = primitive(
    "cumsum", _cumsum_fwd,
    vjp=lambda n, g: (_flip_cumsum(g, n.params["axis"]),),
    jvp=lambda c, t: apply(cumsum_p, t[0], axis=c.params["axis"]),
    saves=(),
    kind="along_axis", abstract=_cumsum_aval, params=("axis",),
)


def _cumulative(p, input, dim, dtype, op):
    """cumsum/cumprod: ints and bools accumulate in int64 unless ``dtype``
    says otherwise; a 0-d tensor is its own running total."""
    x = t_(input)
    dt = None if dtype is None else dtype_arg(dtype)
    axis = dim1(dim, x.ndim, op)
    if dt is not None:
        return to_dtype(_cumulative(p, to_dtype(x, dt), dim, None, op), dt)
    if x.ndim == 0:
        return lift(x, np.int64) if x._data.dtype.kind in "bi" else x.clone()
    return apply(p, x, axis=axis)


def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``."""
    return _cumulative(cumsum_p, input, dim, dtype, "cumsum")


def _cumprod_vjp(n, g):
    return (apply(cumprod_bwd_p, g, n.inputs[0], axis=n.params["axis"]),)


def _cumprod_bwd_fwd(g, x, axis):
    """cumprod's input gradient ``sum_{j >= i} g_j d out_j / d x_i``.

    Without zeros in x the partial is ``out_j / x_i`` (O(n)); with zeros it is
    the running product with x_i left out (O(n^2), as
    :func:`_cumprod_partials`).  The test is in this kernel, so it runs on
    every call, replayed or compiled alike.
    """
    if not np.any(x == 0):
        out = np.cumprod(x, axis)
        return np.flip(np.cumsum(np.flip(g * out, axis), axis), axis) / x
    xs, gs = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
    k = xs.shape[-1]
    rows = np.where(np.eye(k, dtype=bool), 1, xs[..., None, :])
    part = np.where(np.triu(np.ones((k, k), dtype=bool)), np.cumprod(rows, -1), 0)
    gx = (part * gs[..., None, :]).sum(-1)
    return np.moveaxis(gx, -1, axis).astype(np.result_type(g, x), copy=False)


def _cumprod_bwd_composite(g, x, axis):
    return _cumprod_grad_with_zeros(x, g, axis)  # valid with or without zeros


def _cumprod_bwd_vjp(n, gg):
    # Second order (create_graph): differentiate the zero-safe composite.
    return _recompute_vjp(_cumprod_bwd_composite, n, (gg,), 1)


cumprod_bwd_p = primitive(
    "cumprod_backward", _cumprod_bwd_fwd, vjp=_cumprod_bwd_vjp,
    jvp=lambda c, t: _composite_jvp(_cumprod_bwd_composite, c, t), quiet=True,
    kind="fused", abstract=lambda g, x, axis: (x,), params=("axis",))
"""cumprod's vjp as one kernel (it branches on zeros in the input)."""


def _cumprod_partials(xs):
    """``D[..., i, j] = d out_j / d x_i`` along the last dim, without dividing
    by x (so zeros are fine): O(n^2).

    Row i of an (n, n) stack is x with x_i replaced by 1; its running product
    at j >= i is the partial; below the diagonal it is 0.
    """
    from .shape import unsqueeze

    n = xs.shape[-1]
    rows = where(Tensor._make(np.eye(n, dtype=bool)), 1.0, unsqueeze(xs, -2))
    upper = Tensor._make(np.triu(np.ones((n, n), dtype=bool)))  # j >= i
    return where(upper, cumprod(rows, -1), 0.0)


def _cumprod_grad_with_zeros(x, g, ax):
    from .shape import movedim, unsqueeze

    xs, gs = movedim(x, ax, -1), movedim(g, ax, -1)
    gx = sum(_cumprod_partials(xs) * unsqueeze(gs, -2), -1)
    return movedim(gx, -1, ax)


def _cumprod_jvp(c, t):
    x, ax = c.inputs[0], c.params["axis"]
    if np.any(x._data == 0):
        from .shape import movedim, unsqueeze

        xs, ts = movedim(x, ax, -1), movedim(t[0], ax, -1)
        return movedim(sum(_cumprod_partials(xs) * unsqueeze(ts, -1), -2), -1, ax)
    return cumsum(t[0] / x, ax) * c.out


def _cumprod_fwd(x, axis):
    if x.dtype.kind in "bi":
        return np.cumprod(x, axis, dtype=np.int64)
    return np.cumprod(x, axis)


cumprod_p = primitive(
    "cumprod", _cumprod_fwd, vjp=_cumprod_vjp, jvp=_cumprod_jvp,
    save_out=True, quiet=True,
    kind="along_axis", abstract=_abstract.scan_aval, params=("axis",),
)


def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``.  (Its gradient assumes no zero inputs.)"""
    return _cumulative(cumprod_p, input, dim, dtype, "cumprod")


def cummax(input, dim):
    x = t_(input)
    d = dim1(dim, x.ndim, "cummax")
    if x.ndim == 0:
        return MaxMin(x.clone(), Tensor._make(np.zeros((), np.int64)))
    idx = apply(cum_arg_p, x, axis=d, largest=True)
    from .index import take_along_dim

    return MaxMin(take_along_dim(x, idx, d), idx)


def cummin(input, dim):
    x = t_(input)
    d = dim1(dim, x.ndim, "cummin")
    if x.ndim == 0:
        return MaxMin(x.clone(), Tensor._make(np.zeros((), np.int64)))
    idx = apply(cum_arg_p, x, axis=d, largest=False)
    from .index import take_along_dim

    return MaxMin(take_along_dim(x, idx, d), idx)


def _cum_arg_fwd(a, axis, largest):
    """Index of the running max (``largest``) or min along ``axis``; ties go
    to the later element, as in PyTorch."""
    if a.ndim == 0 or a.size == 0:
        return np.zeros(a.shape, np.int64)
    better = np.greater_equal if largest else np.less_equal
    a = np.moveaxis(a, axis, -1)
    idx = np.zeros(a.shape, np.int64)
    best = a[..., 0].copy()
    for i in range(1, a.shape[-1]):
        take = better(a[..., i], best)
        best = np.where(take, a[..., i], best)
        idx[..., i] = np.where(take, i, idx[..., i - 1])
    return np.moveaxis(idx, -1, axis)


cum_arg_p = primitive("cum_arg", _cum_arg_fwd, kind="along_axis",
                      params=("axis", "largest"),
                      abstract=lambda x, axis, largest: ((x[0], np.dtype(np.int64)),))
"""cummax/cummin's indices (the values are gathered with them)."""


# -- logic reductions ----------------------------------------------------------------
all_p = primitive("all", lambda x, axis, keepdim: np.all(x, axis, keepdims=keepdim),
                  saves=(), kind="reduction", abstract=_abstract.logic_reduce_aval,
                  params=("axis", "keepdim"))
any_p = primitive("any", lambda x, axis, keepdim: np.any(x, axis, keepdims=keepdim),
                  saves=(), kind="reduction", abstract=_abstract.logic_reduce_aval,
                  params=("axis", "keepdim"))


def all(input, dim=None, keepdim=False):
    """True where every element (over ``dim``) is non-zero."""
    x = t_(input)
    axis = _axes(dim, x, "all", empty_is_all=False)
    return apply(all_p, x, axis=axis, keepdim=bool(keepdim))


def any(input, dim=None, keepdim=False):
    """True where some element (over ``dim``) is non-zero."""
    x = t_(input)
    axis = _axes(dim, x, "any", empty_is_all=False)
    return apply(any_p, x, axis=axis, keepdim=bool(keepdim))


def count_nonzero(input, dim=None):
    x = t_(input)
    return sum(x != 0, dim)


# -- norms -----------------------------------------------------------------------------
def _safe_sqrt(s):
    """sqrt with gradient 0 (not NaN) where the argument is 0, as PyTorch's norm."""
    zero = s == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, s)))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x`` flattened, or over ``dim``."""
    x = t_(x)
    check_float(x, "linalg.vector_norm")
    if not isinstance(ord, (int, float, np.number)) or isinstance(ord, bool):
        raise DTypeError(f"{calling_op('linalg.vector_norm')}: ord must be a number, "
                         f"got {ord!r}")
    if dtype is not None:
        dt = dtype_arg(dtype)
        if dt.itemsize < x._data.dtype.itemsize:
            raise DTypeError(f"{calling_op('linalg.vector_norm')}: the input's dtype "
                             f"({x._data.dtype}) should convert to dtype={dt} without "
                             "narrowing")
        x = to_dtype(x, dt)
        check_float(x, "linalg.vector_norm")
    if isinstance(dim, int):
        dim = (dim,)
    if ord == 2:
        return _safe_sqrt(sum(x * x, dim, keepdim))
    if ord == float("inf"):
        return amax(abs(x), dim if dim is not None else (), keepdim)
    if ord == float("-inf"):
        return amin(abs(x), dim if dim is not None else (), keepdim)
    if ord == 0:
        # abs(sign(x)) counts non-zeros and, like PyTorch, has a (zero) gradient.
        return sum(abs(sign(x)), dim, keepdim)
    if ord == 1:
        return sum(abs(x), dim, keepdim)
    if ord < 0 and x._data.size == 0:  # no identity to reduce an empty dim to
        axis = _axes(dim, x, "linalg.vector_norm")
        if axis is None or 0 in [x.shape[a] for a in axis]:
            raise ArgumentError(f"{calling_op('linalg.vector_norm')}: cannot compute "
                                f"the {ord} norm of an empty tensor (no identity)")
    s = sum(pow(abs(x), float(ord)), dim, keepdim)
    return pow(s, 1.0 / ord)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: vector p-norms, or 'fro' / 'nuc' for matrices."""
    x = t_(input)
    check_float(x, "norm")
    if p == "fro" or p is None:
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    if p == "nuc":
        from .linalg import matrix_norm

        if dim is None and x.ndim != 2:
            raise ArgumentError(f"norm: p='nuc' without dim needs a matrix, got shape "
                                f"{list(x.shape)}; pass the two dims")
        return matrix_norm(x, "nuc", dim if dim is not None else (-2, -1), keepdim)
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


# -- sorting --------------------------------------------------------------------------
argsort_p = primitive(
    "argsort",
    lambda x, axis, descending, stable: _argsort(x, axis, descending),
    saves=(),
    kind="along_axis", abstract=_abstract.argsort_aval,
    params=("axis", "descending", "stable"),
)


def _argsort(x, axis, descending):
    if not descending:
        return np.argsort(x, axis, kind="stable")
    # Stable descending order: sort the negated keys (NaN last either way).
    if x.dtype == np.bool_:
        x = x.astype(np.int8)
    n = x.shape[axis]
    idx = np.argsort(np.flip(x, axis), axis, kind="stable")
    idx = np.flip(n - 1 - idx, axis)
    return np.ascontiguousarray(idx)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim`` (stable)."""
    x = t_(input)
    axis = dim1(dim, x.ndim, "argsort")
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    return apply(argsort_p, x, axis=axis, descending=bool(descending), stable=True)


Sorted = collections.namedtuple("sort", ["values", "indices"])


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim``; the gradient follows indices."""
    from .index import take_along_dim

    x = t_(input)
    d = dim1(dim, x.ndim, "sort")
    if x.ndim == 0:
        return Sorted(x, Tensor._make(np.zeros((), np.int64)))
    idx = argsort(x, d, descending)
    return Sorted(take_along_dim(x, idx, d), idx)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices."""
    from .index import take_along_dim
    from .shape import narrow

    x = t_(input)
    k = int_arg(k, "k", "topk")
    d = dim1(dim, x.ndim, "topk")
    _no_bool(x, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise ArgumentError(f"topk: k ({k}) must be between 0 and the size of dim "
                            f"{dim}, which is {n}")
    if x.ndim == 0:
        return Sorted(x, Tensor._make(np.zeros((), np.int64)))
    idx = narrow(argsort(x, d, descending=largest), d, 0, k)
    return Sorted(take_along_dim(x, idx, d), idx)


def kthvalue(input, k, dim=-1, keepdim=False):
    from .index import take_along_dim
    from .shape import narrow, squeeze

    x = t_(input)
    k = int_arg(k, "k", "kthvalue")
    d = dim1(dim, x.ndim, "kthvalue")
    _check_nonempty(x, (d,) if x.ndim else None, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise ArgumentError(f"{calling_op('kthvalue')}: k ({k}) out of range for "
                            f"dimension {dim} of size {n}; valid k are 1 to {n}")
    if x.ndim == 0:
        return MaxMin(x, Tensor._make(np.zeros((), np.int64)))
    idx = narrow(argsort(x, d), d, k - 1, 1)
    v = take_along_dim(x, idx, d)
    if not keepdim:
        v, idx = squeeze(v, d), squeeze(idx, d)
    return MaxMin(v, idx)


def median(input, dim=None, keepdim=False):
    """Lower median (PyTorch's convention), overall or along ``dim``."""
    x = t_(input)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0 and x._data.dtype.kind == "f":
            return Tensor._make(np.full((), np.nan, x._data.dtype))  # as PyTorch
        m = kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values.detach()
        if x._data.dtype.kind != "f":
            return m
        # Ties share the gradient evenly, as in PyTorch's whole-tensor median.
        tie = eq(flat, m)
        return sum(where(tie, flat, 0.0)) / sum(tie)
    d = dim1(dim, x.ndim, "median")
    return kthvalue(x, ((x.shape[d] if x.ndim else 1) + 1) // 2, d, keepdim)



from ._util import public_names as _public  # noqa: E402

__all__ = _public(globals())
