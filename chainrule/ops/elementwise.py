"""Elementwise primitives: arithmetic, math functions, comparisons, logic.

Each primitive sits with its vjp and jvp.  Unary functions whose derivative
is ``g * f'(x)`` are declared through :func:`_unary`, which derives both
rules from one expression for ``f'``.  ``None`` tangents mean zero.
"""
import math

import numpy as np

from .._dtype import get_default_dtype
from ..errors import ArgumentError, DTypeError
from ..tensor import Tensor
from ._core import apply, primitive
from ._core import _where_aval
from ._util import calling_op, floating, lift, pair, t_

# -- helpers for rules: None stands for a zero tangent -------------------------


def _tadd(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return add(a, b)


def _tneg(a):
    return None if a is None else neg(a)


def _tmul(a, b):
    return None if a is None else mul(a, b)


def zeros_like_g(x):
    return Tensor._make(np.zeros(x.shape, x._data.dtype))


def _zero_vjp(n, g):
    return tuple(
        None if not need else Tensor._make(np.zeros(shape, dtype))
        for need, (shape, dtype) in zip(n.needs, n.metas)
    )


def _zero_jvp(c, t):
    o = c.out
    return Tensor._make(np.zeros(o.shape, o._data.dtype))


# -- arithmetic ----------------------------------------------------------------
add_p = primitive(
    "add", np.add,
    vjp=lambda n, g: (g, g),
    jvp=lambda c, t: _tadd(t[0], t[1]),
    saves=(), quiet=True,  # inf - inf is NaN without a NumPy warning, as in PyTorch
    kind="binary",
)
sub_p = primitive(
    "sub", np.subtract,
    vjp=lambda n, g: (g, neg(g) if n.needs[1] else None),
    jvp=lambda c, t: _tadd(t[0], _tneg(t[1])),
    saves=(), quiet=True, kind="binary",
)
mul_p = primitive(
    "mul", np.multiply,
    vjp=lambda n, g: (g * n.inputs[1] if n.needs[0] else None,
                      g * n.inputs[0] if n.needs[1] else None),
    jvp=lambda c, t: _tadd(_tmul(t[0], c.inputs[1]), _tmul(t[1], c.inputs[0])),
    quiet=True, kind="binary",  # 0 * inf is NaN without a NumPy warning
)


def _div_fwd(x, y):
    out = np.true_divide(x, y)
    return out if out.dtype == x.dtype else out.astype(x.dtype)


div_p = primitive(
    "div", _div_fwd,
    vjp=lambda n, g: (g / n.inputs[1] if n.needs[0] else None,
                      neg(g) * n.inputs[0] / (n.inputs[1] * n.inputs[1])
                      if n.needs[1] else None),
    jvp=lambda c, t: _tadd(
        None if t[0] is None else t[0] / c.inputs[1],
        None if t[1] is None else neg(t[1]) * c.out / c.inputs[1]),
    quiet=True, kind="binary",
)
neg_p = primitive(
    "neg", np.negative,
    vjp=lambda n, g: (neg(g),),
    jvp=lambda c, t: neg(t[0]),
    saves=(), kind="unary",
)


def _pow_fwd(x, y):
    return np.power(x, y)


def _pow_dx(x, y):
    return where(y == 0, 0.0, y * pow(x, y - 1))


def _pow_dy(x, out):
    return where((x == 0) & (out == out), 0.0, out * log(x))


pow_p = primitive(
    "pow", _pow_fwd,
    vjp=lambda n, g: (g * _pow_dx(n.inputs[0], n.inputs[1]) if n.needs[0] else None,
                      g * _pow_dy(n.inputs[0], n.out) if n.needs[1] else None),
    jvp=lambda c, t: _tadd(_tmul(t[0], _pow_dx(c.inputs[0], c.inputs[1])),
                           _tmul(t[1], _pow_dy(c.inputs[0], c.out))),
    save_out=True, quiet=True,
    kind="binary",
)


def _pow_scalar_d(x, e):
    if e == 0:
        return zeros_like_g(x)
    if e == 1:
        return Tensor._make(np.ones(x.shape, x._data.dtype))
    if e == 2:
        return x * 2.0
    return pow_scalar(x, e - 1) * e


pow_scalar_p = primitive(
    "pow_scalar", lambda x, exponent: np.power(x, x.dtype.type(exponent)),
    vjp=lambda n, g: (g * _pow_scalar_d(n.inputs[0], n.params["exponent"]),),
    jvp=lambda c, t: t[0] * _pow_scalar_d(c.inputs[0], c.params["exponent"]),
    quiet=True,
    kind="unary", params=("exponent",),
)


def _int_division(fn):
    """``fn`` raising on an integer zero divisor, as PyTorch does (NumPy
    would warn and return 0)."""
    def fwd(x, y):
        if x.dtype.kind in "iub" and np.any(y == 0):
            raise ArgumentError(f"{calling_op(fn.__name__)}: integer division by "
                                "zero")
        return fn(x, y)

    return fwd


_floor_div_fwd = _int_division(np.floor_divide)


def _no_bool(op, *operands, hint=""):
    """PyTorch rejects bool operands for some arithmetic (``-``, abs, floor...)."""
    for x in operands:
        if isinstance(x, (bool, np.bool_)) or (isinstance(x, Tensor)
                                               and x._data.dtype == np.bool_):
            raise DTypeError(f"{calling_op(op)}: bool tensors are not supported"
                             f"{hint}; convert with .int() or .float() first")


floor_divide_p = primitive("floor_divide", _floor_div_fwd, _zero_vjp, _zero_jvp,
                           saves=(), quiet=True, kind="binary")

remainder_p = primitive(
    "remainder", _int_division(np.remainder),
    vjp=lambda n, g: (g if n.needs[0] else None,
                      neg(g) * floor_divide(n.inputs[0], n.inputs[1])
                      if n.needs[1] else None),
    jvp=lambda c, t: _tadd(t[0], _tneg(_tmul(t[1], floor_divide(c.inputs[0],
                                                                c.inputs[1])))),
    quiet=True,
    kind="binary",
)
fmod_p = primitive(
    "fmod", _int_division(np.fmod),
    vjp=lambda n, g: (g if n.needs[0] else None,
                      neg(g) * trunc(n.inputs[0] / n.inputs[1])
                      if n.needs[1] else None),
    jvp=lambda c, t: _tadd(t[0], _tneg(_tmul(t[1], trunc(c.inputs[0] / c.inputs[1])))),
    quiet=True,
    kind="binary",
)


def _scaled(b, alpha, op):
    """``alpha * b`` in ``b``'s (already promoted) dtype; PyTorch's rules for
    ``alpha``: a number, not a float for integers, a bool only for bools."""
    if not isinstance(alpha, (int, float, np.number)):
        raise DTypeError(f"{calling_op(op)}: alpha must be a number, got "
                         f"{type(alpha).__name__}")
    kind = b._data.dtype.kind
    if isinstance(alpha, (bool, np.bool_)) and kind != "b":
        raise ArgumentError(f"{calling_op(op)}: a bool alpha is only supported for "
                            f"bool results, got {b._data.dtype}")
    if kind in "iub" and isinstance(alpha, (float, np.floating)):
        raise ArgumentError(f"{calling_op(op)}: for integer or bool tensors alpha "
                            f"must not be a float, got {alpha}")
    return lift(mul(b, alpha), b._data.dtype)


def add(input, other, *, alpha=1):
    """``input + alpha * other`` with broadcasting and type promotion."""
    a, b = pair(input, other)
    if alpha.__class__ is not int or alpha != 1:
        b = _scaled(b, alpha, "add")
    return apply(add_p, a, b)


def sub(input, other, *, alpha=1):
    """``input - alpha * other``."""
    _no_bool("sub", input, other, hint=" by subtraction (to invert a mask use ~ "
             "or logical_not)")
    a, b = pair(input, other)
    if alpha.__class__ is not int or alpha != 1:
        b = _scaled(b, alpha, "sub")
    return apply(sub_p, a, b)


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def mul(input, other):
    """Elementwise product with broadcasting."""
    return apply(mul_p, *pair(input, other))


multiply = mul


def div(input, other, *, rounding_mode=None):
    """True division (integers give floats); ``rounding_mode`` 'trunc'/'floor'."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    a, b = pair(input, other)
    if rounding_mode == "trunc":
        if a._data.dtype.kind in "iub":  # exactly, in integers (not via floats)
            _no_bool("div", a)
            q = floor_divide(a, b)
            return where((q < 0) & (q * b != a), q + 1, q)
        return trunc(div(a, b))
    if rounding_mode is not None:
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', "
                            f"got {rounding_mode!r}")
    if a._data.dtype.kind != "f":
        fd = get_default_dtype().np
        a, b = lift(a, fd), lift(b, fd)
    return apply(div_p, a, b)


divide = true_divide = div


def floor_divide(input, other):
    """Division rounded towards minus infinity (Python's ``//``)."""
    a, b = pair(input, other)
    _no_bool("floor_divide", a)
    return apply(floor_divide_p, a, b)


def remainder(input, other):
    """Python's ``%``: the result has the sign of the divisor."""
    a, b = pair(input, other)
    _no_bool("remainder", a)
    return apply(remainder_p, a, b)


def fmod(input, other):
    """C's fmod: the result has the sign of the dividend."""
    a, b = pair(input, other)
    _no_bool("fmod", a)
    return apply(fmod_p, a, b)


def neg(input):
    """``-input``."""
    return apply(neg_p, t_(input))


negative = neg


def pow(input, exponent):
    """``input ** exponent``; a Python-number exponent takes a cheaper path."""
    if isinstance(input, Tensor) and isinstance(exponent, (int, float)) and \
            not isinstance(exponent, bool):
        if input._data.dtype.kind == "f" or (
                isinstance(exponent, int) and exponent >= 0):
            if input._data.dtype == np.bool_:
                input = lift(input, np.int64)  # bool ** int is int64 (PyTorch)
            return apply(pow_scalar_p, input, exponent=exponent)
    a, b = pair(input, exponent)
    if a._data.dtype.kind in "iub" and np.any(b._data < 0):
        from ..errors import ArgumentError

        raise ArgumentError(f"{calling_op('pow')}: integers to negative integer "
                            "powers are not allowed; convert the base to float first")
    if a._data.dtype == np.bool_:
        if isinstance(exponent, Tensor) or not isinstance(input, Tensor):
            _no_bool("pow", a, hint=" as both base and exponent")
        # tensor ** True/False stays bool; NumPy's bool ** bool would be int8
        return lift(apply(pow_p, lift(a, np.int64), lift(b, np.int64)), np.bool_)
    return apply(pow_p, a, b)


def pow_scalar(x, exponent):
    return apply(pow_scalar_p, x, exponent=exponent)


def float_power(input, exponent):
    """``input ** exponent`` computed in float64 (a tensor exponent is cast too)."""
    if isinstance(exponent, Tensor):
        exponent = lift(exponent, np.float64)
    return pow(lift(t_(input), np.float64), exponent)


def square(input):
    """``input * input`` (``input ** 2``: bool becomes int64)."""
    x = t_(input)
    if x._data.dtype == np.bool_:
        x = lift(x, np.int64)
    return mul(x, x)


# -- unary math: f'(x) given once, vjp and jvp derived ----------------------------


def _unary(name, fwd, deriv, *, uses="x", quiet=True, ints_ok=False):
    """Register unary primitive ``name`` with derivative ``deriv(x, out)``.

    ``uses`` says what ``deriv`` reads ('x', 'out' or 'both'), so only that
    is saved for backward.
    """
    saves = () if uses == "out" else None
    p = primitive(
        name, fwd,
        vjp=lambda n, g: (g * deriv(n.inputs[0], n.out if uses != "x" else None),),
        jvp=lambda c, t: t[0] * deriv(c.inputs[0], c.out),
        saves=saves, save_out=uses != "x", quiet=quiet, kind="unary",
    )

    def op(input):
        if ints_ok:
            x = t_(input)
            _no_bool(name, x)
        else:
            x = floating(input)
        return apply(p, x)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; integer inputs give floats."
    return p, op


_LN2, _LN10 = math.log(2.0), math.log(10.0)
exp_p, exp = _unary("exp", np.exp, lambda x, o: o, uses="out")
expm1_p, expm1 = _unary("expm1", np.expm1, lambda x, o: o + 1.0, uses="out")
exp2_p, exp2 = _unary("exp2", np.exp2, lambda x, o: o * _LN2, uses="out")
log_p, log = _unary("log", np.log, lambda x, o: reciprocal(x))
log2_p, log2 = _unary("log2", np.log2, lambda x, o: reciprocal(x * _LN2))
log10_p, log10 = _unary("log10", np.log10, lambda x, o: reciprocal(x * _LN10))
log1p_p, log1p = _unary("log1p", np.log1p, lambda x, o: reciprocal(x + 1.0))
sin_p, sin = _unary("sin", np.sin, lambda x, o: cos(x))
cos_p, cos = _unary("cos", np.cos, lambda x, o: neg(sin(x)))
tan_p, tan = _unary("tan", np.tan, lambda x, o: o * o + 1.0, uses="out")
asin_p, asin = _unary("asin", np.arcsin, lambda x, o: rsqrt(1.0 - x * x))
acos_p, acos = _unary("acos", np.arccos, lambda x, o: neg(rsqrt(1.0 - x * x)))
atan_p, atan = _unary("atan", np.arctan, lambda x, o: reciprocal(x * x + 1.0))
sinh_p, sinh = _unary("sinh", np.sinh, lambda x, o: cosh(x))
cosh_p, cosh = _unary("cosh", np.cosh, lambda x, o: sinh(x))
tanh_p, tanh = _unary("tanh", np.tanh, lambda x, o: 1.0 - o * o, uses="out")
asinh_p, asinh = _unary("asinh", np.arcsinh, lambda x, o: rsqrt(x * x + 1.0))
acosh_p, acosh = _unary("acosh", np.arccosh, lambda x, o: rsqrt(x * x - 1.0))
atanh_p, atanh = _unary("atanh", np.arctanh, lambda x, o: reciprocal(1.0 - x * x))
sqrt_p, sqrt = _unary("sqrt", np.sqrt, lambda x, o: 0.5 / o, uses="out")
rsqrt_p, rsqrt = _unary("rsqrt", lambda x: 1.0 / np.sqrt(x),
                        lambda x, o: -0.5 * o * o * o, uses="out")
reciprocal_p, reciprocal = _unary("reciprocal", lambda x: 1.0 / x,
                                  lambda x, o: neg(o * o), uses="out")


def _sigmoid_fwd(x):
    # exp of a non-positive number never overflows: split by sign.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


sigmoid_p, sigmoid = _unary("sigmoid", _sigmoid_fwd, lambda x, o: o * (1.0 - o),
                            uses="out")


def _erf_np(x):
    try:
        from scipy.special import erf as _erf
    except ImportError:  # SciPy is optional; math.erf is exact but slower
        _erf = np.vectorize(math.erf, otypes=[np.float64])
    return _erf(x).astype(x.dtype, copy=False)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
erf_p, erf = _unary("erf", _erf_np, lambda x, o: exp(neg(x * x)) * _TWO_OVER_SQRT_PI)


def _abs_d(x, o):
    return sign(x)


abs_p, abs = _unary("abs", np.abs, _abs_d, quiet=False, ints_ok=True)
absolute = abs


def _zero_grad_unary(name, fwd, bools=False):
    p = primitive(name, fwd, _zero_vjp, _zero_jvp, saves=(), kind="unary")

    def op(input):
        x = t_(input)
        if not bools:
            _no_bool(name, x)
        return apply(p, x)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; its gradient is zero everywhere."
    return p, op


sign_p, sign = _zero_grad_unary(
    "sign", lambda x: x.copy() if x.dtype == np.bool_ else np.sign(x), bools=True)
sgn = sign
floor_p, floor = _zero_grad_unary("floor", np.floor)
ceil_p, ceil = _zero_grad_unary("ceil", np.ceil)
trunc_p, trunc = _zero_grad_unary("trunc", np.trunc)
fix = trunc
round_p = primitive("round", lambda x, decimals: np.round(x, decimals), _zero_vjp,
                    _zero_jvp, saves=(), kind="unary", params=("decimals",))


def round(input, *, decimals=0):
    """Round half to even, like PyTorch; ``decimals`` digits after the point."""
    x = t_(input)
    _no_bool("round", x)
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise DTypeError(f"round: decimals must be an int, got {decimals!r}")
    return apply(round_p, x, decimals=int(decimals))


def frac(input):
    """``input - trunc(input)``."""
    x = t_(input)
    _no_bool("frac", x)
    return x - trunc(x).detach()


# -- relu and clamp -----------------------------------------------------------------
relu_p = primitive(
    "relu", lambda x: np.maximum(x, 0),
    vjp=lambda n, g: (g * (n.out > 0),),
    jvp=lambda c, t: t[0] * (c.out > 0),
    saves=(), save_out=True,
    kind="unary",
)


def relu(input):
    """``max(input, 0)``; the gradient at 0 is 0, as in PyTorch."""
    x = t_(input)
    _no_bool("relu", x)
    return apply(relu_p, x)


def _clamp_fwd(x, lo, hi):
    return np.clip(x, lo, hi).astype(x.dtype, copy=False)


def _clamp_mask(x, p):
    lo, hi = p["lo"], p["hi"]
    m = None
    if lo is not None:
        m = x >= lo
    if hi is not None:
        m = (x <= hi) if m is None else logical_and(m, x <= hi)
    return m


clamp_p = primitive(
    "clamp", _clamp_fwd,
    vjp=lambda n, g: (g * _clamp_mask(n.inputs[0], n.params),),
    jvp=lambda c, t: t[0] * _clamp_mask(c.inputs[0], c.params),
    kind="unary", params=("lo", "hi"),  # the bounds are numbers (Tensors: maximum)
)


def clamp(input, min=None, max=None):
    """Limit values to ``[min, max]``; bounds may be numbers or Tensors."""
    x = t_(input)
    if min is None and max is None:
        raise ArgumentError(f"{calling_op('clamp')}: at least one of 'min' or 'max' "
                            "must not be None")
    for b in (min, max):
        if not (b is None or isinstance(b, (Tensor, int, float, np.number))):
            raise DTypeError(f"{calling_op('clamp')}: min and max must be numbers, "
                             f"Tensors or None, got {type(b).__name__}")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .._dtype import result_type

        # One promotion over all three operands (two pairwise steps differ).
        dt = result_type(*(v for v in (x, min, max) if v is not None)).np
        x = lift(x, dt)
        if min is not None:
            x = maximum(x, lift(min, dt))
        if max is not None:
            x = minimum(x, lift(max, dt))
        return x
    if x._data.dtype.kind != "f" and any(isinstance(b, float) for b in (min, max)):
        x = floating(x)
    elif x._data.dtype == np.bool_:  # int bounds make it int64; bool bounds: no
        _no_bool("clamp", min, max)
        x = lift(x, np.int64)
    return apply(clamp_p, x, lo=min, hi=max)


clip = clamp


def clamp_min(input, min):
    if min is None:
        raise DTypeError("clamp_min: min must be a number or a Tensor, got None")
    return clamp(input, min=min)


def clamp_max(input, max):
    if max is None:
        raise DTypeError("clamp_max: max must be a number or a Tensor, got None")
    return clamp(input, max=max)


def _max_share(x, y):
    """Where x wins: 1; ties: 1/2 (PyTorch splits the gradient); where y wins: 0.
    Next to a NaN neither wins, and both get the whole gradient, as in PyTorch."""
    dt = x._data.dtype
    return where(x < y, lift(0.0, dt), where(x == y, lift(0.5, dt), lift(1.0, dt)))


maximum_p = primitive(
    "maximum", np.maximum,
    vjp=lambda n, g: (g * _max_share(n.inputs[0], n.inputs[1]) if n.needs[0] else None,
                      g * _max_share(n.inputs[1], n.inputs[0]) if n.needs[1] else None),
    jvp=lambda c, t: _tadd(_tmul(t[0], _max_share(c.inputs[0], c.inputs[1])),
                           _tmul(t[1], _max_share(c.inputs[1], c.inputs[0]))),
    kind="binary",
)
minimum_p = primitive(
    "minimum", np.minimum,
    vjp=lambda n, g: (g * _max_share(n.inputs[1], n.inputs[0]) if n.needs[0] else None,
                      g * _max_share(n.inputs[0], n.inputs[1]) if n.needs[1] else None),
    jvp=lambda c, t: _tadd(_tmul(t[0], _max_share(c.inputs[1], c.inputs[0])),
                           _tmul(t[1], _max_share(c.inputs[0], c.inputs[1]))),
    kind="binary",
)


def maximum(input, other):
    """Elementwise maximum (NaN propagates); ties split the gradient."""
    return apply(maximum_p, *pair(input, other))


def minimum(input, other):
    """Elementwise minimum (NaN propagates); ties split the gradient."""
    return apply(minimum_p, *pair(input, other))


def fmax(input, other):
    """Elementwise maximum ignoring NaN: NaN only where both are NaN."""
    a, b = pair(input, other)
    return where(isnan(b), a, where(isnan(a), b, maximum(a, b)))


def fmin(input, other):
    """Elementwise minimum ignoring NaN: NaN only where both are NaN."""
    a, b = pair(input, other)
    return where(isnan(b), a, where(isnan(a), b, minimum(a, b)))


atan2_p = primitive(
    "atan2", np.arctan2,
    vjp=lambda n, g: _atan2_vjp(n.inputs[0], n.inputs[1], g, n.needs),
    jvp=lambda c, t: _tadd(*_atan2_jvp(c.inputs[0], c.inputs[1], t)),
    quiet=True,
    kind="binary",
)


def _atan2_vjp(y, x, g, needs):
    den = x * x + y * y
    zero = den == 0  # at the origin the gradient is 0, as in PyTorch (not NaN)
    r = where(zero, 0.0, g / where(zero, 1.0, den))
    return (r * x if needs[0] else None, neg(r) * y if needs[1] else None)


def _atan2_jvp(y, x, t):
    r = reciprocal(x * x + y * y)
    return (_tmul(t[0], r * x), _tmul(t[1], neg(r) * y))


def atan2(input, other):
    """Angle of (other, input): ``atan(input / other)`` in the right quadrant."""
    a, b = pair(input, other)
    if a._data.dtype.kind != "f":
        a, b = floating(a), floating(b)
    return apply(atan2_p, a, b)


arctan2 = atan2

# -- where --------------------------------------------------------------------------
where_p = primitive(
    "where", lambda c, x, y: np.where(c, x, y),
    vjp=lambda n, g: (None,
                      where(n.inputs[0], g, 0.0) if n.needs[1] else None,
                      where(n.inputs[0], 0.0, g) if n.needs[2] else None),
    jvp=lambda c, t: _where_t(c.inputs[0], t[1], t[2]),
    saves=(0,),
    kind="other", abstract=_where_aval, params=(),
)


def _where_t(cond, tx, ty):
    if tx is None and ty is None:
        return None
    return where(cond, 0.0 if tx is None else tx, 0.0 if ty is None else ty)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other`` (broadcast together).

    With only ``condition``, returns ``nonzero(condition, as_tuple=True)``.
    """
    c = t_(condition)
    if input is None and other is None:
        from .index import nonzero

        return nonzero(c, as_tuple=True)
    if c._data.dtype != np.bool_:
        c = apply(ne_p, *pair(c, 0))
    a, b = pair(input, other)
    return apply(where_p, c, a, b)


# -- comparisons and logic: no gradient ---------------------------------------------
def _cmp(name, fwd):
    p = primitive(name, fwd, saves=(), kind="compare")

    def op(input, other):
        return apply(p, *pair(input, other))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` comparison; returns a bool tensor."
    return p, op


eq_p, eq = _cmp("eq", np.equal)
ne_p, ne = _cmp("ne", np.not_equal)
lt_p, lt = _cmp("lt", np.less)
le_p, le = _cmp("le", np.less_equal)
gt_p, gt = _cmp("gt", np.greater)
ge_p, ge = _cmp("ge", np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logic(name, fwd):
    p = primitive(name, fwd, saves=(), kind="compare")

    def op(input, other):
        return apply(p, t_(input), t_(other))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` of the truth values; returns bool."
    return p, op


logical_and_p, logical_and = _logic("logical_and", np.logical_and)
logical_or_p, logical_or = _logic("logical_or", np.logical_or)
logical_xor_p, logical_xor = _logic("logical_xor", np.logical_xor)


def _pred(name, fwd):
    p = primitive(name, fwd, saves=(), kind="predicate")

    def op(input):
        return apply(p, t_(input))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}``; returns a bool tensor."
    return p, op


logical_not_p, logical_not = _pred("logical_not", np.logical_not)
isnan_p, isnan = _pred("isnan", np.isnan)
isinf_p, isinf = _pred("isinf", np.isinf)
isfinite_p, isfinite = _pred("isfinite", np.isfinite)
isposinf_p, isposinf = _pred("isposinf", np.isposinf)
isneginf_p, isneginf = _pred("isneginf", np.isneginf)


def _bitwise(name, fwd):
    p = primitive(name, fwd, saves=(), kind="binary")

    def op(input, other):
        a, b = pair(input, other)
        if a._data.dtype.kind == "f":
            from ..errors import DTypeError

            raise DTypeError(f"{name}: only integer and bool tensors are valid, "
                             f"got {a._data.dtype}")
        return apply(p, a, b)

    op.__name__ = name
    return p, op


bitwise_and_p, bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or_p, bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor_p, bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)
bitwise_not_p = primitive("bitwise_not", np.invert, saves=(), kind="unary")


def bitwise_not(input):
    x = t_(input)
    if x._data.dtype.kind == "f":
        from ..errors import DTypeError

        raise DTypeError(f"bitwise_not: only integer and bool tensors are valid, "
                         f"got {x._data.dtype}")
    return apply(bitwise_not_p, x)


def _close_args(input, other, rtol, atol, op):
    """allclose/isclose's operands, promoted, after checking the tolerances
    are numbers and the shapes broadcast."""
    a, b = pair(input, other)
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not isinstance(v, (int, float, np.number)):
            raise DTypeError(f"{op}: {name} must be a number, got {v!r}")
    if a.shape != b.shape:
        from .shape import broadcast_shapes

        broadcast_shapes(a.shape, b.shape)
    return a, b


isclose_p = primitive(
    "isclose", lambda a, b, rtol, atol, equal_nan: np.isclose(
        a, b, rtol=rtol, atol=atol, equal_nan=equal_nan), kind="compare", quiet=True,
    params=("rtol", "atol", "equal_nan"))
array_equal_p = primitive(
    "array_equal", lambda a, b: np.asarray(np.array_equal(a, b)), kind="reduction",
    abstract=lambda a, b: (((), np.dtype(bool)),), params=())
"""``equal``'s test: one 0-d bool, True when both arrays hold the same
elements (same shape)."""


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when ``|input - other| <= atol + rtol * |other|`` everywhere."""
    a, b = _close_args(input, other, rtol, atol, "allclose")
    close = apply(isclose_p, a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return bool(close.all())  # the answer is a Python bool, as in PyTorch


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = _close_args(input, other, rtol, atol, "isclose")
    return apply(isclose_p, a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def equal(input, other):
    """True when both tensors have the same shape and elements."""
    a, b = t_(input), t_(other)
    return a.shape == b.shape and bool(apply(array_equal_p, a, b))


def lerp(input, end, weight):
    """``input + weight * (end - input)``; tensors must share input's dtype."""
    x = t_(input)
    for name, t in (("end", end), ("weight", weight)):
        if not isinstance(t, (Tensor, int, float, np.number)):
            raise DTypeError(f"lerp: {name} must be a Tensor or a number, got "
                             f"{type(t).__name__}")
        if isinstance(t, Tensor) and t._data.dtype != x._data.dtype:
            raise DTypeError(f"lerp: expected dtype {x.dtype.name} for `{name}` but "
                             f"got {t.dtype.name}")
    return add(x, mul(weight, sub(end, x)))


def _xlogy_fwd(x, y):
    return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y)).astype(x.dtype)


def _xlogy_dx(x, y):
    """log(y), but 0 where x is 0 and log(y) is not finite (PyTorch's choice);
    log(1) stands in there so double backward meets no 0 * inf."""
    cut = logical_and(x == 0, y <= 0)
    return where(cut, 0.0, log(where(cut, 1.0, y)))


xlogy_p = primitive(
    "xlogy", _xlogy_fwd,
    vjp=lambda n, g: (g * _xlogy_dx(*n.inputs) if n.needs[0] else None,
                      g * n.inputs[0] / n.inputs[1] if n.needs[1] else None),
    jvp=lambda c, t: _tadd(_tmul(t[0], _xlogy_dx(*c.inputs)),
                           _tmul(t[1], c.inputs[0] / c.inputs[1])),
    quiet=True,
    kind="binary",
)


def xlogy(input, other):
    """``input * log(other)``, with 0 where ``input`` is 0 (unless other is NaN)."""
    x, y = pair(input, other)
    return apply(xlogy_p, floating(x), floating(y))


from ._util import public_names as _public  # noqa: E402

__all__ = _public(globals())
