"""Dtypes and PyTorch's type-promotion rules.

chainrule supports five dtypes: ``bool``, ``int32``, ``int64``, ``float32``
(the default) and ``float64``.  Each is a :class:`DType` wrapping a NumPy
dtype; tensors store plain ndarrays and look their DType up by NumPy dtype.
"""
import numpy as np

from .errors import DTypeError


class DType:
    """A chainrule dtype: ``chainrule.float32`` and friends."""

    __slots__ = ("name", "np", "category", "rank")

    def __init__(self, name, np_dtype, category, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        # 0 bool, 1 integer, 2 floating: PyTorch's promotion categories.
        self.category = category
        self.rank = rank

    @property
    def is_floating_point(self):
        return self.category == 2

    @property
    def itemsize(self):
        return self.np.itemsize

    def __repr__(self):
        return "chainrule." + self.name

    def __reduce__(self):
        return (as_dtype, (self.name,))


bool_ = DType("bool", np.bool_, 0, 0)
int32 = DType("int32", np.int32, 1, 1)
int64 = DType("int64", np.int64, 1, 2)
float32 = DType("float32", np.float32, 2, 3)
float64 = DType("float64", np.float64, 2, 4)

ALL = (bool_, int32, int64, float32, float64)
_BY_RANK = ALL
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(float=float32, double=float64, long=int64, int=int32)

_default_float = float32


def get_default_dtype():
    """The dtype of new floating-point tensors (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype):
    """Set the dtype of new floating-point tensors: float32 or float64."""
    global _default_float
    dtype = as_dtype(dtype)
    if not dtype.is_floating_point:
        raise DTypeError(
            f"set_default_dtype: only floating-point dtypes are valid, got {dtype}"
        )
    _default_float = dtype


def as_dtype(dtype):
    """Accept a DType, a NumPy dtype, a name or a Python type; return a DType."""
    if isinstance(dtype, DType):
        return dtype
    if dtype is float:
        return _default_float
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    if isinstance(dtype, str) and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    try:
        return _BY_NP[np.dtype(dtype)]
    except (TypeError, KeyError):
        pass
    raise DTypeError(
        f"unsupported dtype {dtype!r}; valid dtypes are "
        + ", ".join(repr(d) for d in ALL)
    )


def from_numpy_dtype(np_dtype, op="tensor"):
    """The DType of an ndarray, or a clear error for dtypes chainrule lacks."""
    d = _BY_NP.get(np_dtype)
    if d is None:
        raise DTypeError(
            f"{op}: NumPy dtype {np_dtype} is not supported; valid dtypes are "
            + ", ".join(d.name for d in ALL)
        )
    return d


def promote_types(a, b):
    """The smallest dtype both ``a`` and ``b`` cast to (PyTorch's table)."""
    return a if a.rank >= b.rank else b


def scalar_dtype(value):
    """The dtype a Python scalar stands for when it meets no tensor."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return _default_float


def result_type(*operands):
    """PyTorch's promotion: dimensioned tensors > zero-dim tensors > scalars.

    A higher *category* (bool < integer < floating) always wins; within the
    winning category, the most prominent operand group decides the width.
    ``operands`` are Tensors or Python numbers.
    """
    dim_t = zero_t = scal = None
    for x in operands:
        data = getattr(x, "_data", None)
        if data is None:
            d = scalar_dtype(x)
            if scal is None or d.category > scal.category:
                scal = d
        else:
            d = _BY_NP[data.dtype]
            if data.ndim:
                dim_t = d if dim_t is None else promote_types(dim_t, d)
            else:
                zero_t = d if zero_t is None else promote_types(zero_t, d)
    out = dim_t
    if zero_t is not None and (out is None or zero_t.category > out.category):
        out = zero_t
    if scal is not None and (out is None or scal.category > out.category):
        out = scal
    return out
