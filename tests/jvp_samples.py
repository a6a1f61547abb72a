"""One row per differentiable primitive: where to check its jvp rule.

``tests/test_forward_ad.py`` runs every row three ways: forward mode against
reverse mode (the dot-product test ``<u, J v> == <J^T u, v>``), forward mode
against central differences, and second order (forward-over-reverse against
reverse-over-reverse).  Every primitive of ``chainrule.ops.PRIMITIVES`` with
a vjp needs a row, so a new primitive without one fails
``test_every_differentiable_primitive_has_a_sample``, naming it.

Where to add a row: here, or -- for a primitive whose tests live elsewhere
(conv, pooling...) -- in a top-level dict ``JVP_SAMPLES = {name: Sample(...)}``
in any ``tests/test_*.py`` module.  :func:`all_samples` finds such modules by
a text search and imports them, so their rows count however the tests are run.

A row calls the primitive directly: ``prim(*inputs, **params)`` (or
``call(prim, *inputs)``).  Argument specs: a shape tuple is a standard-normal
float64 input; ``U(lo, hi, shape)`` a uniform one; ``Gen(f)`` an input
``f(rng)``; ``Const(array)`` a fixed input that gets no tangent (indices,
masks).  ``sym`` lists inputs whose tangents are symmetrised (for ops that
read one triangle of a symmetric matrix).
"""
import dataclasses
import importlib
import pathlib
from typing import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class U:
    lo: float
    hi: float
    shape: tuple


@dataclasses.dataclass(frozen=True)
class Gen:
    make: Callable


@dataclasses.dataclass(frozen=True)
class Const:
    value: object


@dataclasses.dataclass
class Sample:
    args: tuple
    params: dict = dataclasses.field(default_factory=dict)
    call: Callable = None
    sym: tuple = ()
    fd: bool = True  # finite differences are meaningful here
    rtol: float = 1e-7


def S(*args, call=None, sym=(), fd=True, rtol=1e-7, **params):
    """A row: positional arg specs, keyword params for the primitive."""
    return Sample(args, params, call, sym, fd, rtol)


def draw(spec, rng):
    """(array, differentiable?) for one arg spec."""
    if isinstance(spec, Const):
        return np.asarray(spec.value), False
    if isinstance(spec, U):
        return rng.uniform(spec.lo, spec.hi, spec.shape), True
    if isinstance(spec, Gen):
        return np.asarray(spec.make(rng), np.float64), True
    return rng.standard_normal(spec), True


def _spd(rng, n=3):
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


def _wellcond(rng, n=3):
    return rng.standard_normal((n, n)) + 3 * np.eye(n)


def _lower(rng, n=3):
    return np.tril(rng.standard_normal((n, n))) + 3 * np.eye(n)


def _sym(rng, n=3):
    a = rng.standard_normal((n, n))
    return a + a.T


def _custom_exp(prim, x):
    from tests.test_custom_function import ExpFn

    return ExpFn.apply(x)


POS = (0.5, 2.0)
GEOM = dict(kernel=(2, 2), dilation=(1, 1), padding=(1, 0, 0, 1), stride=(1, 1),
            windows=(3, 3), size=(3, 3))
POOL_IDX = np.array([[[[0, 4], [4, 3]], [[1, 1], [7, 2]]]])  # repeats: scatter adds

SAMPLES = {
    # -- elementwise -------------------------------------------------------------
    "to_dtype": S((2, 3), dtype=np.dtype(np.float32), rtol=1e-5, fd=False),
    "add": S((2, 3), (3,)),
    "sub": S((2, 3), (3,)),
    "mul": S((2, 3), (3,)),
    "div": S((2, 3), U(*POS, (3,))),
    "neg": S((3,)),
    "pow": S(U(*POS, (2, 3)), (3,)),
    "pow_scalar": S(U(*POS, (2, 3)), exponent=2.5),
    "floor_divide": S((3,), U(*POS, (3,))),
    "remainder": S((2, 3), U(*POS, (3,))),
    "fmod": S((2, 3), U(*POS, (3,))),
    "exp": S((2, 3)),
    "expm1": S((2, 3)),
    "exp2": S((2, 3)),
    "log": S(U(*POS, (2, 3))),
    "log2": S(U(*POS, (2, 3))),
    "log10": S(U(*POS, (2, 3))),
    "log1p": S(U(*POS, (2, 3))),
    "sin": S((2, 3)),
    "cos": S((2, 3)),
    "tan": S(U(-1, 1, (2, 3))),
    "asin": S(U(-0.9, 0.9, (2, 3))),
    "acos": S(U(-0.9, 0.9, (2, 3))),
    "atan": S((2, 3)),
    "sinh": S((2, 3)),
    "cosh": S((2, 3)),
    "tanh": S((2, 3)),
    "asinh": S((2, 3)),
    "acosh": S(U(1.5, 3, (2, 3))),
    "atanh": S(U(-0.9, 0.9, (2, 3))),
    "sqrt": S(U(*POS, (2, 3))),
    "rsqrt": S(U(*POS, (2, 3))),
    "reciprocal": S(U(*POS, (2, 3))),
    "sigmoid": S((2, 3)),
    "erf": S((2, 3)),
    "abs": S((2, 3)),
    "sign": S((2, 3)),
    "floor": S((2, 3)),
    "ceil": S((2, 3)),
    "trunc": S((2, 3)),
    "round": S((2, 3), decimals=0),
    "relu": S((2, 3)),
    "clamp": S((2, 3), lo=-0.5, hi=0.5),
    "maximum": S((2, 3), (3,)),
    "minimum": S((2, 3), (3,)),
    "atan2": S((2, 3), (3,)),
    "where": S(Const(np.array([[True, False, True], [False, False, True]])),
               (2, 3), (3,)),
    # -- reductions -----------------------------------------------------------------
    "sum": S((2, 3), axis=(1,), keepdim=False),
    "sum_to": S((2, 3), shape=(1, 3)),
    "prod": S((2, 3), axis=(1,), keepdim=False),
    "amax": S((2, 3), axis=(1,), keepdim=True),
    "amin": S((2, 3), axis=None, keepdim=False),
    "cumsum": S((2, 3), axis=1),
    "cumprod": S(U(*POS, (2, 3)), axis=1),
    "cumprod_backward": S((2, 3), U(*POS, (2, 3)), axis=1),
    # -- shape ------------------------------------------------------------------------
    "reshape": S((2, 3), shape=(3, 2)),
    "expand": S((1, 3), shape=(2, 3)),
    "permute": S((2, 3, 4), axes=(2, 0, 1)),
    "cat": S((2, 3), (1, 3), axis=0),
    "split_copy": S((4, 3), axis=0, sizes=(1, 3), squeeze=False),
    "flip": S((2, 3), axes=(1,)),
    "roll": S((2, 3), shifts=(1,), axes=(1,)),
    "tril": S((3, 3), k=0),
    "triu": S((3, 3), k=1),
    "diagonal": S((3, 4), offset=1, a1=0, a2=1),
    "diag_embed": S((2, 3), offset=0, a1=1, a2=2, size=3),
    "clone": S((3,)),
    "pad": S((2, 3), widths=((1, 0), (0, 2)), value=0),
    # -- indexing ----------------------------------------------------------------------
    "getitem": S((3, 4), index=(slice(1, 3), np.array([0, 2, 2]))),
    "index_grad": S((2,), shape=(3, 4), index=(slice(0, 2), 1)),
    "index_put": S((3, 4), (2,), index=(np.array([0, 0]), 1), accumulate=True),
    "gather": S((3, 4), Const(np.array([[0, 3], [1, 1], [2, 0]])), dim=1),
    "scatter": S((3, 4), Const(np.array([[0, 1, 2, 0], [1, 2, 0, 2]])), (2, 4),
                 dim=0, reduce=None),
    # -- linear algebra ----------------------------------------------------------------
    "matmul": S((2, 3), (3, 4)),
    "einsum": S((2, 3), (3, 4), ins=["ij", "jk"], out="ik"),
    "inv": S(Gen(_wellcond)),
    "solve": S(Gen(_wellcond), (3, 2)),
    "cholesky": S(Gen(_spd), upper=False, sym=(0,)),
    "solve_triangular": S(Gen(_lower), (3, 2), upper=False, unitriangular=False,
                          fd=False),
    "det": S(Gen(_wellcond)),
    "slogdet": S(Gen(_wellcond)),
    "eigh": S(Gen(_sym), upper=False, sym=(0,)),
    "svd": S((4, 3), full_matrices=False),
    # -- windows (convolution and pooling) ---------------------------------------------
    "unfold": S((1, 2, 3, 3), **GEOM),
    "fold": S((1, 8, 9), **GEOM),
    "pool_gather": S((1, 2, 3, 3), Const(POOL_IDX)),
    "pool_scatter": S((1, 2, 2, 2), Const(POOL_IDX), size=(3, 3)),
    # -- custom autograd.Function ------------------------------------------------------
    "custom_function": S((2, 3), call=_custom_exp),
}


def all_primitives():
    """The op table after importing every module that may register primitives."""
    import pkgutil

    import chainrule as cr
    import chainrule.nn  # noqa: F401

    for pkg in ("chainrule.ops", "chainrule.optim"):
        try:
            mod = importlib.import_module(pkg)
        except ImportError:
            continue
        for info in pkgutil.walk_packages(mod.__path__, pkg + "."):
            importlib.import_module(info.name)
    return cr.ops.PRIMITIVES


def all_samples():
    """This file's rows plus the ``JVP_SAMPLES`` of other test modules."""
    rows = dict(SAMPLES)
    here = pathlib.Path(__file__).parent
    for path in sorted(here.glob("test_*.py")):
        if "JVP_SAMPLES = " in path.read_text():
            mod = importlib.import_module(f"tests.{path.stem}")
            rows.update(getattr(mod, "JVP_SAMPLES", {}))
    return rows
