"""The row type of the op table (``tests/op_db.py``) and its input generators.

An :class:`Op` row names one way of calling one op and gives the inputs to
call it on.  Its ``fn(m, *inputs)`` is written once for both frameworks: the
tests call it with ``m = chainrule`` and chainrule tensors, and with
``m = torch`` and torch tensors holding the same values.  A row that must
spell the PyTorch side differently gives ``ref`` as well.

Each sample is a tuple of argument specs:

- a shape tuple: a random floating input of the row's dtype (differentiable);
- ``Const(array)``: a fixed tensor that takes no gradient (indices, masks);
- ``Fixed(array)``: a differentiable floating input with these exact values
  (ties, zeros, values at which a derivative is delicate);
- ``Gen(f)``: a differentiable floating input ``f(rng)`` (structured matrices).
"""
import dataclasses
from typing import Callable

import numpy as np

F32, F64 = np.float32, np.float64
FLOATS = (F32, F64)


@dataclasses.dataclass(frozen=True)
class Const:
    """A fixed, non-differentiable tensor argument (ints, bools or floats)."""

    value: object

    def __repr__(self):
        a = np.asarray(self.value)
        return f"Const({a.dtype}{list(a.shape)})"


@dataclasses.dataclass(frozen=True)
class Fixed:
    """A differentiable floating argument with fixed values."""

    value: object

    def __repr__(self):
        return f"Fixed{list(np.shape(self.value))}"


@dataclasses.dataclass(frozen=True)
class Gen:
    """A differentiable floating argument drawn by ``make(rng)``."""

    make: Callable
    label: str = "gen"

    def __repr__(self):
        return self.label


@dataclasses.dataclass
class Op:
    """One row: an op called one way, its samples and what to check.

    ``domain``: ``(lo, hi)`` draws inputs uniformly there (default: standard
    normal); ``"pos"`` and ``"nonzero"`` keep away from 0.  ``grad``: compare
    gradients with torch; ``fd``: finite differences in float64; ``gradgrad``:
    compare grad of grad with torch.  ``rtol``/``atol`` override the float32
    tolerances.
    """

    name: str
    fn: Callable
    samples: list
    ref: Callable = None
    domain: object = None
    dtypes: tuple = FLOATS
    grad: bool = True
    fd: bool = True
    gradgrad: bool = False
    rtol: float = None
    atol: float = None

    def __post_init__(self):
        if self.ref is None:
            self.ref = self.fn
        if not self.dtypes:
            raise ValueError(f"{self.name}: no dtypes")

    @property
    def floating(self):
        return self.dtypes != (None,)


def draw(spec, dtype, domain, rng):
    """The ndarray for one argument spec, and whether it takes a gradient."""
    if isinstance(spec, Const):
        return np.array(spec.value), False
    if isinstance(spec, Fixed):
        return np.array(spec.value, dtype=dtype), True
    if isinstance(spec, Gen):
        return np.asarray(spec.make(rng), dtype=dtype), True
    shape = tuple(spec)
    if domain is None:
        a = rng.standard_normal(shape)
    elif domain == "pos":
        a = rng.uniform(0.5, 2.0, shape)
    elif domain == "nonzero":
        a = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    else:
        lo, hi = domain
        a = rng.uniform(lo, hi, shape)
    return np.asarray(a, dtype=dtype), True


# -- structured inputs for linear algebra ------------------------------------------
def well_conditioned(*shape):
    """Square matrices ``randn + n I``: far from singular."""
    n = shape[-1]

    def make(rng):
        return rng.standard_normal(shape) * 0.5 + n * np.eye(n)

    return Gen(make, f"wellcond{list(shape)}")


def symmetric_separated(*shape):
    """x with ``x + x^T`` symmetric and eigenvalues at least ~1 apart."""
    n = shape[-1]

    def make(rng):
        q, _ = np.linalg.qr(rng.standard_normal(shape))
        lam = np.arange(n, dtype=np.float64) * 1.5 - n / 2 + rng.uniform(0, 0.3, n)
        a = q @ (lam[:, None] * np.swapaxes(q, -1, -2))
        return a / 2

    return Gen(make, f"sym{list(shape)}")


def separated_singular(*shape):
    """Matrices whose singular values are well apart (and away from 0)."""
    m, n = shape[-2:]
    k = min(m, n)

    def make(rng):
        u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, m)))
        v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, n)))
        s = np.zeros(shape)
        s[..., np.arange(k), np.arange(k)] = 3.0 - np.arange(k) + rng.uniform(0, .3, k)
        return u @ s @ v

    return Gen(make, f"svd{list(shape)}")


def spd_factor(*shape):
    """x for which ``x @ x^T + I`` is safely positive definite."""
    return Gen(lambda rng: rng.standard_normal(shape), f"spd{list(shape)}")


def triangular(*shape):
    """Matrices with a dominant diagonal, so either triangle is well conditioned."""
    n = shape[-1]

    def make(rng):
        diag = 1.5 + rng.uniform(0, 1, shape[:-1])
        return rng.standard_normal(shape) * 0.3 + diag[..., None] * np.eye(n)

    return Gen(make, f"tri{list(shape)}")


# -- common sample lists ------------------------------------------------------------
UNARY = [((),), ((1,),), ((4,),), ((2, 3),), ((2, 1, 3),)]
BINARY = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)),
          ((3, 1), ()), ((1,), (1,)), ((), ())]
