"""Creating tensors: from data, filled, ranges, identity, and random draws.

Random draws take ``generator=`` (default: the global one seeded by
``chainrule.manual_seed``).  All results are leaves.
"""
import numpy as np

from .._device import check_device
from .._dtype import as_dtype, get_default_dtype
from ..errors import ArgumentError, ChainruleError, DTypeError, ShapeError
from ..random import rng
from ..tensor import Tensor, _to_array
from . import _abstract
from ._core import apply, primitive
from ._util import calling_op, data_error, dtype_arg, int_arg, shape_arg


def _leaf(arr, requires_grad):
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dt(dtype, default=None):
    if dtype is None:
        return (default or get_default_dtype()).np
    return dtype_arg(dtype)


def _array(data, dtype, op):
    """``data`` as a new ndarray of ``dtype`` (None: inferred), or an error
    naming ``op`` (the dtype is checked first, as PyTorch does)."""
    if dtype is not None:
        dtype = dtype_arg(dtype, op)
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind not in "biuf":
        raise DTypeError(f"{op}: can't convert an ndarray of dtype {data.dtype}; "
                         "valid dtypes are bool, integers and floats")
    if isinstance(data, (str, bytes)):  # (NumPy would read "abc" as True or 0)
        raise DTypeError(f"{op}: expected a Tensor, numbers or sequences of them, "
                         f"got {type(data).__name__} {data!r:.60}")
    try:
        return _to_array(data, dtype, op)
    except (ChainruleError, ValueError, TypeError) as e:
        raise data_error(data, e, op) from None


def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (lists, numbers, arrays)."""
    check_device(device, "tensor")
    if isinstance(data, Tensor):
        data = data._data
    return _leaf(_array(data, dtype, "tensor"), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with an ndarray when possible."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or
                                         dtype_arg(dtype, "as_tensor") == data.dtype):
        from .._dtype import from_numpy_dtype

        from_numpy_dtype(data.dtype, "as_tensor")
        return Tensor._make(data)
    return Tensor._make(_array(data, dtype, "as_tensor"))


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise DTypeError("from_numpy: expected np.ndarray, got "
                         f"{type(ndarray).__name__}")
    from .._dtype import from_numpy_dtype

    from_numpy_dtype(ndarray.dtype, "from_numpy")
    return Tensor._make(ndarray)


def _filled(fill, shape, dtype, requires_grad, op):
    shape = shape_arg(shape, op)
    if any(s < 0 for s in shape):
        raise ArgumentError(f"{op}: trying to create tensor with negative dimension "
                            f"in shape {list(shape)}")
    return _leaf(fill(shape, dtype), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of the given shape."""
    check_device(device, "zeros")
    return _filled(np.zeros, size, _dt(dtype), requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of the given shape."""
    check_device(device, "ones")
    return _filled(np.ones, size, _dt(dtype), requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor (zeros here, for reproducibility)."""
    check_device(device, "empty")
    return _filled(np.zeros, size, _dt(dtype), requires_grad, "empty")


def _number(v, name, op):
    """``v`` as a Python number (a 0-d tensor counts), or a TypeError."""
    if isinstance(v, Tensor) and v.ndim == 0:
        return v.item()
    if not isinstance(v, (int, float, np.number)):
        raise DTypeError(f"{op}: {name} must be a number, got {type(v).__name__}")
    return v


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it)."""
    check_device(device, "full")
    fill_value = _number(fill_value, "fill_value", "full")
    if dtype is None:
        from .._dtype import scalar_dtype

        dtype = scalar_dtype(fill_value)
    return _filled(lambda s, d: np.full(s, fill_value, d), (size,), _dt(dtype),
                   requires_grad, "full")


def _like(x, dtype):
    return x._data.dtype if dtype is None else dtype_arg(dtype)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    check_device(device, "zeros_like")
    return _leaf(np.zeros(input.shape, _like(input, dtype)), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    check_device(device, "ones_like")
    return _leaf(np.ones(input.shape, _like(input, dtype)), requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    check_device(device, "empty_like")
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    check_device(device, "full_like")
    fill_value = _number(fill_value, "fill_value", "full_like")
    return _leaf(np.full(input.shape, fill_value, _like(input, dtype)), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) in steps of ``step``."""
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    vals = [_number(v, name, "arange") for v, name in
            ((start, "start"), (end, "end"), (step, "step"))]
    if dtype is not None and dtype_arg(dtype, "arange").kind != "f":
        vals = [int(v) for v in vals]  # PyTorch casts to an integer dtype first
    step = vals[2]
    if step == 0:
        raise ArgumentError("arange: step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise ArgumentError(f"arange: upper bound and lower bound inconsistent with "
                            f"step sign (start={vals[0]}, end={vals[1]}, "
                            f"step={vals[2]}); use a step of the other sign")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in vals)
        dtype = "int64" if is_int else get_default_dtype()
    d = _dt(dtype)
    if d.kind == "f":
        n = int(np.ceil((vals[1] - vals[0]) / vals[2]))
        arr = (vals[0] + np.arange(max(n, 0)) * vals[2]).astype(d)
    else:
        arr = np.arange(*vals).astype(d)
    return _leaf(arr, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    check_device(device, "linspace")
    start, end, steps = _spaced(start, end, steps, "linspace")
    return _leaf(np.linspace(start, end, steps).astype(_dt(dtype)), requires_grad)


def _spaced(start, end, steps, op):
    start, end = _number(start, "start", op), _number(end, "end", op)
    steps = int_arg(steps, "steps", op)
    if steps < 0:
        raise ArgumentError(f"{op}: number of steps must be non-negative, got {steps}")
    return start, end, steps


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False):
    start, end, steps = _spaced(start, end, steps, "logspace")
    base = _number(base, "base", "logspace")
    d = _dt(dtype)
    exps = np.linspace(start, end, steps)
    if d.kind != "f":  # integer dtypes: integer exponents, as PyTorch
        exps = exps.astype(d)
    return _leaf((base ** exps).astype(d), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """An n x m identity matrix."""
    check_device(device, "eye")
    n = int_arg(n, "n", "eye")
    m = n if m is None else int_arg(m, "m", "eye")
    if n < 0 or m < 0:
        raise ArgumentError(f"eye: n and m must be non-negative, got n={n}, m={m}")
    return _leaf(np.eye(n, m, dtype=_dt(dtype)), requires_grad)


# -- random draws: primitives without inputs, so tracing sees them ---------------------
def _draw(kind, shape, dtype, generator, **kw):
    return apply(_RANDOM[kind], shape=shape, dtype=dtype, gen=rng(generator), **kw)


def _rand_fwd(shape, dtype, gen):
    return gen.random(shape, dtype=np.float64).astype(dtype)


def _randn_fwd(shape, dtype, gen):
    return gen.standard_normal(shape).astype(dtype)


def _randint_fwd(shape, dtype, gen, low, high):
    return gen.integers(low, high, shape).astype(dtype)


def _randperm_fwd(shape, dtype, gen):
    return gen.permutation(shape[0]).astype(dtype)


_DRAW = ("shape", "dtype", "gen")  # what every draw takes; randint adds bounds
_RANDOM = {
    "rand": primitive("rand", _rand_fwd, kind="creation",
                      abstract=_abstract.draw_aval, params=_DRAW),
    "randn": primitive("randn", _randn_fwd, kind="creation",
                       abstract=_abstract.draw_aval, params=_DRAW),
    "randint": primitive("randint", _randint_fwd, kind="creation",
                         abstract=_abstract.draw_aval, params=_DRAW + ("low", "high")),
    "randperm": primitive("randperm", _randperm_fwd, kind="creation",
                          abstract=_abstract.randperm_aval, params=_DRAW),
}


def _float_dt(dtype, op):
    """A floating dtype for continuous draws (integers would be all zeros)."""
    d = _dt(dtype)
    if d.kind != "f":
        raise DTypeError(f"{calling_op(op)}: samples need a floating-point dtype, "
                         f"got {d}")
    return d


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    check_device(device, "rand")
    shape = shape_arg(size, "rand")
    t = _draw("rand", shape, _float_dt(dtype, "rand"), generator)
    return t.requires_grad_(True) if requires_grad else t


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    check_device(device, "randn")
    shape = shape_arg(size, "randn")
    t = _draw("randn", shape, _float_dt(dtype, "randn"), generator)
    return t.requires_grad_(True) if requires_grad else t


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high); ``randint(high, size)`` means low = 0."""
    check_device(device, "randint")
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise ArgumentError("randint: expected randint(low=0, high, size)")
    op = calling_op("randint")
    size = shape_arg((size,), op)
    low, high = int_arg(low, "low", op), int_arg(high, "high", op)
    d = _dt(dtype, as_dtype("int64"))
    if high <= low:
        raise ArgumentError(f"{op}: expects 'from' ({low}) to be less than 'to' "
                            f"({high})")
    if d.kind in "biu":
        info = np.iinfo(d) if d.kind != "b" else None
        lo, hi = (0, 1) if info is None else (info.min, info.max)
        if low < lo or high - 1 > hi:
            raise ArgumentError(f"{op}: [{low}, {high}) is out of bounds for {d}")
    return _draw("randint", size, d, generator, low=low, high=high)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1."""
    check_device(device, "randperm")
    n = int_arg(n, "n", "randperm")
    if n < 0:
        raise ArgumentError(f"randperm: n must be non-negative, got {n}")
    return _draw("randperm", (n,), _dt(dtype, as_dtype("int64")), generator)


def rand_like(input, *, dtype=None, generator=None):
    return rand(input.shape, dtype=_like(input, dtype), generator=generator)


def randn_like(input, *, dtype=None, generator=None):
    return randn(input.shape, dtype=_like(input, dtype), generator=generator)


def randint_like(input, low, high=None, *, dtype=None, generator=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=_like(input, dtype),
                   generator=generator)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None):
    """Normal samples: ``mean``/``std`` may be numbers (with ``size``) or tensors."""
    for name, v in (("mean", mean), ("std", std)):
        if isinstance(v, Tensor):
            if v._data.dtype.kind != "f":
                raise DTypeError(f"normal: {name} must be a floating-point tensor, "
                                 f"got {v._data.dtype}")
        else:
            _number(v, name, "normal")
    tensors = isinstance(mean, Tensor) or isinstance(std, Tensor)
    if not tensors:
        if size is None:
            raise ArgumentError("normal: size is required when mean and std are "
                                "numbers")
        size = shape_arg((size,), "normal")
    if np.any(np.asarray(std._data if isinstance(std, Tensor) else std) < 0):
        raise ArgumentError("normal: std must be >= 0")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        from .shape import broadcast_shapes

        m = mean if isinstance(mean, Tensor) else None
        s = std if isinstance(std, Tensor) else None
        shape = broadcast_shapes(*(x.shape for x in (m, s) if x is not None))
        ref = m if m is not None else s
        z = randn(shape, generator=generator, dtype=ref.dtype)
        return (z * std + mean).detach().to(ref.dtype)
    return randn(size, generator=generator, dtype=dtype) * std + mean


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples with probabilities ``input`` (or the constant ``p``), in
    ``input``'s dtype."""
    from ._util import t_

    x = t_(input)
    if p is not None and not 0 <= _number(p, "p", "bernoulli") <= 1:
        raise ArgumentError(f"bernoulli: p must lie in [0, 1], got {p}")
    u = rand(x.shape, generator=generator, dtype=np.float64)
    return apply(bernoulli_p, x, u, p=None if p is None else float(p))


def _bernoulli_fwd(x, u, p):
    """1 where the uniform draw ``u`` is below the probability, in x's dtype;
    the probabilities are checked here, on every call."""
    probs = x.astype(np.float64) if p is None else p
    if p is None and np.any((probs < 0) | (probs > 1)):
        raise ArgumentError("bernoulli: probabilities must lie in [0, 1]")
    return (u < probs).astype(x.dtype)


bernoulli_p = primitive("bernoulli_threshold", _bernoulli_fwd, kind="other",
                        abstract=lambda x, u, p: (x,), params=("p",))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices sampled from the rows of the (unnormalised) probabilities ``input``."""
    from ._util import t_

    input = t_(input)
    num_samples = int_arg(num_samples, "num_samples", "multinomial")
    if input._data.dtype.kind != "f":
        raise DTypeError(f"multinomial: probabilities must be floating point, got "
                         f"{input._data.dtype}")
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ShapeError(f"multinomial: probabilities must be a non-empty 1-d or 2-d "
                         f"tensor, got shape {list(input.shape)}")
    if num_samples <= 0:
        raise ArgumentError(f"multinomial: cannot sample {num_samples} <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise ArgumentError(f"multinomial: cannot sample {num_samples} > "
                            f"{input.shape[-1]} categories without replacement")
    p = input._data.astype(np.float64)
    g = rng(generator)
    rows = p.reshape(-1, p.shape[-1])
    out = []
    for r in rows:
        if np.any(r < 0) or r.sum() <= 0:
            raise ArgumentError("multinomial: probabilities must be non-negative with "
                                "a positive sum")
        if not replacement and num_samples > np.count_nonzero(r):
            raise ArgumentError("multinomial: cannot sample n_sample > prob_dist.size "
                                "samples without replacement")
        out.append(g.choice(len(r), num_samples, replace=replacement, p=r / r.sum()))
    arr = np.array(out, np.int64).reshape(p.shape[:-1] + (num_samples,))
    return Tensor._make(arr)


from ._util import public_names as _public  # noqa: E402

__all__ = _public(globals())
