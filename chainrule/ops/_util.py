"""Argument helpers shared by the op families: lifting, promotion, dims."""
import numpy as np

from .._dtype import get_default_dtype, result_type
from ..errors import ArgumentError, DTypeError, IndexOutOfRange
from ..tensor import Tensor, _dim, _to_array
from ._core import apply, primitive


def _cast_fwd(x, dtype):
    return x.astype(dtype, copy=False)


to_dtype_p = primitive(
    "to_dtype", _cast_fwd,
    vjp=lambda n, g: (to_dtype(g, n.metas[0][1]),),
    jvp=lambda c, t: to_dtype(t[0], c.params["dtype"]),
    saves=(),
)


def to_dtype(x, dtype):
    """Cast to a NumPy dtype (differentiable between float dtypes)."""
    if x._data.dtype == dtype:
        return x
    return apply(to_dtype_p, x, dtype=np.dtype(dtype))


def t_(x, dtype=None):
    """Lift ``x`` (Tensor, number, list, ndarray) to a Tensor, no grad."""
    if isinstance(x, Tensor):
        return x
    if dtype is not None and isinstance(x, (int, float, bool, np.number)):
        return Tensor._make(np.asarray(x, dtype))
    return Tensor._make(_to_array(x, None, "tensor"))


def lift(x, np_dtype):
    """``x`` as a Tensor of ``np_dtype`` (casting Tensors differentiably)."""
    if isinstance(x, Tensor):
        return x if x._data.dtype == np_dtype else to_dtype(x, np_dtype)
    return Tensor._make(np.asarray(x, np_dtype))


def pair(a, b):
    """Promote two operands (Tensors or numbers) to one common dtype."""
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.dtype == b._data.dtype:
        return a, b
    if not isinstance(a, (Tensor, int, float, bool, np.number)):
        a = t_(a)
    if not isinstance(b, (Tensor, int, float, bool, np.number)):
        b = t_(b)
    dt = result_type(a, b).np
    return lift(a, dt), lift(b, dt)


def floating(x):
    """Integer and bool tensors become the default float dtype (like exp(int))."""
    x = t_(x)
    if x._data.dtype.kind != "f":
        return to_dtype(x, get_default_dtype().np)
    return x


def dims(dim, ndim, op):
    """Normalise ``dim`` (None, int or sequence) to a sorted tuple, or None."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        out = tuple(sorted({_dim(d, ndim, op) for d in dim}))
        if len(out) != len(dim):
            raise ArgumentError(f"{op}: dim {dim} appears multiple times in the list "
                                "of dims")
        return out
    return (_dim(dim, ndim, op),)


def dim1(dim, ndim, op):
    """One normalised dim (negative dims count from the end)."""
    return _dim(dim, ndim, op)


def shape_arg(shape, op):
    """``f(2, 3)`` and ``f((2, 3))`` both mean shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        out = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise DTypeError(f"{op}: shape must be ints, got {shape!r}") from None
    return out


def check_float(x, op):
    if x._data.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating-point tensor, got "
                         f"{x._data.dtype}; convert with .float() or .double()")


__all__ = ["to_dtype", "t_", "lift", "pair", "floating", "dims", "dim1",
           "shape_arg", "check_float", "IndexOutOfRange"]


def public_names(namespace):
    """``__all__`` for an op family: the functions it defines (not primitives)."""
    mod = namespace["__name__"]
    return [k for k, v in namespace.items()
            if not k.startswith("_") and callable(v) and not isinstance(v, type)
            and getattr(v, "__module__", None) == mod]
