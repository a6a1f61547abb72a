"""Op rows: arithmetic, math functions, comparisons and logic."""
import numpy as np

from tests.op_db_base import BINARY, UNARY, Const, Fixed, Op

_NAN, _INF = float("nan"), float("inf")


def _un(name, fn, domain=None, **kw):
    return Op(name, fn, UNARY, domain=domain, gradgrad=True, **kw)


def _bin(name, fn, domain=None, **kw):
    return Op(name, fn, BINARY, domain=domain, gradgrad=True, **kw)


def _with_scalar(name, fn, domain=None, **kw):
    return Op(name, fn, [((2, 3),), ((),)], domain=domain, gradgrad=True, **kw)


ARITHMETIC = [
    _bin("add", lambda m, x, y: m.add(x, y)),
    _bin("add.op", lambda m, x, y: x + y),
    _bin("add.alpha", lambda m, x, y: x.add(y, alpha=2)),
    _with_scalar("add.scalar", lambda m, x: x + 2.5),
    _with_scalar("add.rscalar", lambda m, x: 2 + x),
    _bin("sub", lambda m, x, y: m.sub(x, y, alpha=0.5)),
    _bin("sub.op", lambda m, x, y: x - y),
    _with_scalar("sub.rscalar", lambda m, x: 3.0 - x),
    _bin("mul", lambda m, x, y: m.mul(x, y)),
    _bin("mul.op", lambda m, x, y: x * y),
    _with_scalar("mul.scalar", lambda m, x: x * 3),
    _bin("div", lambda m, x, y: m.div(x, y), domain="nonzero"),
    _bin("div.op", lambda m, x, y: x / y, domain="nonzero"),
    _with_scalar("div.scalar", lambda m, x: x / 4),
    _with_scalar("div.rscalar", lambda m, x: 2.0 / x, domain="nonzero"),
    Op("div.trunc", lambda m, x, y: m.div(x, y, rounding_mode="trunc"), BINARY,
       domain=(-3, 3)),
    Op("div.floor", lambda m, x, y: m.div(x, y, rounding_mode="floor"), BINARY,
       domain=(-3, 3)),
    # torch has no derivative for floor_divide; finite differences still check 0.
    Op("floor_divide.op", lambda m, x, y: x // y, BINARY, domain=(-3, 3), grad=False),
    _bin("remainder.op", lambda m, x, y: x % y, domain=(-3, 3)),
    _bin("remainder", lambda m, x, y: m.remainder(x, y), domain=(-3, 3)),
    _with_scalar("remainder.scalar", lambda m, x: x % 0.7),
    _bin("fmod", lambda m, x, y: m.fmod(x, y), domain=(-3, 3)),
    _bin("pow", lambda m, x, y: m.pow(x, y), domain="pos"),
    _bin("pow.op", lambda m, x, y: x ** y, domain="pos"),
    _with_scalar("pow.scalar2", lambda m, x: x ** 2),
    _with_scalar("pow.scalar3", lambda m, x: x.pow(3)),
    _with_scalar("pow.scalar0", lambda m, x: x ** 0),
    _with_scalar("pow.scalar1", lambda m, x: x ** 1),
    _with_scalar("pow.half", lambda m, x: x ** 0.5, domain="pos"),
    _with_scalar("pow.neg", lambda m, x: m.pow(x, -1.5), domain="pos"),
    _with_scalar("pow.rscalar", lambda m, x: 2.0 ** x),
    _bin("float_power", lambda m, x, y: m.float_power(x, y), domain="pos"),
    _un("neg", lambda m, x: m.neg(x)),
    _un("neg.op", lambda m, x: -x),
    _un("abs", lambda m, x: m.abs(x), domain="nonzero"),
    _un("abs.builtin", lambda m, x: abs(x), domain="nonzero"),
    _un("sign", lambda m, x: m.sign(x)),
    _un("reciprocal", lambda m, x: m.reciprocal(x), domain="nonzero"),
    _un("sqrt", lambda m, x: m.sqrt(x), domain="pos"),
    _un("rsqrt", lambda m, x: x.rsqrt(), domain="pos"),
    _un("square", lambda m, x: m.square(x)),
    _un("exp", lambda m, x: m.exp(x)),
    _un("exp.method", lambda m, x: x.exp()),
    _un("exp2", lambda m, x: m.exp2(x)),
    _un("expm1", lambda m, x: m.expm1(x)),
    _un("log", lambda m, x: m.log(x), domain="pos"),
    _un("log2", lambda m, x: m.log2(x), domain="pos"),
    _un("log10", lambda m, x: m.log10(x), domain="pos"),
    _un("log1p", lambda m, x: m.log1p(x), domain=(-0.5, 2)),
    _un("sin", lambda m, x: m.sin(x)),
    _un("cos", lambda m, x: m.cos(x)),
    _un("tan", lambda m, x: m.tan(x), domain=(-1, 1)),
    _un("asin", lambda m, x: m.asin(x), domain=(-0.9, 0.9)),
    _un("acos", lambda m, x: m.acos(x), domain=(-0.9, 0.9)),
    _un("atan", lambda m, x: m.atan(x)),
    _bin("atan2", lambda m, x, y: m.atan2(x, y), domain="nonzero"),
    _un("sinh", lambda m, x: m.sinh(x)),
    _un("cosh", lambda m, x: m.cosh(x)),
    _un("tanh", lambda m, x: m.tanh(x)),
    _un("asinh", lambda m, x: m.asinh(x)),
    _un("acosh", lambda m, x: m.acosh(x), domain=(1.2, 3)),
    _un("atanh", lambda m, x: m.atanh(x), domain=(-0.9, 0.9)),
    _un("sigmoid", lambda m, x: m.sigmoid(x)),
    Op("sigmoid.extreme", lambda m, x: m.sigmoid(x),
       [(Fixed([-100.0, -20.0, 0.0, 20.0, 100.0]),)], fd=False),
    _un("erf", lambda m, x: m.erf(x)),
    _un("relu", lambda m, x: m.relu(x), domain="nonzero"),
    _un("floor", lambda m, x: m.floor(x), domain=(-3, 3)),
    _un("ceil", lambda m, x: m.ceil(x), domain=(-3, 3)),
    _un("round", lambda m, x: m.round(x), domain=(-3, 3)),
    Op("round.half_even", lambda m, x: m.round(x),
       [(Fixed([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]),)], fd=False),
    _un("round.decimals", lambda m, x: m.round(x, decimals=1), domain=(-3, 3)),
    _un("trunc", lambda m, x: m.trunc(x), domain=(-3, 3)),
    _un("frac", lambda m, x: m.frac(x), domain=(-3, 3)),
    _un("clamp", lambda m, x: m.clamp(x, -0.5, 0.5)),
    _un("clamp.min", lambda m, x: m.clamp(x, min=-0.2)),
    _un("clamp.max", lambda m, x: x.clamp(max=0.3)),
    _un("clip", lambda m, x: m.clip(x, -0.5, 0.5)),
    Op("clamp.tensor", lambda m, x, lo, hi: m.clamp(x, lo, hi),
       [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ())], gradgrad=True),
    _bin("maximum", lambda m, x, y: m.maximum(x, y)),
    _bin("minimum", lambda m, x, y: m.minimum(x, y)),
    Op("maximum.ties", lambda m, x, y: m.maximum(x, y),
       [(Fixed([1.0, 2.0, 3.0]), Fixed([1.0, 0.0, 3.0]))], fd=False),
    _bin("fmax", lambda m, x, y: m.fmax(x, y)),
    _bin("fmin", lambda m, x, y: x.fmin(y)),
    Op("fmax_fmin.nan", lambda m, x, y: (m.fmax(x, y), m.fmin(x, y), x.maximum(y)),
       [(Fixed([1.0, _NAN, 3.0, _NAN]), Fixed([2.0, 0.0, _NAN, _NAN]))], fd=False),
    Op("minimum.ties", lambda m, x, y: m.minimum(x, y),
       [(Fixed([1.0, 2.0, 3.0]), Fixed([1.0, 0.0, 3.0]))], fd=False),
    Op("where", lambda m, c, x, y: m.where(c, x, y),
       [(Const([[True, False, True], [False, False, True]]), (2, 3), (2, 3)),
        (Const([True, False, True]), (2, 1), ()),
        (Const(True), (3,), (2, 3))], gradgrad=True),
    Op("where.scalar", lambda m, x: m.where(x > 0, x, 0.0), UNARY, gradgrad=True),
    Op("where.method", lambda m, x, y: x.where(x > y, y), BINARY[:3], gradgrad=True),
    Op("lerp", lambda m, x, y, w: m.lerp(x, y, w),
       [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ())], gradgrad=True),
    _bin("xlogy", lambda m, x, y: m.xlogy(x, y), domain="pos"),
    Op("xlogy.zero", lambda m, x, y: m.xlogy(x, y),
       [(Fixed([0.0, 1.5, 0.0]), Fixed([2.0, 3.0, 0.5]))], fd=False, gradgrad=True),
    Op("xlogy.zero_zero", lambda m, x, y: m.xlogy(x, y),  # d/dy there is NaN
       [(Fixed([0.0, 0.0, 2.0]), Fixed([0.0, -1.0, _NAN]))], fd=False),
    Op("atan2.origin", lambda m, y, x: m.atan2(y, x),
       [(Fixed([0.0, 1.0]), Fixed([0.0, -1.0]))], fd=False),
]


def _pair(a, b):
    return (Const(np.array(a)), Const(np.array(b)))


_CMP_SAMPLES = [
    _pair([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [3.0, 5.0]]),
    _pair([1, 2, 3], [[2], [3]]),
    _pair([1.5, 2.0], 2),
    _pair([True, False], [True, True]),
]


def _cmp(name, fn):
    return Op(name, fn, _CMP_SAMPLES, dtypes=(None,), grad=False, fd=False)


_LOGIC_SAMPLES = [
    _pair([True, False, True, False], [True, True, False, False]),
    _pair([0.0, 1.5, -2.0], [[0.0], [3.0]]),
    _pair([0, 1, 2], [1, 0, 1]),
]
_SPECIAL = Const(np.array([0.0, -1.5, _NAN, _INF, -_INF], dtype=np.float32))

COMPARISON = [
    _cmp("eq.op", lambda m, x, y: x == y),
    _cmp("ne.op", lambda m, x, y: x != y),
    _cmp("lt.op", lambda m, x, y: x < y),
    _cmp("le.op", lambda m, x, y: x <= y),
    _cmp("gt.op", lambda m, x, y: x > y),
    _cmp("ge.op", lambda m, x, y: x >= y),
    _cmp("eq", lambda m, x, y: m.eq(x, y)),
    _cmp("ne", lambda m, x, y: m.ne(x, y)),
    _cmp("lt", lambda m, x, y: m.lt(x, y)),
    _cmp("le", lambda m, x, y: x.le(y)),
    _cmp("gt", lambda m, x, y: m.gt(x, y)),
    _cmp("ge", lambda m, x, y: m.ge(x, y)),
    Op("eq.scalar", lambda m, x: x == 2, [(Const([1, 2, 3]),), (Const([2.0, 0.5]),)],
       dtypes=(None,), grad=False, fd=False),
    Op("lt.scalar", lambda m, x: x < 1.5, [(Const([1, 2, 3]),), (Const(2.0),)],
       dtypes=(None,), grad=False, fd=False),
    Op("logical_and", lambda m, x, y: m.logical_and(x, y), _LOGIC_SAMPLES,
       dtypes=(None,), grad=False, fd=False),
    Op("logical_or", lambda m, x, y: m.logical_or(x, y), _LOGIC_SAMPLES,
       dtypes=(None,), grad=False, fd=False),
    Op("logical_xor", lambda m, x, y: m.logical_xor(x, y), _LOGIC_SAMPLES,
       dtypes=(None,), grad=False, fd=False),
    Op("logical_not", lambda m, x: m.logical_not(x), [(s[0],) for s in _LOGIC_SAMPLES],
       dtypes=(None,), grad=False, fd=False),
    Op("isnan", lambda m, x: m.isnan(x), [(_SPECIAL,), (Const([1, 2]),)],
       dtypes=(None,), grad=False, fd=False),
    Op("isinf", lambda m, x: m.isinf(x), [(_SPECIAL,), (Const([1, 2]),)],
       dtypes=(None,), grad=False, fd=False),
    Op("isfinite", lambda m, x: x.isfinite(), [(_SPECIAL,), (Const([1, 2]),)],
       dtypes=(None,), grad=False, fd=False),
    Op("isposinf_isneginf", lambda m, x: (m.isposinf(x), m.isneginf(x)),
       [(_SPECIAL,), (Const([1, 2]),)], dtypes=(None,), grad=False, fd=False),
    Op("allclose", lambda m, x, y: m.allclose(x, y),
       [_pair([1.0, 2.0], [1.0, 2.0 + 1e-9]), _pair([1.0, 2.0], [1.0, 2.1]),
        _pair([1.0, 2.0], [1.0, 2.0001])], dtypes=(None,), grad=False, fd=False),
    Op("allclose.tol", lambda m, x, y: m.allclose(x, y, rtol=0.0, atol=0.2),
       [_pair([1.0, 2.0], [1.0, 2.1]), _pair([1.0, 2.0], [1.0, 2.3])],
       dtypes=(None,), grad=False, fd=False),
    Op("allclose.nan", lambda m, x, y: m.allclose(x, y, equal_nan=True),
       [_pair([1.0, _NAN], [1.0, _NAN])], dtypes=(None,), grad=False, fd=False),
    Op("equal", lambda m, x, y: m.equal(x, y),
       [_pair([1, 2], [1, 2]), _pair([1, 2], [1, 3]), _pair([1, 2], [[1, 2]])],
       dtypes=(None,), grad=False, fd=False),
    Op("bitwise.and_or_xor", lambda m, x, y: (x & y, x | y, x ^ y),
       [_pair([True, False, True], [True, True, False]), _pair([5, 3, 0], [3, 6, 1])],
       dtypes=(None,), grad=False, fd=False),
    Op("bitwise.not", lambda m, x: ~x, [(Const([True, False]),), (Const([5, -1]),)],
       dtypes=(None,), grad=False, fd=False),
]

ROWS = ARITHMETIC + COMPARISON
