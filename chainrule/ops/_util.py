"""Argument helpers shared by the op families: lifting, promotion, dims."""
import operator
import os
import sys

import numpy as np

from .._dtype import as_dtype, get_default_dtype, result_type
from ..errors import ArgumentError, ChainruleError, DTypeError, IndexOutOfRange
from ..tensor import Tensor, _dim, _to_array
from ._core import apply, primitive
from ._core import _cast_aval


def _cast_fwd(x, dtype):
    return x.astype(dtype, copy=False)


to_dtype_p = primitive(
    "to_dtype", _cast_fwd,
    vjp=lambda n, g: (to_dtype(g, n.metas[0][1]),),
    jvp=lambda c, t: to_dtype(t[0], c.params["dtype"]),
    saves=(),
    kind="unary", abstract=_cast_aval, params=("dtype",),
)


def to_dtype(x, dtype):
    """Cast to a NumPy dtype (differentiable between float dtypes)."""
    if x._data.dtype == dtype:
        return x
    return apply(to_dtype_p, x, dtype=np.dtype(dtype))


_OPS_DIR = os.path.dirname(os.path.abspath(__file__))
_METHODS_FILE = os.path.join(os.path.dirname(_OPS_DIR), "_tensor_methods.py")
_PKG_DIR = os.path.dirname(_OPS_DIR)


def calling_op(default):
    """The op the user called, for errors raised deep inside argument helpers.

    Walks the stack out to the user's code and returns the outermost public
    function of the op layer (``rsub``, not the ``sub`` it calls).  Closures
    made by op factories (``op``, ``method``) are named by their ``name`` or
    their primitive ``p``.  It inspects frames, so only call it on the way to
    raising.
    """
    name, f = default, sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        code = f.f_code
        if code.co_filename.startswith(_OPS_DIR) or code.co_filename == _METHODS_FILE:
            fn = code.co_name
            if fn in ("op", "method"):
                loc = f.f_locals
                fn = loc["name"] if "name" in loc else getattr(loc.get("p"), "name", fn)
            if not fn.startswith(("_", "<")):
                name = fn
        f = f.f_back
    return name


def t_(x, dtype=None):
    """Lift ``x`` (Tensor, number, list, ndarray) to a Tensor, no grad."""
    if isinstance(x, Tensor):
        return x
    if dtype is not None and isinstance(x, (int, float, bool, np.number)):
        return Tensor._make(np.asarray(x, dtype))
    try:
        return Tensor._make(_to_array(x, None, "tensor"))
    except ChainruleError as e:
        raise data_error(x, e, calling_op("tensor")) from None


def data_error(data, err, op):
    """The error for ``data`` that does not convert to a tensor: a TypeError if
    it holds something other than numbers (None, strings ...), else (ragged
    lists) ``err``'s class; the message names ``op``."""
    def numeric(v):
        if isinstance(v, (list, tuple)):
            return all(numeric(u) for u in v)
        if isinstance(v, (np.ndarray, np.generic)):
            return v.dtype.kind in "biuf"
        return isinstance(v, (int, float, Tensor))

    if not numeric(data):
        what = "a number" if not isinstance(data, (list, tuple, np.ndarray)) else \
            "numbers"
        return DTypeError(f"{op}: expected a Tensor or {what}, got "
                          f"{type(data).__name__} {data!r:.60}")
    msg = str(err)
    if msg.startswith("tensor: "):
        msg = msg.removeprefix("tensor: ")
    elif msg.startswith(op + ": "):
        msg = msg.removeprefix(op + ": ")
    cls = type(err) if isinstance(err, ChainruleError) else ArgumentError
    return cls(f"{op}: {msg}")


def dtype_arg(dtype, op=None):
    """The NumPy dtype for a user's ``dtype=`` argument, or an error naming ``op``
    (by default the op the user called)."""
    try:
        return as_dtype(dtype).np
    except DTypeError as e:
        raise DTypeError(f"{op or calling_op('tensor')}: {e}") from None


def lift(x, np_dtype):
    """``x`` as a Tensor of ``np_dtype`` (casting Tensors differentiably)."""
    if isinstance(x, Tensor):
        return x if x._data.dtype == np_dtype else to_dtype(x, np_dtype)
    return Tensor._make(np.asarray(x, np_dtype))


def pair(a, b):
    """Promote two operands (Tensors or numbers) to one common dtype."""
    if (isinstance(a, Tensor) and isinstance(b, Tensor)
            and a._data.dtype == b._data.dtype):
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


def renamed(err, op):
    """``err``, raised for ``op``, reworded to name the op the user called.

    ``std`` checks its dims through ``var``: the message should say ``std``.
    """
    outer = calling_op(op)
    if outer == op:
        return err
    return type(err)(f"{outer}: {str(err).removeprefix(op + ': ')}")


def dims(dim, ndim, op):
    """Normalise ``dim`` (None, int or sequence) to a sorted tuple, or None."""
    if dim is None:
        return None
    try:
        if isinstance(dim, (list, tuple)):
            out = tuple(sorted({_dim(d, ndim, op) for d in dim}))
            if len(out) != len(dim):
                raise ArgumentError(f"{op}: dim {dim} appears multiple times in the "
                                    "list of dims")
            return out
        return (_dim(dim, ndim, op),)
    except ChainruleError as e:
        raise renamed(e, op) from None


def dim1(dim, ndim, op):
    """One normalised dim (negative dims count from the end)."""
    try:
        return _dim(dim, ndim, op)
    except ChainruleError as e:
        raise renamed(e, op) from None


def shape_arg(shape, op):
    """``f(2, 3)`` and ``f((2, 3))`` both mean shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        out = tuple(map(operator.index, shape))  # ints only: not 1.5, not "2"
    except TypeError:
        raise DTypeError(f"{calling_op(op)}: shape must be a sequence of ints, got "
                         f"{shape!r}") from None
    return out


def int_arg(v, name, op):
    """``v`` as an int, or a TypeError naming ``op`` (not 1.5, not "2")."""
    try:
        return operator.index(v)
    except TypeError:
        raise DTypeError(f"{calling_op(op)}: {name} must be an int, got "
                         f"{v!r}") from None


def check_float(x, op):
    if x._data.dtype.kind != "f":
        raise DTypeError(f"{calling_op(op)}: expected a floating-point tensor, got "
                         f"{x._data.dtype}; convert with .float() or .double()")


__all__ = ["to_dtype", "t_", "lift", "pair", "floating", "dims", "dim1",
           "shape_arg", "check_float", "IndexOutOfRange", "calling_op", "dtype_arg",
           "renamed", "int_arg", "data_error"]


def public_names(namespace):
    """``__all__`` for an op family: the functions it defines (not primitives)."""
    mod = namespace["__name__"]
    return [k for k, v in namespace.items()
            if not k.startswith("_") and callable(v) and not isinstance(v, type)
            and getattr(v, "__module__", None) == mod]
