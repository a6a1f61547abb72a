"""The Gaussian log marginal likelihood as one primitive.

``gaussian_log_marginal_likelihood(K, y)`` is ``log N(y; 0, K)``::

    -0.5 y^T K^-1 y - 0.5 log det K - 0.5 n log(2 pi)

for a symmetric positive definite ``K`` (n, n) and ``y`` (n,).  As a
composite of Cholesky, triangular solves and a log-determinant, its
gradient runs the Cholesky backward rule: several cubic matrix products.
Fused, the forward is one Cholesky factorisation ``K = L L^T`` and two
triangular solves giving ``alpha = K^-1 y``, and the gradient has the
closed form

    d/dK = 0.5 (alpha alpha^T - K^-1),   d/dy = -alpha,

which costs one inverse from the factor already computed (LAPACK ``potri``)
plus O(n^2) work.  This is what makes fitting a Gaussian process's
hyper-parameters on a few thousand points take seconds.

The ordinary backward runs in NumPy (``gaussian_lml_backward``); when the
backward pass is itself recorded (``create_graph=True``) the vjp
differentiates the composite instead, and the forward-mode rule is written
in differentiable ops, so derivatives of every order are exact.
"""
import math

import numpy as np

from .._tape import _state
from ..errors import DTypeError, ShapeError, fmt_shape
from ..tensor import Tensor
from ._core import apply, primitive
from ._util import t_
from .fused import _composite_jvp

_SCIPY = []


def _scipy():
    """SciPy's LAPACK module and triangular solve, or (None, None).  Imported
    on first use: SciPy is optional and slow to import."""
    if not _SCIPY:
        try:
            from scipy.linalg import lapack, solve_triangular
            _SCIPY.extend((lapack, solve_triangular))
        except ImportError:  # pragma: no cover - SciPy is optional
            _SCIPY.extend((None, None))
    return _SCIPY


def _chol(K):
    """Lower Cholesky factor; raises NumPy's LinAlgError when not positive
    definite (the dispatcher turns it into chainrule's)."""
    _lapack = _scipy()[0]
    if _lapack is None:
        return np.linalg.cholesky(K)
    potrf = _lapack.get_lapack_funcs("potrf", (K,))
    L, info = potrf(K, lower=True, clean=True)
    if info != 0:
        raise np.linalg.LinAlgError(
            f"the matrix is not positive definite (leading minor {info} is not "
            "positive)" if info > 0 else f"LAPACK potrf failed (info {info})")
    return L


def _tri(L, b, trans):
    """``L^-1 b`` (trans=False) or ``L^-T b`` for lower triangular L."""
    _st = _scipy()[1]
    if _st is not None:
        return _st(L, b, lower=True, trans=1 if trans else 0, check_finite=False)
    return np.linalg.solve(L.T if trans else L, b)


def _chol_inverse(L):
    """``(L L^T)^-1`` as a full symmetric matrix."""
    _lapack = _scipy()[0]
    if _lapack is None:
        Linv = np.linalg.inv(L)
        return Linv.T @ Linv
    potri = _lapack.get_lapack_funcs("potri", (L,))
    inv, info = potri(L, lower=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"LAPACK potri failed (info {info})")
    # potri fills the lower triangle only (the upper one keeps L's zeros):
    # mirror it with one (n, n) temporary
    d = np.diagonal(inv).copy()
    inv = inv + inv.T
    np.fill_diagonal(inv, d)
    return inv


def _lml_fwd(K, y):
    """(log N(y; 0, K) 0-d, residuals: L (n, n), alpha (n,))."""
    n = K.shape[-1]
    L = _chol(K)
    a = _tri(L, y, False)
    alpha = _tri(L, a, True)
    lml = (-0.5 * np.dot(a, a) - np.log(np.diagonal(L)).sum()
           - 0.5 * n * math.log(2 * math.pi))
    return np.asarray(lml, K.dtype), L, alpha


def _lml_bwd_fwd(g, L, alpha):
    """Gradients of ``g * lml``: ``0.5 g (alpha alpha^T - K^-1)`` and
    ``-g alpha``, in place on one (n, n) buffer."""
    W = _chol_inverse(L)
    np.subtract(np.multiply.outer(alpha, alpha), W, out=W)
    W *= 0.5 * g
    return W, -g * alpha


lml_bwd_p = primitive(
    "gaussian_lml_backward", _lml_bwd_fwd, n_out=2, kind="fused",
    abstract=lambda g, L, a: ((L[0], L[1]), (a[0], a[1])), params=())


def gaussian_lml_composite(K, y):
    """The definition in ordinary ops: Cholesky, a solve and the log-det."""
    from .elementwise import log
    from .linalg import cholesky, solve_triangular
    from .reduce import sum
    from .shape import diagonal, reshape

    n = K.shape[-1]
    L = cholesky(K)
    a = solve_triangular(L, reshape(y, (n, 1)), upper=False)
    return (-0.5 * sum(a * a) - sum(log(diagonal(L)))
            - 0.5 * n * math.log(2 * math.pi))


def _lml_vjp(n, g):
    if _state.grad:  # create_graph: differentiate the definition
        from .fused import _recompute_vjp

        return _recompute_vjp(gaussian_lml_composite, n, (g[0],), 1)
    _, L, alpha = n.out
    gK, gy = apply(lml_bwd_p, g[0], L, alpha)
    return (gK if n.needs[0] else None, gy if n.needs[1] else None)


def _lml_jvp(c, t):
    """``0.5 <alpha alpha^T - K^-1, dK> - <alpha, dy>``, built from the inputs
    in differentiable ops (forward mode is rare here; exactness first)."""
    from .creation import eye
    from .elementwise import _tadd
    from .linalg import cholesky, outer, solve_triangular
    from .reduce import sum
    from .shape import mT, reshape

    K, y = c.inputs
    n = K.shape[-1]
    L = cholesky(K)
    Linv = solve_triangular(L, eye(n, dtype=K.dtype), upper=False)
    Kinv = mT(Linv) @ Linv
    alpha = reshape(Kinv @ reshape(y, (n, 1)), (n,))
    out = None
    if t[0] is not None:
        out = 0.5 * sum((outer(alpha, alpha) - Kinv) * t[0])
    if t[1] is not None:
        out = _tadd(out, -sum(alpha * t[1]))
    return out, None, None


def _lml_aval(K, y):
    n = K[0][-1]
    return (((), K[1]), ((n, n), K[1]), ((n,), K[1]))


gaussian_lml_p = primitive(
    "gaussian_lml", _lml_fwd, vjp=_lml_vjp, jvp=_lml_jvp, save_out=True, n_out=3,
    residuals=2, kind="fused", abstract=_lml_aval, params=())


def gaussian_log_marginal_likelihood(K, y):
    """``log N(y; 0, K)`` (0-d) for symmetric positive definite ``K`` (n, n)
    and ``y`` (n,) of the same floating dtype; only K's lower triangle is
    read.  Raises :class:`~chainrule.LinAlgError` when K is not positive
    definite."""
    K, y = t_(K), t_(y)
    op = "gaussian_log_marginal_likelihood"
    if K.ndim != 2 or K.shape[0] != K.shape[1] or y.shape != (K.shape[0],):
        raise ShapeError(f"{op}: expected K (n, n) and y (n,), got K "
                         f"{fmt_shape(K.shape)} and y {fmt_shape(y.shape)}")
    if K._data.dtype != y._data.dtype or K._data.dtype.kind != "f":
        raise DTypeError(f"{op}: K and y must have the same floating dtype, got "
                         f"{K.dtype.name} and {y.dtype.name}")
    return apply(gaussian_lml_p, K, y)[0]


# -- stationary kernels from squared distances ----------------------------------------
# K = variance * f(r2), r2 = d2 / lengthscale^2, hyper-parameters as logs.  ``kind``:
# "rbf" f = exp(-r2 / 2); "matern12", "matern32", "matern52": the Matern kernels with
# nu = 1/2, 3/2, 5/2, f = p(s) exp(-s), s = sqrt(2 nu r2).
_MATERN = {"matern12": 1.0, "matern32": 3.0, "matern52": 5.0}  # kind -> 2 nu
_KINDS = ("rbf",) + tuple(_MATERN)
_TINY = 1e-300  # keeps d sqrt(r2) / d r2 finite at r2 = 0, as the composite does


def _stationary_fwd(d2, log_ls, log_var, kind):
    r2 = d2 * np.exp(-2 * log_ls)
    if kind == "rbf":
        r2 *= -0.5
        r2 += log_var
        return np.exp(r2, out=r2)
    r2 += _TINY
    s = np.sqrt(r2, out=r2)
    s *= np.sqrt(_MATERN[kind])
    e = np.exp(-s)
    e *= np.exp(log_var)
    if kind == "matern12":
        return e
    p = 1 + s if kind == "matern32" else 1 + s + s * s / 3
    return np.multiply(p, e, out=p)


def _stationary_bwd_fwd(g, d2, K, log_ls, log_var, kind, need_d2):
    """Gradients of ``sum(g * K)`` w.r.t. d2 (or an empty array), log_ls and
    log_var (shaped like them).  With ``q = dK/dr2``: ``g_var = <g, K>``,
    ``g_ls = -2 <g, q r2>``, ``g_d2 = g q / lengthscale^2``."""
    inv_l2 = np.exp(-2 * log_ls)
    gK = np.vdot(g.ravel(), K.ravel())
    g_var = np.full(log_var.shape, gK, g.dtype)
    if kind == "rbf":  # q = -K / 2
        gq = g * K
        gq *= -0.5
    else:
        c = _MATERN[kind]
        s = np.sqrt(d2 * inv_l2 + _TINY) * np.sqrt(c)
        e = np.exp(-s)
        e *= np.exp(log_var)
        if kind == "matern12":  # q = -var e^-s / (2 r)
            e /= s
            e *= -0.5
        elif kind == "matern32":  # q = -(3/2) var e^-s
            e *= -1.5
        else:  # q = -(5/6) var (1 + s) e^-s
            e *= 1 + s
            e *= -5 / 6
        gq = np.multiply(g, e, out=e)
    g_ls = np.full(log_ls.shape, -2 * np.vdot(gq.ravel(), d2.ravel()) * inv_l2.item(),
                   g.dtype)
    if need_d2:
        gq *= inv_l2
        g_d2 = gq
    else:
        g_d2 = np.empty((0,), g.dtype)
    return g_d2, g_ls, g_var


def _stationary_bwd_aval(g, d2, K, ls, var, kind, need_d2):
    return ((d2[0] if need_d2 else (0,), d2[1]), ls, var)


stationary_bwd_p = primitive(
    "stationary_kernel_backward", _stationary_bwd_fwd, n_out=3, kind="fused",
    abstract=_stationary_bwd_aval, quiet=True,
    params=("kind", "need_d2"))


def stationary_kernel_composite(d2, log_ls, log_var, kind):
    """The definition in ordinary ops (the fused primitive must equal it)."""
    from .elementwise import exp, sqrt

    r2 = d2 * exp(-2 * log_ls)
    if kind == "rbf":
        return exp(log_var - 0.5 * r2)
    s = sqrt(r2 + _TINY) * float(np.sqrt(_MATERN[kind]))
    var = exp(log_var)
    if kind == "matern12":
        return var * exp(-s)
    p = 1 + s if kind == "matern32" else 1 + s + s * s / 3
    return var * p * exp(-s)


def _stationary_vjp(n, g):
    if _state.grad:  # create_graph: differentiate the definition
        from .fused import _recompute_vjp

        return _recompute_vjp(stationary_kernel_composite, n, (g,), 1)
    d2, log_ls, log_var = n.inputs
    g_d2, g_ls, g_var = apply(stationary_bwd_p, g, d2, n.out, log_ls, log_var,
                              kind=n.params["kind"], need_d2=bool(n.needs[0]))
    return (g_d2 if n.needs[0] else None, g_ls if n.needs[1] else None,
            g_var if n.needs[2] else None)


stationary_kernel_p = primitive(
    "stationary_kernel", _stationary_fwd, vjp=_stationary_vjp,
    jvp=lambda c, t: _composite_jvp(stationary_kernel_composite, c, t),
    save_out=True, quiet=True, kind="fused",
    abstract=lambda d2, ls, var, kind: ((d2[0], d2[1]),), params=("kind",))


def stationary_kernel(d2, log_lengthscale, log_variance, kind="rbf"):
    """``variance * f(d2 / lengthscale^2)`` elementwise on squared distances
    ``d2`` (n, m), with ``log_lengthscale`` and ``log_variance`` one-element
    tensors; ``kind`` one of 'rbf', 'matern12', 'matern32', 'matern52'."""
    d2, log_ls, log_var = t_(d2), t_(log_lengthscale), t_(log_variance)
    op = "stationary_kernel"
    if kind not in _KINDS:
        raise ValueError(f"{op}: kind must be one of {_KINDS}, got {kind!r}")
    if log_ls.numel() != 1 or log_var.numel() != 1 or d2.ndim != 2:
        raise ShapeError(f"{op}: expected d2 (n, m) and one-element log "
                         f"hyper-parameters, got {fmt_shape(d2.shape)}, "
                         f"{fmt_shape(log_ls.shape)} and {fmt_shape(log_var.shape)}")
    dts = {x._data.dtype for x in (d2, log_ls, log_var)}
    if len(dts) != 1 or d2._data.dtype.kind != "f":
        raise DTypeError(f"{op}: d2 and the hyper-parameters must share one floating "
                         f"dtype, got {d2.dtype.name}, {log_ls.dtype.name} and "
                         f"{log_var.dtype.name}")
    return apply(stationary_kernel_p, d2, log_ls, log_var, kind=kind)


# -- adding to a diagonal -------------------------------------------------------------
def _add_diag_fwd(K, v):
    out = K.copy()
    idx = np.arange(K.shape[0])
    out[idx, idx] += v
    return out


def _add_diag_vjp(n, g):
    from .reduce import sum_to
    from .shape import diagonal

    v = n.inputs[1]
    return (g if n.needs[0] else None,
            sum_to(diagonal(g), v.shape) if n.needs[1] else None)


def _add_diag_jvp(c, t):
    tK, tv = t
    if tv is None:
        return tK
    if tK is None:
        tK = Tensor._make(np.zeros(c.inputs[0].shape, c.inputs[0]._data.dtype))
    return apply(add_diag_p, tK, tv)


add_diag_p = primitive(
    "add_to_diagonal", _add_diag_fwd, vjp=_add_diag_vjp, jvp=_add_diag_jvp,
    saves=(1,), kind="fused", abstract=lambda K, v: ((K[0], K[1]),),
    params=())


def add_to_diagonal(K, v):
    """``K + diag(v)`` for square ``K`` (n, n) and ``v`` of shape (), (1,) or
    (n,): the covariance plus noise, without an (n, n) identity matrix."""
    K, v = t_(K), t_(v)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or v.ndim > 1 or (
            v.ndim == 1 and v.shape[0] not in (1, K.shape[0])):
        raise ShapeError(f"add_to_diagonal: expected K (n, n) and v of shape (), "
                         f"(1,) or (n,), got {fmt_shape(K.shape)} and "
                         f"{fmt_shape(v.shape)}")
    if K._data.dtype != v._data.dtype:
        raise DTypeError(f"add_to_diagonal: K and v must share a dtype, got "
                         f"{K.dtype.name} and {v.dtype.name}")
    return apply(add_diag_p, K, v)
