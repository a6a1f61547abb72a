"""Special functions and the random draws that need them.

``lgamma``, ``digamma``, ``polygamma`` and ``erfinv`` are the functions the
probability distributions are written in; ``standard_gamma`` and ``poisson``
draw samples.  Forwards use SciPy when it is installed and a NumPy fallback
otherwise (SciPy stays optional); derivatives are chainrule ops, so they can be
differentiated again (``lgamma -> digamma -> polygamma(1) -> polygamma(2)``).

``standard_gamma`` is differentiable in its concentration by *implicit
reparameterisation*: a sample ``z = F^{-1}(u; a)`` moves with ``a`` as
``dz/da = -(dF/da)(z; a) / p(z; a)``, where ``F`` is the regularised lower
incomplete gamma function; ``standard_gamma_grad`` evaluates that ratio.
"""
import math

import numpy as np

from ..errors import ArgumentError
from ..random import rng
from ._core import apply, primitive
from ._util import floating, int_arg, t_
from .elementwise import exp, mul

_SQRT_PI_2 = math.sqrt(math.pi) / 2.0


def _scipy(name):
    """``scipy.special.<name>``, or None when SciPy is not installed."""
    try:
        import scipy.special as sp
    except ImportError:
        return None
    return getattr(sp, name)


def _f64(fn):
    """Run ``fn`` in float64 and give the result the input's dtype."""
    def fwd(x, **kw):
        return np.asarray(fn(x.astype(np.float64), **kw)).astype(x.dtype, copy=False)

    return fwd


# -- NumPy fallbacks (exercised by the tests against SciPy) --------------------------
_lgamma_vec = np.vectorize(math.lgamma, otypes=[np.float64])


def _lgamma_np(x):
    out = np.full(x.shape, np.inf)
    poles = (x <= 0) & (x == np.floor(x))
    out[~poles] = _lgamma_vec(x[~poles]) if (~poles).any() else 0.0
    return out


# Bernoulli numbers B_2..B_12 of the asymptotic (Stirling) series.
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730)


def _polygamma_np(n, x):
    """psi^(n)(x): shift x up past 20 by recurrence, then the asymptotic series."""
    x = np.array(x, np.float64)
    out = np.zeros_like(x)
    poles = (x <= 0) & (x == np.floor(x))
    if n == 0:  # reflection for negative arguments
        neg = (x < 0) & ~poles
        refl = np.where(neg, -np.pi / np.tan(np.pi * np.where(neg, x, 0.5)), 0.0)
        x = np.where(neg, 1.0 - x, x)
    xs = np.where(poles, 1.0, x)
    while True:
        small = xs < 20
        if not small.any():
            break
        if n == 0:
            out -= np.where(small, 1.0 / xs, 0.0)
        else:
            out += np.where(small, (-1) ** (n + 1) * math.factorial(n)
                            / xs ** (n + 1), 0.0)
        xs = np.where(small, xs + 1.0, xs)
    if n == 0:
        asym = np.log(xs) - 0.5 / xs
        for k, b in enumerate(_B2K, 1):
            asym -= b / (2 * k * xs ** (2 * k))
        out += asym
        out = np.where(neg, out + refl, out)
        return np.where(poles, np.nan, out)
    asym = math.factorial(n - 1) / xs ** n + math.factorial(n) / (2 * xs ** (n + 1))
    for k, b in enumerate(_B2K, 1):
        asym += (b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
                 / xs ** (2 * k + n))
    out += (-1) ** (n + 1) * asym
    return np.where(poles, np.inf if n % 2 else np.nan, out)


_erf_vec = np.vectorize(math.erf, otypes=[np.float64])


def _erfinv_np(y):
    """Inverse error function: a rational first guess, then Newton steps."""
    y = np.asarray(y, np.float64)
    inside = np.abs(y) < 1
    w = np.where(inside, y, 0.0)
    a = 0.147  # Winitzki's approximation, good to about 2e-3
    ln = np.log1p(-w * w)
    t = 2 / (np.pi * a) + ln / 2
    x = np.sign(w) * np.sqrt(np.sqrt(t * t - ln / a) - t)
    for _ in range(4):
        x = x - (_erf_vec(x) - w) / (np.exp(-x * x) / _SQRT_PI_2)
    out = np.where(inside, x, np.where(np.abs(y) == 1, np.sign(y) * np.inf, np.nan))
    return out


def _lgamma_fwd(x):
    f = _scipy("gammaln")
    return f(x) if f is not None else _lgamma_np(x)


def _digamma_fwd(x):
    f = _scipy("digamma")
    return f(x) if f is not None else _polygamma_np(0, x)


def _polygamma_fwd(x, n):
    f = _scipy("polygamma")
    return f(n, x) if f is not None else _polygamma_np(n, x)


def _erfinv_fwd(x):
    f = _scipy("erfinv")
    return f(x) if f is not None else _erfinv_np(x)


# -- the primitives ------------------------------------------------------------------
lgamma_p = primitive(
    "lgamma", _f64(_lgamma_fwd),
    vjp=lambda n, g: (g * digamma(n.inputs[0]),),
    jvp=lambda c, t: t[0] * digamma(c.inputs[0]),
    quiet=True, kind="unary",
)
digamma_p = primitive(
    "digamma", _f64(_digamma_fwd),
    vjp=lambda n, g: (g * polygamma(1, n.inputs[0]),),
    jvp=lambda c, t: t[0] * polygamma(1, c.inputs[0]),
    quiet=True, kind="unary",
)
polygamma_p = primitive(
    "polygamma", _f64(_polygamma_fwd),
    vjp=lambda n, g: (g * apply(polygamma_p, n.inputs[0], n=n.params["n"] + 1),),
    jvp=lambda c, t: t[0] * apply(polygamma_p, c.inputs[0], n=c.params["n"] + 1),
    quiet=True, kind="unary", params=("n",),
)


def _erfinv_d(out):
    # d/dy erfinv(y) = sqrt(pi)/2 * exp(erfinv(y)^2)
    return exp(out * out) * _SQRT_PI_2


erfinv_p = primitive(
    "erfinv", _f64(_erfinv_fwd),
    vjp=lambda n, g: (g * _erfinv_d(n.out),),
    jvp=lambda c, t: t[0] * _erfinv_d(c.out),
    saves=(), save_out=True, quiet=True, kind="unary",
)


def lgamma(input):
    """``log|Gamma(x)|`` elementwise (``+inf`` at the poles 0, -1, -2, ...)."""
    return apply(lgamma_p, floating(input))


def digamma(input):
    """``psi(x) = d/dx log Gamma(x)`` elementwise."""
    return apply(digamma_p, floating(input))


def polygamma(n, input):
    """The ``n``-th derivative of the digamma function (``n >= 0``)."""
    n = int_arg(n, "n", "polygamma")
    if n < 0:
        raise ArgumentError(f"polygamma: polygamma(n, x) does not support negative "
                            f"n, got n={n}")
    x = floating(input)
    return apply(digamma_p, x) if n == 0 else apply(polygamma_p, x, n=n)


def erfinv(input):
    """Inverse of ``erf`` on (-1, 1) elementwise (+-inf at +-1, NaN outside)."""
    return apply(erfinv_p, floating(input))


# -- the regularised lower incomplete gamma function ----------------------------------
def _igamma_np(a, x):
    """P(a, x) by its series for x < a + 1 and by the continued fraction of
    Q = 1 - P (modified Lentz) otherwise; NaN where a <= 0 or x < 0."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (x >= 0)
    lg = _lgamma_np(np.where(ok, a, 1.0))
    logpre = np.where(ok & (x > 0), a * np.log(np.where(x > 0, x, 1.0)) - x - lg,
                      -np.inf)
    ser = ok & (x < a + 1)
    if ser.any():
        aa, xx = a[ser], x[ser]
        term = 1.0 / aa
        total = term.copy()
        k = aa.copy()
        for _ in range(2000):
            k = k + 1
            term = term * xx / k
            total += term
            if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
                break
        out[ser] = total * np.exp(logpre[ser])
    cf = ok & ~ser
    if cf.any():
        aa, xx = a[cf], x[cf]
        tiny = 1e-300
        b = xx + 1 - aa
        c = np.full(b.shape, 1 / tiny)
        d = 1 / b
        h = d.copy()
        for i in range(1, 2000):
            an = -i * (i - aa)
            b = b + 2
            d = an * d + b
            d = np.where(np.abs(d) < tiny, tiny, d)
            c = b + an / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            d = 1 / d
            delta = d * c
            h = h * delta
            if np.all(np.abs(delta - 1) <= 1e-16):
                break
        out[cf] = 1 - np.exp(logpre[cf]) * h
    return out


def _igamma_fwd(a, x):
    f = _scipy("gammainc")
    res = f(a, x) if f is not None else _igamma_np(a, x)
    return np.asarray(res).astype(np.result_type(a, x), copy=False)


def _igamma_dx(a, x):
    """d P(a, x) / dx: the Gamma(a, 1) density at x."""
    from .elementwise import xlogy

    return exp(xlogy(a - 1, x) - x - lgamma(a))


def _igamma_no_da(op):
    from ..errors import AutogradError

    raise AutogradError(f"{op}: the derivative with respect to the first argument "
                        "(the shape a) is not implemented, as in PyTorch; detach it "
                        "or differentiate with respect to x only")


def _igamma_vjp(n, g):
    if n.needs[0]:
        _igamma_no_da("igamma")
    return None, mul(g, _igamma_dx(*n.inputs))


def _igamma_jvp(c, t):
    if t[0] is not None:
        _igamma_no_da("igamma (forward mode)")
    return mul(t[1], _igamma_dx(*c.inputs))


igamma_p = primitive("igamma", _igamma_fwd, vjp=_igamma_vjp, jvp=_igamma_jvp,
                     quiet=True, kind="binary")


def igamma(input, other):
    """The regularised lower incomplete gamma function ``P(a, x)`` with
    ``a = input > 0`` and ``x = other >= 0`` (PyTorch's ``igamma``,
    ``special.gammainc``); differentiable in ``x`` only, as in PyTorch."""
    from ._util import pair

    a, x = pair(input, other)
    return apply(igamma_p, floating(a), floating(x))


# -- gamma and Poisson draws ---------------------------------------------------------
def _gamma_grad_np(a, x):
    """``dz/da`` of a standard gamma sample ``z`` at concentration ``a``.

    ``dF/da`` comes from the series ``P(a, x) = sum_n exp((a+n) log x - x -
    lgamma(a+n+1))``, differentiated term by term (each term gains the factor
    ``log x - psi(a+n+1)``); lgamma and psi advance by their recurrences.
    """
    a = np.asarray(a, np.float64)
    x = np.maximum(np.asarray(x, np.float64), np.finfo(np.float64).tiny)
    logx = np.log(x)
    lg = _lgamma_fwd(a + 1.0)
    psi = _digamma_fwd(a + 1.0)
    dF, P = np.zeros_like(x), np.zeros_like(x)
    top = float(np.max(x, initial=0.0))
    n_terms = int(min(top + 12 * math.sqrt(top) + 40, 20000))
    k = a + 1.0  # k = a + n + 1 for term n
    for _ in range(n_terms):
        term = np.exp((k - 1.0) * logx - x - lg)
        P += term
        dF += term * (logx - psi)
        lg = lg + np.log(k)
        psi = psi + 1.0 / k
        k = k + 1.0
        if np.all(k > x) and np.all(term <= 1e-17 * P):
            break
    log_pdf = (a - 1.0) * logx - x - _lgamma_fwd(a)
    return -dF / np.exp(log_pdf)


def _draw_aval(rate, **params):
    """One draw per element of the parameter tensor, in its dtype."""
    return (rate,)


def _gamma_grad_fwd(alpha, sample):
    return _gamma_grad_np(alpha, sample).astype(sample.dtype, copy=False)


standard_gamma_grad_p = primitive("standard_gamma_grad", _gamma_grad_fwd, quiet=True,
                                  kind="binary")


def _standard_gamma_fwd(alpha, gen):
    z = gen.standard_gamma(alpha.astype(np.float64))
    # a tiny concentration can round a draw to 0; keep it a valid gamma value
    return np.maximum(z, np.finfo(alpha.dtype).tiny).astype(alpha.dtype)


def _gamma_d(alpha, out):
    return apply(standard_gamma_grad_p, alpha, out)


standard_gamma_p = primitive(
    "standard_gamma", _standard_gamma_fwd,
    vjp=lambda n, g: (mul(g, _gamma_d(n.inputs[0], n.out)),),
    jvp=lambda c, t: mul(t[0], _gamma_d(c.inputs[0], c.out)),
    save_out=True, quiet=True, kind="other", abstract=_draw_aval, params=("gen",),
)


def standard_gamma(concentration, *, generator=None):
    """Gamma(concentration, rate=1) samples, one per element; differentiable in
    ``concentration`` by implicit reparameterisation."""
    a = floating(concentration)
    return apply(standard_gamma_p, a, gen=rng(generator))


def standard_gamma_grad(concentration, sample):
    """``d sample / d concentration`` of standard gamma draws (not differentiable)."""
    return apply(standard_gamma_grad_p, floating(concentration), floating(sample))


_poisson_p = primitive(
    "poisson",
    lambda rate, gen: gen.poisson(rate.astype(np.float64)).astype(rate.dtype),
    kind="other", abstract=_draw_aval, params=("gen",))


def poisson(input, generator=None):
    """Poisson counts with rates ``input`` (as floats of ``input``'s dtype)."""
    x = t_(input)
    if x._data.dtype.kind != "f":
        from ..errors import DTypeError

        raise DTypeError(f"poisson: rates must be floating point, got {x.dtype.name}")
    return apply(_poisson_p, x, gen=rng(generator))


from ._util import public_names as _public  # noqa: E402

__all__ = _public(globals())
