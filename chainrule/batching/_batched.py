"""Batched values: a Tensor whose logical shape is one example's.

Under ``vmap`` the function sees per-example shapes, yet the data holds the
whole batch.  A batched value is an ordinary :class:`~chainrule.tensor.Tensor`
whose ``_data`` is a :class:`BatchedData` instead of an ndarray.  It answers
``shape``, ``dtype``, ``ndim`` and ``size`` with the *example's* values (so
``x.shape``, ``x.size(0)``, ``len(x)`` and every composite that reads them
work unchanged), and keeps the physical Tensor (``value``), the axis of
``value`` that runs over the batch (``bdim``) and which vmap owns it
(``level``).

Because the marker lives in ``_data``, any Tensor built around it is batched
too: a tape node's ``out`` (``Tensor._make(node.out_data)``), ``detach()``
and the aliases the transforms make all stay batched without knowing about
vmap.  Reading the values (``.item()``, ``.numpy()``, ``bool(x)``) is an
error: they differ per example.
"""
import math


from ..errors import ChainruleError
from ..tensor import Tensor


class VmapError(ChainruleError, RuntimeError):
    """A function under ``vmap`` did something that has no batched meaning."""


class _Flags:
    c_contiguous = True  # logically every batched value is a fresh array
    writeable = False


class _Probe:
    def __init__(self, shape):
        self.shape = shape


class BatchedData:
    """Stands in for the ndarray of a batched Tensor (see the module doc).

    ``value``: the physical Tensor, shape ``shape[:bdim] + (B,) + shape[bdim:]``;
    ``bdim``: the batch axis of ``value``; ``level``: the owning vmap's id.
    """

    __slots__ = ("value", "bdim", "level", "shape", "dtype")
    base = None
    flags = _Flags()

    def __init__(self, value, bdim, level):
        self.value = value
        self.bdim = bdim
        self.level = level
        s = value._data.shape
        self.shape = s[:bdim] + s[bdim + 1:]
        self.dtype = value._data.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def strides(self):
        st, acc = [], self.dtype.itemsize
        for n in reversed(self.shape):
            st.append(acc)
            acc *= max(n, 1)
        return tuple(reversed(st))

    def view(self):
        # view() probes whether a new shape fits the strides: a batched value
        # is logically contiguous (its rule reshapes the physical data).
        return _Probe(self.shape)

    def copy(self):
        return self  # values are never written in place, so sharing is safe

    def __repr__(self):
        return (f"BatchedData(level={self.level}, bdim={self.bdim}, "
                f"logical shape={list(self.shape)})")

    def __getattr__(self, name):
        if name.startswith("__"):  # protocols (copy, pickle) probe: say "no"
            raise AttributeError(name)
        raise _values_error(name)

    def __array__(self, *args, **kwargs):
        raise _values_error("__array__")


def _values_error(what):
    return VmapError(
        f"vmap: the function reads the values of a batched Tensor ({what}); under "
        "vmap a Tensor stands for one value per example, so .item(), .tolist(), "
        ".numpy(), bool(tensor), Python control flow on values, data-dependent "
        "shapes and in-place writes into a batched Tensor are not supported. Use "
        "tensor ops (e.g. torch.where instead of if) or a Python loop")


_new = object.__new__


def make(value, bdim, level):
    """A batched Tensor of ``value`` (physical) with batch axis ``bdim``."""
    t = _new(Tensor)  # Tensor._make, inlined: once per batched primitive call
    t._data = BatchedData(value, bdim, level)
    t._vc = [0]
    return t


def batched_at(t, level):
    """``(physical value, bdim)`` if ``t`` is batched by vmap ``level``, else
    ``(t, None)``."""
    d = t._data
    if d.__class__ is BatchedData and d.level == level:
        return d.value, d.bdim
    return t, None


def is_batched(t):
    return isinstance(t, Tensor) and t._data.__class__ is BatchedData
