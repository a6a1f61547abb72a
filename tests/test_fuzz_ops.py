"""Fuzz: every public op, called with random shapes, dtypes and argument values.

Each example draws tensors (0-d to 4-d, sides 0 to 4, dtypes bool, int32,
int64, float32 and float64, with shapes that often but not always broadcast
together) and argument values that are valid, out of range or of the wrong
type (dims past the end, negative sizes, ``None``, strings, floats where ints
belong, bad mode names ...), calls the op in chainrule and in PyTorch on the
same values, and requires one of:

- both succeed and the results agree (shape, dtype, values; NaN-aware);
- both raise, and chainrule's exception is a :class:`chainrule.ChainruleError`
  of the built-in class PyTorch raised (or, for PyTorch's catch-all
  ``RuntimeError``, a ``ValueError``) whose message names the op (or the op
  an alias stands for, :data:`ALIASES`);
- PyTorch succeeds and chainrule raises such an error (an input chainrule
  does not support, e.g. ``logsumexp`` of an empty tensor or ``x == None``)
  -- still a chainrule error naming the op, never a NumPy traceback.

Anything else fails: a NumPy or Python exception escaping from inside the
library, a NumPy warning, or a result where PyTorch raises -- unless the
case is one of the deliberate, documented differences in :data:`ALLOWED`.

At most one argument per example has the wrong type; when it meets another
invalid argument, chainrule may report it as a TypeError though PyTorch
reported the other first.  Indexing (``accept``) takes any of IndexError,
ValueError and TypeError for any of them: PyTorch's class depends on which of
several bad index entries it meets first.

Sizes are capped (sides <= 4, repeat/pad/arange/one_hot arguments small), so
no example allocates more than a few hundred thousand elements.  Each entry
runs EXAMPLES derandomized examples (about 20 s for the whole file).
"""
import dataclasses
import math
import operator
import re
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn  # (entries call m.nn.functional, as torch.nn)

EXAMPLES = 20
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    database=None, suppress_health_check=list(HealthCheck))
DTYPES = ("bool", "int32", "int64", "float32", "float64")
FLOATS = ("float32", "float64")
INTS = ("int32", "int64")
MAX_SIDE, MAX_DIMS, MAX_NUMEL = 4, 4, 128


# -- argument markers: one drawn value, materialised per framework ----------------
@dataclasses.dataclass
class Arr:
    """A tensor argument: the same values become a chainrule and a torch tensor."""

    value: np.ndarray

    def to(self, m):
        a = self.value.copy()
        return cr.tensor(a) if m is cr else torch.from_numpy(a)

    def __repr__(self):
        return f"{self.value.dtype}{list(self.value.shape)}"


@dataclasses.dataclass
class Dt:
    """A dtype argument: ``chainrule.<name>`` or ``torch.<name>``."""

    name: str

    def to(self, m):
        return getattr(m, self.name)

    def __repr__(self):
        return f"<{self.name}>"


@dataclasses.dataclass
class Np:
    """An ndarray argument passed as is (``from_numpy``, ``as_tensor``)."""

    value: np.ndarray

    def to(self, m):
        return self.value.copy()


OMIT = object()  # an optional keyword argument left out


def materialise(v, m):
    if isinstance(v, (Arr, Dt, Np)):
        return v.to(m)
    if isinstance(v, tuple):
        return tuple(materialise(x, m) for x in v)
    if isinstance(v, list):
        return [materialise(x, m) for x in v]
    if isinstance(v, dict):
        return {k: materialise(x, m) for k, x in v.items()}
    return v


# -- drawing values ---------------------------------------------------------------
class Ctx:
    """One example's draws: a base shape that tensor arguments relate to."""

    def __init__(self, data):
        self.data = data
        nd = data.draw(st.integers(0, MAX_DIMS), "base ndim")
        base = [data.draw(st.integers(0, MAX_SIDE)) for _ in range(nd)]
        if nd >= 2 and data.draw(st.booleans()):  # square matrices for linalg
            base[-1] = base[-2]
        self.base = _capped(base)
        self.rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        self.bad = False  # drawn a wrong-typed value yet (at most one per example)

    def draw(self, spec):
        if isinstance(spec, st.SearchStrategy):
            return self.data.draw(spec)
        return spec(self)

    def shape(self, min_dims=0):
        kind = self.draw(st.sampled_from(["base", "base", "broadcast", "random"]))
        if kind == "base" and len(self.base) >= min_dims:
            return self.base
        if kind == "broadcast" and len(self.base) >= min_dims:
            k = self.draw(st.integers(0, len(self.base) - min_dims))
            return tuple(1 if self.draw(st.booleans()) else s for s in self.base[k:])
        nd = self.draw(st.integers(min_dims, MAX_DIMS))
        return _capped([self.draw(st.integers(0, MAX_SIDE)) for _ in range(nd)])

    def values(self, shape, dtype, kind):
        """Distinct small values (no ties for sort/argmax), or normal draws."""
        n = math.prod(shape)
        if dtype == "bool":
            vals = self.rng.random(shape) < 0.5
        elif kind == "normal" and dtype in FLOATS:
            vals = self.rng.standard_normal(shape)
        elif kind == "index":
            vals = self.rng.integers(-5, 6, shape)
        else:
            vals = (self.rng.permutation(n) - n // 2).reshape(shape)
            vals = vals * 0.5 if dtype in FLOATS else vals
        return np.array(vals, dtype=dtype)


def _capped(shape):
    """``shape`` with its largest sides cut until it has at most MAX_NUMEL
    elements: distinct values then stay within +-64, clear of float32's
    overflow edges (where exp/cosh of 89 round differently by library)."""
    shape = list(shape)
    while math.prod(shape) > MAX_NUMEL:
        shape[shape.index(max(shape))] -= 1
    return tuple(shape)


def T(dtypes=DTYPES, min_dims=0, kind="distinct"):
    """A tensor of a drawn dtype whose shape relates to the example's base shape."""
    def draw(ctx):
        dtype = ctx.draw(st.sampled_from(dtypes))
        return Arr(ctx.values(ctx.shape(min_dims), dtype, kind))

    return draw


def IDX(ctx):
    """An index tensor: mostly int64 values in [-5, 5]; sometimes int32/bool/float."""
    dtype = ctx.draw(st.sampled_from(["int64"] * 4 + ["int32", "bool", "float32"]))
    return Arr(ctx.values(ctx.shape(), dtype, "index"))


def MASK(ctx):
    """A mask: usually bool, shaped like the base shape or broadcast to it."""
    dtype = ctx.draw(st.sampled_from(["bool"] * 4 + ["int64", "float32"]))
    return Arr(ctx.values(ctx.shape(), dtype, "index" if dtype != "bool" else ""))


def TL(dtypes=DTYPES, max_len=3):
    """A list of tensors (possibly empty), for cat, stack, einsum ..."""
    def draw(ctx):
        n = ctx.draw(st.integers(0, max_len))
        return [T(dtypes)(ctx) for _ in range(n)]

    return draw


BAD = st.sampled_from([None, "x", 1.5])
SCALARS = st.sampled_from([0, 1, 2, -3, 0.5, -2.5, True, False])


def mix(good, bad=BAD):
    """Mostly ``good`` values, sometimes one of the wrong type.

    One wrong-typed value per example at most: with two, PyTorch and
    chainrule may each report a different one, both rightly.
    """
    def draw(ctx):
        if not ctx.bad and ctx.draw(st.integers(0, 3)) == 0:
            ctx.bad = True
            return ctx.draw(bad)
        return ctx.draw(good)

    return draw


def either(*specs):
    """One of several specs (strategies or draw functions)."""
    return lambda ctx: ctx.draw(specs[ctx.draw(st.integers(0, len(specs) - 1))])


def seq(spec, max_size, kind=tuple):
    """A tuple (or list) of up to ``max_size`` values drawn from ``spec``."""
    return lambda ctx: kind(ctx.draw(spec) for _ in range(ctx.draw(
        st.integers(0, max_size))))


def S(ctx):
    """A Python number (or, sometimes, a non-number)."""
    return ctx.draw(mix(SCALARS))


def TS(dtypes=DTYPES):
    """A tensor, usually; sometimes a Python number."""
    t = T(dtypes)

    def draw(ctx):
        return t(ctx) if ctx.draw(st.integers(0, 3)) else S(ctx)

    return draw


def INT(lo, hi):
    return mix(st.integers(lo, hi))


DIM = INT(-5, 4)
# (unique: repeated dims meeting another error would make the error reported
# a matter of check order; the 'repeated_dims' regression covers repeats)
DIMS = either(DIM, st.lists(st.integers(-4, 3), max_size=3, unique=True).map(tuple),
              st.lists(st.integers(-4, 3), max_size=2, unique=True))
OPT_DIM = either(st.none(), DIM)
SIZE = INT(-2, 4)
SIZES = seq(SIZE, 4)  # a shape: small ints, sometimes negative or not ints
BOOL = st.booleans()
DT = mix(st.one_of(st.none(), st.sampled_from(DTYPES).map(Dt)),
         st.sampled_from(["float16", 3]))


def opt(spec):
    """A keyword argument that is sometimes left out."""
    return lambda ctx: OMIT if ctx.draw(st.integers(0, 3)) == 0 else ctx.draw(spec)


# -- the table ----------------------------------------------------------------------
# An alias's errors may name the op it stands for.
ALIASES = {
    "absolute": "abs", "negative": "neg", "sgn": "sign", "fix": "trunc",
    "multiply": "mul", "subtract": "sub", "divide": "div", "true_divide": "div",
    "arctan2": "atan2", "greater": "gt", "greater_equal": "ge", "less": "lt",
    "less_equal": "le", "not_equal": "ne", "clip": "clamp", "concat": "cat",
    "concatenate": "cat", "swapdims": "transpose", "swapaxes": "transpose",
    "moveaxis": "movedim", "ger": "outer", "inverse": "inv", "new_zeros": "zeros",
    "new_full": "full",
}


@dataclasses.dataclass
class F:
    """One way of calling one op.

    ``call``: ``"name"`` calls ``m.name(*args, **kw)``, ``".name"`` the method
    of the first argument, ``"a.b"`` a submodule function; or a function
    ``(m, *args, **kw)``.  ``ref``: the torch spelling when different (None:
    no torch counterpart; only the no-raw-exception rule is checked).
    ``names``: words of which one must appear in chainrule's error message.
    ``random``: compare only shapes and dtypes.  ``op``: the public name this
    entry covers (for the coverage test).  ``accept``: built-in classes any of
    which may answer any of them from PyTorch (an index can hold several bad
    entries, and PyTorch's class depends on which it meets first).  ``loose``:
    ``loose(args, kw)`` true when results are not compared (see ALLOWED).
    """

    label: str
    call: object
    args: tuple = ()
    kw: dict = dataclasses.field(default_factory=dict)
    ref: object = "same"
    names: tuple = ()
    random: bool = False
    rtol: float = None
    op: str = None
    accept: tuple = None
    loose: Callable = None

    def __post_init__(self):
        if not isinstance(self.args, tuple):
            raise TypeError(f"{self.label}: args must be a tuple of specs")
        if self.ref == "same":
            self.ref = self.call
        self.op = self.op or self.label.split(".")[0]
        self.names = self.names or (self.op,)
        self.names += tuple(ALIASES[n] for n in self.names if n in ALIASES)


def resolve(m, call, args, kw):
    if callable(call):
        return call(m, *args, **kw)
    if call.startswith("."):
        return getattr(args[0], call[1:])(*args[1:], **kw)
    fn = m
    for part in call.split("."):
        fn = getattr(fn, part)
    return fn(*args, **kw)


def unary(name, **kw):
    return F(name, name, (T(),), **kw)


def binary(name, **kw):
    return F(name, name, (TS(), TS()), **kw)


def method(name, *args, **kw):
    return F(name + ".method", "." + name, (T(),) + args, **kw)


UNARY = [unary(n) for n in """neg negative abs absolute sign sgn sqrt rsqrt square exp
expm1 exp2 log log2 log10 log1p sin cos tan asin acos atan sinh cosh tanh asinh acosh
atanh sigmoid erf floor ceil trunc fix frac relu reciprocal logical_not isnan isinf
isfinite isposinf isneginf bitwise_not""".split()]
UNARY += [method(n) for n in ("exp", "neg", "abs", "sqrt", "floor", "frac")]
UNARY += [
    F("round", "round", (T(),), {"decimals": opt(INT(-2, 3))}),
    F("neg.op", lambda m, x: -x, (T(),), names=("neg",)),
    F("abs.builtin", lambda m, x: abs(x), (T(),), names=("abs",)),
    F("bitwise_not.op", lambda m, x: ~x, (T(),), names=("bitwise_not",)),
]

_ALPHA = opt(mix(st.sampled_from([1, 2, -1, 0.5, True])))
BINARY = [binary(n) for n in """mul multiply floor_divide remainder fmod pow
float_power maximum minimum fmax fmin atan2 arctan2 eq ne lt le gt ge greater
greater_equal less less_equal not_equal logical_and logical_or logical_xor
bitwise_and bitwise_or bitwise_xor xlogy equal""".split()]
BINARY += [
    F(n, n, (TS(), TS()), {"alpha": _ALPHA}) for n in ("add", "sub", "subtract", "rsub")
] + [
    F(n, n, (TS(), TS()), {"rounding_mode": opt(st.sampled_from(
        [None, "trunc", "floor", "nearest"]))}) for n in ("div", "divide")
] + [
    binary("true_divide")
] + [
    F(n, n, (TS(), TS()), {"rtol": opt(mix(st.sampled_from([0.0, 1e-5, 0.1]))),
                           "atol": opt(mix(st.sampled_from([0.0, 1e-8, 1.0]))),
                           "equal_nan": opt(BOOL)}) for n in ("allclose", "isclose")
] + [method(n, TS()) for n in ("add", "mul", "pow", "eq", "maximum", "fmin")]

_MIRROR = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le"}  # 2 < x is x > 2
_OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
        "div": operator.truediv, "floor_divide": operator.floordiv,
        "remainder": operator.mod, "pow": operator.pow, "matmul": operator.matmul,
        "bitwise_and": operator.and_, "bitwise_or": operator.or_,
        "bitwise_xor": operator.xor, "eq": operator.eq, "ne": operator.ne,
        "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
OPERATORS = [
    F(f"{name}.op", lambda m, x, y, f=f: f(x, y), (T(), TS()), names=(name,))
    for name, f in _OPS.items()
] + [  # a number on the left: the tensor's reflected operator
    F(f"{name}.rop", lambda m, x, y, f=f: f(x, y), (S, T()),
      names=(name, _MIRROR.get(name, name)))
    for name, f in _OPS.items() if name != "matmul"
]


def _mixed_bounds(args, kw):
    """clamp with one number and one tensor bound (see ALLOWED): chainrule
    promotes as maximum/minimum do; PyTorch's dtype for 0-d inputs differs."""
    return isinstance(args[1], Arr) != isinstance(args[2], Arr)


TERNARY = [
    F("where", "where", (T(), TS(), TS())),
    F("where.method", lambda m, x, c, y: x.where(c, y), (T(), T(), TS()),
      names=("where",)),
    F("where.cond_only", "where", (T(),)),
    F("clamp", "clamp", (T(),), {"min": opt(st.one_of(st.none(), SCALARS)),
                                 "max": opt(st.one_of(st.none(), SCALARS))}),
    F("clamp.tensor", "clamp", (T(), TS(), TS()), loose=_mixed_bounds),
    F("clip", "clip", (T(), S, S)),
    F("clamp_min", "clamp_min", (T(), TS())),
    F("clamp_max", "clamp_max", (T(), TS())),
    F("lerp", "lerp", (T(), T(), TS())),
]

_RED = {"keepdim": opt(BOOL)}
_VAR = {"keepdim": opt(BOOL), "unbiased": opt(BOOL),
        "correction": opt(mix(st.integers(-1, 3)))}
REDUCE = [
    F(n, n, (T(),), {"dim": opt(DIMS), **_RED, "dtype": opt(DT)})
    for n in ("sum", "mean", "nansum")
] + [
    F("prod", "prod", (T(),), {"dim": opt(DIM), **_RED, "dtype": opt(DT)}),
    F("sum.method", ".sum", (T(), DIMS), _RED),
    F("mean.method", ".mean", (T(), DIMS)),
] + [
    F(n, n, (T(), DIMS), _VAR) for n in ("var", "std", "var_mean", "std_mean")
] + [
    F(n, n, (T(),), {"dim": opt(DIMS), **_RED}) for n in ("amax", "amin", "all", "any")
] + [
    F(n, n, (T(),), {"dim": opt(OPT_DIM), **_RED}) for n in ("argmax", "argmin")
] + [
    F(n, n, (T(),)) for n in ("max", "min", "median")
] + [
    F(f"{n}.dim", n, (T(), DIM), _RED) for n in ("max", "min", "median")
] + [
    F(f"{n}.binary", n, (T(), T())) for n in ("max", "min")
] + [
    F("aminmax", "aminmax", (T(),), {"dim": opt(OPT_DIM), **_RED}),
    F("logsumexp", "logsumexp", (T(), DIMS), _RED),
    F("count_nonzero", "count_nonzero", (T(),), {"dim": opt(DIMS)}),
    F("cumsum", "cumsum", (T(), DIM), {"dtype": opt(DT)}),
    F("cumprod", "cumprod", (T(), DIM), {"dtype": opt(DT)}),
    F("cummax", "cummax", (T(), DIM)),
    F("cummin", "cummin", (T(), DIM)),
    F("vector_norm", "linalg.vector_norm", (T(),),
      {"ord": opt(mix(st.sampled_from([2, 1, 0, 3, 0.5, -1, math.inf, -math.inf]),
                      st.sampled_from(["fro", "nuc", None]))),
       "dim": opt(DIMS), **_RED, "dtype": opt(DT)}),
    F("norm", "norm", (T(),),
      {"p": opt(st.sampled_from([2, 1, 3, math.inf, "fro", "nuc", "x", None])),
       "dim": opt(DIMS), **_RED}),
    F("argsort", "argsort", (T(),), {"dim": opt(DIM), "descending": opt(BOOL)}),
    F("sort", "sort", (T(),), {"dim": opt(DIM), "descending": opt(BOOL),
                               "stable": opt(BOOL)}),
    F("topk", "topk", (T(), INT(-1, 5)), {"dim": opt(DIM), "largest": opt(BOOL)}),
    F("kthvalue", "kthvalue", (T(), INT(-1, 5)), {"dim": opt(DIM), **_RED}),
]


SHAPE = seq(INT(-2, 6), 4)  # a target shape for reshape/view/expand


def _splat(name):
    return lambda m, x, s: getattr(x, name)(*s)


SHAPE_OPS = [
    F("reshape", "reshape", (T(), SHAPE)),
    F("reshape.varargs", _splat("reshape"), (T(), SHAPE), names=("reshape",)),
    F("view", ".view", (T(), SHAPE)),
    F("view.varargs", _splat("view"), (T(), SHAPE), names=("view",)),
    F("view_as", ".view_as", (T(), T())),
    F("reshape_as", ".reshape_as", (T(), T())),
    F("flatten", "flatten", (T(),), {"start_dim": opt(DIM), "end_dim": opt(DIM)}),
    F("unflatten", "unflatten", (T(), DIM, SHAPE)),
    F("squeeze", "squeeze", (T(),), {"dim": opt(DIMS)}),
    F("unsqueeze", "unsqueeze", (T(), DIM)),
    F("expand", ".expand", (T(), SHAPE)),
    F("expand.varargs", _splat("expand"), (T(), SHAPE), names=("expand",)),
    F("expand_as", ".expand_as", (T(), T())),
    F("broadcast_to", "broadcast_to", (T(), SHAPE)),
    F("broadcast_shapes", lambda m, *s: tuple(m.broadcast_shapes(*s)),
      (SHAPE, either(SHAPE, INT(-1, 4)))),
    F("broadcast_tensors", lambda m, xs: m.broadcast_tensors(*xs), (TL(),)),
    F("permute", "permute", (T(), DIMS)),
    F("permute.varargs", lambda m, x, d: x.permute(*d) if isinstance(d, tuple) else
      x.permute(d), (T(), DIMS), names=("permute",)),
    F("transpose", "transpose", (T(), DIM, DIM)),
    F("swapdims", "swapdims", (T(), DIM, DIM), names=("swapdims", "transpose")),
    F("swapaxes", "swapaxes", (T(), DIM, DIM), names=("swapaxes", "transpose")),
    F("t", "t", (T(),)),
    F("movedim", "movedim", (T(), DIMS, DIMS)),
    F("moveaxis", "moveaxis", (T(), DIMS, DIMS), names=("moveaxis", "movedim")),
    F("mT", lambda m, x: x.mT, (T(),)),
    F("T", lambda m, x: x.T, (T(),), names=("permute", "T")),
    F("cat", "cat", (TL(),), {"dim": opt(DIM)}),
    F("concat", "concat", (TL(),), {"dim": opt(DIM)}, names=("concat", "cat")),
    F("concatenate", "concatenate", (TL(),), {"axis": opt(DIM)},
      names=("concatenate", "cat")),
    F("stack", "stack", (TL(),), {"dim": opt(DIM)}),
    F("hstack", "hstack", (TL(),), names=("hstack", "cat")),
    F("vstack", "vstack", (TL(),), names=("vstack", "cat")),
    F("atleast_2d", "atleast_2d", (T(),)),
    F("narrow", "narrow", (T(), DIM, INT(-5, 5), INT(-1, 5))),
    F("split", "split", (T(), mix(st.one_of(st.integers(-1, 5), st.lists(
        st.integers(-1, 4), max_size=4)))), {"dim": opt(DIM)}),
    F("split_copy", "split_copy", (T(), mix(st.integers(-1, 5))), {"dim": opt(DIM)}),
    F("chunk", "chunk", (T(), INT(-1, 5)), {"dim": opt(DIM)}),
    F("tensor_split", "tensor_split", (T(), mix(st.one_of(st.integers(-1, 5), st.lists(
        st.integers(-2, 5), max_size=3)))), {"dim": opt(DIM)}),
    F("unbind", "unbind", (T(),), {"dim": opt(DIM)}),
    F("unbind_copy", "unbind_copy", (T(),), {"dim": opt(DIM)}),
    F("repeat", ".repeat", (T(), SIZES)),
    F("tile", "tile", (T(), SIZES)),
    F("repeat_interleave", "repeat_interleave",
      (T(), either(INT(-1, 4), T(INTS, kind="index"))), {"dim": opt(OPT_DIM)}),
    F("flip", "flip", (T(), DIMS)),
    F("fliplr", "fliplr", (T(),)),
    F("flipud", "flipud", (T(),)),
    F("roll", "roll", (T(), either(INT(-5, 5), seq(st.integers(-5, 5), 3))),
      {"dims": opt(either(st.none(), DIMS))}),
    F("tril", "tril", (T(),), {"diagonal": opt(INT(-3, 3))}),
    F("triu", "triu", (T(),), {"diagonal": opt(INT(-3, 3))}),
    F("diagonal", "diagonal", (T(),), {"offset": opt(INT(-3, 3)), "dim1": opt(DIM),
                                       "dim2": opt(DIM)}),
    F("diag_embed", "diag_embed", (T(),), {"offset": opt(INT(-2, 2)),
                                           "dim1": opt(DIM), "dim2": opt(DIM)}),
    F("diag", "diag", (T(),), {"diagonal": opt(INT(-3, 3))}),
    F("trace", "trace", (T(),)),
    F("clone", "clone", (T(),)),
    F("contiguous", ".contiguous", (T(),)),
    F("pad", "nn.functional.pad", (T(), seq(INT(-2, 3), 7)),
      {"mode": opt(st.sampled_from(["constant", "reflect", "replicate", "circular",
                                    "edge"])),
       "value": opt(st.sampled_from([0.5, 2]))}),
]


def INDEX(ctx):
    """An index for ``x[...]``: ints, slices, None, ..., lists, masks, tensors."""
    def one():
        kind = ctx.draw(st.sampled_from(["int", "int", "slice", "slice", "none",
                                         "ellipsis", "list", "tensor", "mask", "bad"]))
        if kind == "int":
            return ctx.draw(st.integers(-5, 5))
        if kind == "slice":
            b = st.one_of(st.none(), st.integers(-5, 5))
            return slice(ctx.draw(b), ctx.draw(b),
                         ctx.draw(st.one_of(st.none(), st.integers(-1, 3))))
        if kind == "none":
            return None
        if kind == "ellipsis":
            return Ellipsis
        if kind == "list":
            return ctx.draw(st.lists(st.integers(-5, 5), max_size=3))
        if kind == "tensor":
            return IDX(ctx)
        if kind == "mask":
            return MASK(ctx)
        return ctx.draw(st.sampled_from([1.5, "a", [0.5, 1]]))

    n = ctx.draw(st.integers(0, 4))
    if n == 1 and ctx.draw(st.booleans()):
        return one()
    return tuple(one() for _ in range(n))


def _setitem(m, x, idx, v):
    x[idx] = v
    return x


def _index_put(m, x, idx, v, **kw):
    return m.index_put(x, idx if isinstance(idx, tuple) else (idx,), v, **kw)


_INDEX_ERRORS = (IndexError, ValueError, TypeError)
INDEX_OPS = [
    F("getitem", lambda m, x, i: x[i], (T(), INDEX), names=("index", "getitem"),
      accept=_INDEX_ERRORS),
    F("setitem", _setitem, (T(), INDEX, TS()), names=("setitem", "index"),
      accept=_INDEX_ERRORS),
    F("index_put", _index_put, (T(), IDX, TS()), {"accumulate": opt(BOOL)},
      ref=lambda m, x, i, v, **kw: x.index_put(
          (i,), v if isinstance(v, torch.Tensor) else torch.tensor(v), **kw)),
    F("gather", "gather", (T(), DIM, IDX)),
    F("scatter", "scatter", (T(), DIM, IDX, T())),
    F("scatter.value", lambda m, x, d, i, v: m.scatter(x, d, i, value=v),
      (T(), DIM, IDX, S)),
    F("scatter.reduce", "scatter", (T(), DIM, IDX, T()),
      {"reduce": st.sampled_from(["add", "multiply", "mean"])}),
    F("scatter_add", "scatter_add", (T(), DIM, IDX, T())),
    F("take_along_dim", "take_along_dim", (T(), IDX), {"dim": opt(OPT_DIM)}),
    F("index_select", "index_select", (T(), DIM, IDX)),
    F("masked_fill", "masked_fill", (T(), MASK, TS())),
    F("masked_select", "masked_select", (T(), MASK)),
    F("index_add", "index_add", (T(), DIM, IDX, T()), {"alpha": _ALPHA}),
    F("index_fill", "index_fill", (T(), DIM, IDX, S)),
    F("nonzero", "nonzero", (T(),), {"as_tuple": opt(BOOL)}),
    F("argwhere", "argwhere", (T(),)),
    F("one_hot", "nn.functional.one_hot", (IDX,), {"num_classes": opt(INT(-2, 6))}),
]

LINALG = [
    F(n, n, (T(kind="normal"), T(kind="normal")), rtol=1e-3)
    for n in ("matmul", "mm", "bmm", "mv", "dot", "inner", "vdot", "outer", "ger")
] + [
    F("addmm", "addmm", (T(kind="normal"),) * 3, {"beta": opt(S), "alpha": opt(S)},
      rtol=1e-3),
    F("einsum", lambda m, eq, xs: m.einsum(eq, *xs),
      (st.sampled_from(["ij,jk->ik", "i,i->", "ii->i", "...ij->...ji", "ij", "bij,bjk",
                        "i->j", "ij,jk,->", "", "i j", "I,I"]),
       TL(max_len=2))),
    F("tensordot", "tensordot", (T(kind="normal"), T(kind="normal")),
      {"dims": opt(either(INT(-1, 3), st.just(([0], [1])), st.just(([0, 1], [1]))))},
      rtol=1e-3),
    F("cross", "linalg.cross", (T(kind="normal"), T(kind="normal")),
      {"dim": opt(DIM)}),
] + [
    F(n, n, (T(kind="normal"),), rtol=1e-2, op=n.split(".")[-1])
    for n in ("det", "logdet", "slogdet", "inverse", "linalg.inv", "linalg.det",
              "linalg.slogdet", "linalg.svdvals", "linalg.eigvalsh")
] + [
    F("pinverse", "pinverse", (T(kind="normal"),), {"rcond": opt(S)}, rtol=1e-2),
    F("pinv", "linalg.pinv", (T(kind="normal"),),
      {"atol": opt(st.sampled_from([None, 0.5])), "rtol": opt(st.sampled_from(
          [None, 0.1])), "hermitian": opt(BOOL)}, rtol=1e-2),
    F("solve", "linalg.solve", (T(kind="normal"), T(kind="normal")),
      {"left": opt(BOOL)}, rtol=1e-2),
    F("solve_triangular", "linalg.solve_triangular",
      (T(kind="normal"), T(kind="normal")), {"upper": BOOL, "left": opt(BOOL),
                                             "unitriangular": opt(BOOL)}, rtol=1e-2),
    F("cholesky", "linalg.cholesky", (T(kind="normal"),), {"upper": opt(BOOL)},
      rtol=1e-2),
    F("eigh", lambda m, x, **kw: m.linalg.eigh(x, **kw)[0], (T(kind="normal"),),
      {"UPLO": opt(st.sampled_from(["L", "U", "X"]))}, rtol=1e-2),
    F("svd", lambda m, x, **kw: [tuple(o.shape) for o in m.linalg.svd(x, **kw)],
      (T(kind="normal"),), {"full_matrices": opt(BOOL)}),
    F("matrix_norm", "linalg.matrix_norm", (T(kind="normal"),),
      {"ord": opt(st.sampled_from(["fro", "nuc", 2, -2, 1, -1, math.inf, 3, "x"])),
       "dim": opt(DIMS), **_RED}, rtol=1e-3),
    F("linalg.norm", "linalg.norm", (T(kind="normal"),),
      {"ord": opt(st.sampled_from([None, "fro", "nuc", 2, 1, math.inf, 3, "x"])),
       "dim": opt(DIMS), **_RED}, rtol=1e-3, op="norm"),
]

def _fractional_ints(args, kw):
    """Fractional bounds with an integer dtype: PyTorch's int64 truncates the
    bounds first, its int32 only the values (``arange(1.5, dtype=int32)`` has
    2 elements, with int64 1); chainrule follows int64 for every integer dtype."""
    dt = kw.get("dtype")
    return isinstance(dt, Dt) and dt.name in ("bool", "int32", "int64") and any(
        isinstance(a, float) and a != int(a) for a in args)


def _int_dtype(args, kw):
    """logspace in an integer dtype: PyTorch's int64 truncates the exponents,
    its int32 only the powers (logspace(0, 2, 5) is [1, 3, 10, 31, 100] in
    int32, [1, 1, 10, 10, 100] in int64); chainrule follows int64."""
    dt = kw.get("dtype")
    return isinstance(dt, Dt) and dt.name in ("bool", "int32", "int64")


_DATA = st.sampled_from([0, 1.5, True, [1, 2], [[1, 2], [3, 4]], [[1, 2], [3]], [],
                         "abc", None, [1, None], [True, 2.5], [[]]])
CREATION = [
    F("tensor", "tensor", (_DATA,), {"dtype": opt(DT)}),
    F("tensor.array", "tensor", (T(),), {"dtype": opt(DT)}),
    F("as_tensor", "as_tensor", (st.one_of(_DATA, st.builds(
        Np, st.sampled_from([np.arange(3), np.ones((2, 2), np.float16),
                             np.array(["a"]), np.zeros(2, np.uint8)]))),),
      {"dtype": opt(DT)}),
    F("from_numpy", "from_numpy", (st.one_of(_DATA, st.builds(Np, st.sampled_from(
        [np.arange(3), np.ones((2, 2), np.float16), np.zeros(2, np.complex64)]))),)),
] + [
    F(n, lambda m, s, n=n, **kw: getattr(m, n)(*s, **kw), (SIZES,), {"dtype": opt(DT)},
      random=n == "empty")
    for n in ("zeros", "ones", "empty")
] + [
    F(f"{n}.tuple", n, (SIZES,), {"dtype": opt(DT)}, random=n == "empty")
    for n in ("zeros", "ones", "empty")
] + [
    F("full", "full", (SIZES, S), {"dtype": opt(DT)}),
    F("zeros_like", "zeros_like", (T(),), {"dtype": opt(DT)}),
    F("ones_like", "ones_like", (T(),), {"dtype": opt(DT)}),
    F("empty_like", "empty_like", (T(),), {"dtype": opt(DT)}, random=True),
    F("full_like", "full_like", (T(), S), {"dtype": opt(DT)}),
    F("arange", "arange", (mix(st.sampled_from([0, 3, -2, 1.5, 10])),),
      {"dtype": opt(DT)}, loose=_fractional_ints),
    F("arange.range", "arange", (INT(-3, 3), INT(-3, 8),
                                 mix(st.sampled_from([1, 2, -1, 0, 0.5, -0.5]))),
      {"dtype": opt(DT)}, loose=_fractional_ints),
    F("linspace", "linspace", (S, S, INT(-2, 8)), {"dtype": opt(DT)}, rtol=1e-4,
      loose=_fractional_ints),
    F("logspace", "logspace", (S, S, INT(-2, 8)), {"dtype": opt(DT)}, rtol=1e-4,
      loose=_int_dtype),
    F("eye", "eye", (INT(-2, 5),), {"dtype": opt(DT)}),
    F("eye.rect", "eye", (INT(-2, 5), INT(-2, 5)), {"dtype": opt(DT)}),
    F("rand", lambda m, s, **kw: m.rand(*s, **kw), (SIZES,), {"dtype": opt(DT)},
      random=True),
    F("randn", "randn", (SIZES,), {"dtype": opt(DT)}, random=True),
    F("randint", "randint", (INT(-3, 3), INT(-3, 8), SIZES), {"dtype": opt(DT)},
      random=True),
    F("randperm", "randperm", (INT(-2, 6),), {"dtype": opt(DT)}, random=True),
    F("rand_like", "rand_like", (T(),), {"dtype": opt(DT)}, random=True),
    F("randn_like", "randn_like", (T(),), {"dtype": opt(DT)}, random=True),
    F("randint_like", "randint_like", (T(), INT(-3, 3), INT(-3, 8)), random=True),
    F("normal", "normal", (S, S, SIZES), random=True),
    F("normal.tensor", "normal", (T(), T()), random=True),
    F("bernoulli", "bernoulli", (T(),), random=True),
    F("bernoulli.p", "bernoulli", (T(), S), random=True),
    F("multinomial", "multinomial", (T(), INT(-1, 5)),
      {"replacement": opt(BOOL)}, random=True),
]

INPLACE = [
    F(f"{n}_", f".{n}_", (T(), TS())) for n in ("add", "sub", "mul", "div", "pow",
                                                "fmod", "remainder")
] + [
    F(f"{n}_", f".{n}_", (T(),)) for n in ("neg", "abs", "sqrt", "exp", "floor",
                                           "relu", "sigmoid", "zero")
] + [
    F("clamp_", ".clamp_", (T(), S, S)),
    F("fill_", ".fill_", (T(), TS())),
    F("copy_", ".copy_", (T(), TS())),
    F("masked_fill_", ".masked_fill_", (T(), MASK, S)),
    F("index_fill_", ".index_fill_", (T(), DIM, IDX, S)),
]

METHODS = [
    F("to", ".to", (T(), st.one_of(st.sampled_from(DTYPES).map(Dt),
                                   st.sampled_from(["cpu", "cuda", None])))),
    F("item", ".item", (T(),)),
    F("size", ".size", (T(), DIM)),
    F("float", ".float", (T(),)),
    F("long", ".long", (T(),)),
    F("new_zeros", ".new_zeros", (T(), SIZES)),
    F("new_full", ".new_full", (T(), SIZES, S)),
    F("type_as", ".type_as", (T(), T())),
    F("len", lambda m, x: len(x), (T(),)),
    F("tolist", ".tolist", (T(),)),
]

# Helpers the op families export without a PyTorch counterpart: only the rule
# that nothing but a chainrule error escapes applies.
HELPERS = [
    F("sum_to", "sum_to", (T(), SHAPE), ref=None),
    F("pow_scalar", "pow_scalar", (T(), S), ref=None, names=("pow",)),
    F("zeros_like_g", "zeros_like_g", (T(),), ref=None),
    F("normalize_index", "ops.index.normalize_index", (T(), INDEX), ref=None,
      names=("index",)),
]

FUZZ = (UNARY + BINARY + OPERATORS + TERNARY + REDUCE + SHAPE_OPS + INDEX_OPS + LINALG
        + CREATION + INPLACE + METHODS + HELPERS)


# -- deliberate differences from PyTorch ---------------------------------------------
# (entry label pattern, regex on PyTorch's message, why chainrule returns a
# result[, predicate on the call's positional arguments])
ALLOWED = [
    # Ops lift Python numbers to tensors wherever a tensor is expected
    # (``cr.add(2, x)``, ``cr.exp(1.0)``), as NumPy does; PyTorch's functions
    # want a tensor there.  (The second form only when a number came first.)
    (r".*", r"must be Tensor, not (int|float|bool)", "numbers are lifted"),
    (r".*", (r"invalid combination of arguments - got \((int|float|bool)[,)]"
             r"|unsupported operand type"), "numbers are lifted",
     lambda args: args and not isinstance(args[0], (Arr, list))),
    # Kernels exist for all five dtypes where the result is defined: frac or
    # round of ints, dot/trace/median of bools (PyTorch's CPU kernels lack them).
    (r".*", r"not implemented for '(Bool|Int|Long)'", "all dtypes have kernels"),
    # where() takes any condition, nonzero meaning true, as NumPy does.
    (r"where.*", r"expected condition to be a boolean tensor", "numeric conditions"),
    # Reductions take dim=None (all dims) and keepdim without a dim everywhere,
    # not only where PyTorch's overloads happen to allow them.
    (r"(sum|mean|nansum|prod|max|min|median|logsumexp|squeeze)(\..*)?",
     (r"got \(Tensor, (dtype=[\w.]+, )?(keepdim=bool|NoneType|dim=NoneType)"
      r"|'dim'.* not NoneType|required positional arguments: \"dim\""),
     "dim=None, keepdim alone"),
    # correction=None is the default, so it goes with unbiased=... too.
    (r"(var|std)(_mean)?", r"correction=NoneType", "correction=None"),
    # allclose/isclose compare after type promotion, as every binary op does.
    (r"(allclose|isclose)", r"did not match", "promotion"),
    # zeros(), ones(), rand() ... with no sizes make a 0-d tensor, like zeros(()).
    (r"(zeros|ones|empty|rand|randn)(\..*)?",
     r"required positional arguments: \"size\"|got \(\)", "no sizes: 0-d"),
    # permute(x, 0) and flip(x, 0) take one dim as an int, as x.permute(0) does.
    (r"(permute|flip)(\..*)?", r"'dims' .*must be tuple of ints, not int", "one dim"),
    # Reflect/replicate/circular padding pads the last dims of a tensor of any
    # rank, and an empty pad is a no-op; PyTorch wants 2-d to 5-d inputs.
    (r"pad", r"Padding size \d+ is not supported|Only 2D, 3D, 4D, 5D padding",
     "any rank"),
    # Assigned values are cast to the tensor's dtype, also through advanced
    # indices (PyTorch casts only for basic ones), and a 0-d bool mask works in
    # index_put as in x[mask].
    (r"(setitem|index_put)",
     (r"Index put requires the source and destination dtypes match"
      r"|too many indices for tensor of dimension 0"), "values cast"),
    # int32 index tensors work wherever int64 ones do.
    (r"(index_fill|one_hot|take_along_dim).*",
     (r"Expected dtype int64 for index|dtype of indices should be Long"
      r"|only applicable to index tensor of type LongTensor"), "int32 indices"),
    # An explicit None means the default, as for any Python keyword:
    # randint_like(x, 5, None) is randint_like(x, 5), bernoulli(x, None) is
    # bernoulli(x).
    (r"(randint_like|bernoulli).*", r"got \(Tensor, (int, )?NoneType\)",
     "None is the default"),
    # clamp mixes a number and a tensor bound (PyTorch wants both alike).
    (r"clamp.*", (r"invalid combination of arguments - got \(Tensor, "
                  r"(int|float|bool|Tensor), (int|float|bool|Tensor)\)"),
     "mixed bounds"),
    # torch.logsumexp over dim=() of an integer tensor fails inside PyTorch, and
    # index_put with a 0-d mask on a 1-d tensor trips an internal assert.
    (r"logsumexp", r"doesn't match the broadcast shape", "a PyTorch bug"),
    (r".*", r"INTERNAL ASSERT FAILED", "a PyTorch bug"),
]


def allowed(entry, terr, args):
    """Is PyTorch's error ``terr`` one of the deliberate differences?"""
    msg = str(terr)
    for pattern, regex, _why, *when in ALLOWED:
        if re.fullmatch(pattern, entry.label) and re.search(regex, msg) and (
                not when or when[0](args)):
            return True
    return False


# -- comparing --------------------------------------------------------------------
ACCEPT = {TypeError: (TypeError,), ValueError: (ValueError,),
          IndexError: (IndexError,), RuntimeError: (RuntimeError, ValueError)}
BUILTINS = (ValueError, TypeError, IndexError, RuntimeError)


def accepted_classes(terr):
    for cls, ok in ACCEPT.items():
        if isinstance(terr, cls):
            return ok
    return BUILTINS


def leaves(out):
    if isinstance(out, (tuple, list)):  # (torch.Size too: compared as ints)
        return [leaf for o in out for leaf in leaves(o)]
    return [out]


def compare(entry, cout, tout, where):
    cl, tl = leaves(cout), leaves(tout)
    assert len(cl) == len(tl), f"{where}: {len(cl)} outputs, torch has {len(tl)}"
    for i, (c, t) in enumerate(zip(cl, tl)):
        what = f"{where}: output {i}"
        if isinstance(t, torch.Tensor):
            assert isinstance(c, cr.Tensor), f"{what}: {type(c).__name__}, not a Tensor"
            assert tuple(c.shape) == tuple(t.shape), \
                f"{what}: shape {list(c.shape)}, torch {list(t.shape)}"
            td = str(t.dtype).split(".")[-1]
            assert c.dtype.name == td, f"{what}: dtype {c.dtype.name}, torch {td}"
            if entry.random:
                continue
            a, e = c.detach().numpy(), t.detach().numpy()
            if e.dtype.kind == "f":
                rtol = entry.rtol or (1e-4 if e.dtype == np.float32 else 1e-9)
                np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol, equal_nan=True,
                                           err_msg=what)
            else:
                np.testing.assert_array_equal(a, e, err_msg=what)
        elif isinstance(t, float):
            assert isinstance(c, (int, float)) and (
                math.isclose(c, t, rel_tol=entry.rtol or 1e-4, abs_tol=1e-6)
                or math.isnan(c) and math.isnan(t)), f"{what}: {c!r} != torch {t!r}"
        else:
            assert type(c) is type(t) and c == t, f"{what}: {c!r} != torch {t!r}"


def call(entry, m, fn, args, kw):
    return resolve(m, fn, materialise(args, m), materialise(kw, m))


def check(entry, args, kw, bad=False):
    """One call in both frameworks.  ``bad``: a wrong-typed value was drawn;
    chainrule may then report it (a TypeError) though PyTorch reported
    another invalid argument first."""
    where = f"{entry.label}{tuple(args)}{kw or ''}"
    terr = tout = None
    if entry.ref is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                tout = call(entry, torch, entry.ref, args, kw)
            except Exception as e:  # noqa: BLE001  (any PyTorch error is a verdict)
                terr = e
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            cout = call(entry, cr, entry.call, args, kw)
        except cr.ChainruleError as e:
            msg = str(e)
            assert isinstance(e, BUILTINS), f"{where}: {type(e).__name__} is not a " \
                "ValueError, TypeError, IndexError or RuntimeError"
            assert any(n in msg for n in entry.names), \
                f"{where}: message does not name {entry.names}: {msg}"
            if terr is not None and not allowed(entry, terr, args) and not (
                    bad and isinstance(e, TypeError)):
                ok = accepted_classes(terr)
                if entry.accept and isinstance(terr, entry.accept):
                    ok = entry.accept
                assert isinstance(e, ok), (
                    f"{where}: torch raised {type(terr).__name__} ({terr}), chainrule "
                    f"{type(e).__name__}, which is not a "
                    + " or ".join(c.__name__ for c in ok) + f": {msg}")
            return
        except Exception as e:
            raise AssertionError(f"{where}: raw {type(e).__module__}."
                                 f"{type(e).__name__} escaped: {e}") from e
    if entry.ref is None:
        return
    if terr is not None:
        assert allowed(entry, terr, args), (
            f"{where}: torch raised {type(terr).__name__} "
            f"({str(terr).splitlines()[0]}) but chainrule returned a result")
        return
    if entry.loose and entry.loose(args, kw):
        return
    compare(entry, cout, tout, where)


@pytest.mark.parametrize("entry", FUZZ, ids=[e.label for e in FUZZ])
@SETTINGS
@given(data=st.data())
def test_fuzz(entry, data):
    ctx = Ctx(data)
    args = [ctx.draw(a) for a in entry.args]
    kw = {}
    for k, spec in entry.kw.items():
        v = ctx.draw(spec)
        if v is not OMIT:
            kw[k] = v
    check(entry, args, kw, ctx.bad)


def test_labels_unique():
    labels = [e.label for e in FUZZ]
    assert len(labels) == len(set(labels))


def test_every_public_op_is_fuzzed():
    """Each function the op families export (and ``chainrule.linalg``'s and the
    in-place ops') has at least one entry above."""
    from chainrule.ops import creation, elementwise, index, linalg, reduce, shape

    names = set().union(*(m.__all__ for m in (creation, elementwise, index, linalg,
                                              reduce, shape)))
    names |= {n for n in dir(cr.linalg) if not n.startswith("_")}
    names |= {"setitem", "fill_", "zero_", "copy_"}
    missing = sorted(names - {e.op for e in FUZZ})
    assert not missing, f"public ops without a fuzz entry: {missing}"


# -- regressions: bugs the fuzz found, one call each -----------------------------------
def _zero_div(m):
    return m.tensor([3, 4]) // m.tensor([1, 0])


def _bad_empty_value(m):
    x = m.zeros(0, 0)
    x[[], []] = m.ones(0, 0)  # NumPy takes any empty value for an empty selection
    return x


def _mask_value_leading_ones(m):
    x = m.zeros(4)
    x[m.tensor([True, False, True, False])] = m.ones(1, 2)
    return x


def _empty_int_index_then_ellipsis(m):
    return m.ones(1, 1, 1)[m.zeros(0, 3, dtype=m.int32), ...]


def _none_value(m):
    x = m.zeros(3)
    x[0] = None
    return x


def _hermitian_pinv(m):
    a = m.tensor([[2.0, 5.0], [1.0, 3.0]], dtype=m.float64)
    return m.linalg.pinv(a, hermitian=True)


REGRESSIONS = [
    # (id, op named in errors, fn(m)) -- each runs through check() like a draw
    ("dim_float_not_truncated", "sum", lambda m: m.ones(2, 3).sum(1.5)),
    ("dim_str_not_parsed", "sum", lambda m: m.ones(2, 3).sum("1")),
    ("shape_float_not_truncated", "reshape", lambda m: m.ones(2, 3).reshape(2.0, 3)),
    ("int_division_by_zero", "floor_divide", _zero_div),
    ("trunc_division_by_zero", "div", lambda m: m.div(
        m.tensor([1]), m.tensor([0]), rounding_mode="trunc")),
    ("float_alpha_for_ints", "add", lambda m: m.add(m.tensor([1]), m.tensor([2]),
                                                     alpha=0.5)),
    ("argmax_keepdim_all", "argmax", lambda m: m.argmax(m.ones(2, 3), keepdim=True)),
    ("sum_dtype_int32", "sum", lambda m: m.tensor([1, 2]).sum(dtype=m.int32)),
    ("cumsum_0d_bool", "cumsum", lambda m: m.tensor(True).cumsum(0)),
    ("nansum_int", "nansum", lambda m: m.nansum(m.tensor([1, 2]))),
    ("median_int", "median", lambda m: m.median(m.tensor([3, 1, 2]))),
    ("max_dim_empty", "max", lambda m: m.zeros(0, 3).max(0)),
    ("std_int_names_std", "std", lambda m: m.std(m.tensor([1, 2]))),
    ("fmax_shapes_name_fmax", "fmax", lambda m: m.fmax(m.ones(2), m.ones(3))),
    ("empty_selection_value_shape", "setitem", _bad_empty_value),
    ("ellipsis_after_empty_index", "index", _empty_int_index_then_ellipsis),
    ("setitem_none", "setitem", _none_value),
    ("cat_dtype_with_empty", "cat", lambda m: m.cat(
        [m.ones(2, dtype=m.bool), m.zeros(0)])),
    ("tensor_split_indices", "tensor_split", lambda m: m.tensor_split(
        m.arange(4), [0, 3, 1])),
    ("chunk_empty_dim", "chunk", lambda m: m.zeros(0).chunk(3)),
    ("one_hot_empty", "one_hot", lambda m: m.nn.functional.one_hot(
        m.zeros(0, dtype=m.int64))),
    ("index_add_source_shape", "index_add", lambda m: m.zeros(3, 2).index_add(
        0, m.tensor([0]), m.ones(1, 3))),
    ("lerp_dtypes", "lerp", lambda m: m.lerp(m.ones(2), m.ones(2, dtype=m.float64),
                                             0.5)),
    ("pinv_hermitian_lower", "pinv", _hermitian_pinv),
    ("len_0d", "len", lambda m: len(m.tensor(1.0))),
    ("broadcast_shapes_float", "broadcast_shapes", lambda m: m.broadcast_shapes(
        (2, 1.5))),
    ("matmul_number", "matmul", lambda m: m.ones(2) @ 2),
    # Guards for the fixes rather than old bugs: repeated dims (not drawn),
    # integer 'trunc' division now computed in integers, and assigned values
    # keeping PyTorch's leniency for leading 1s.
    ("repeated_dims", "sum", lambda m: m.ones(2, 3).sum((0, -2))),
    ("trunc_division_exact", "div", lambda m: m.div(
        m.tensor([-7, 7, -8]), m.tensor([2, -2, 2]), rounding_mode="trunc")),
    ("mask_value_leading_ones", "setitem", _mask_value_leading_ones),
]


@pytest.mark.parametrize("op,fn", [r[1:] for r in REGRESSIONS],
                         ids=[r[0] for r in REGRESSIONS])
def test_regression(op, fn):
    check(F(op, lambda m: fn(m), names=(op,)), [], {})
