"""Lazy tensors: placeholders for values autobatch has recorded but not computed.

A :class:`LazyTensor` is a :class:`~chainrule.Tensor` whose value is output
``_k`` of a recorded :class:`Node`.  It answers shape and dtype questions
from the node's abstract value, so user code that branches on shapes runs
without computing anything.  Reading its value (``.item()``, ``bool()``,
``.numpy()``, printing, the integer data of an index) asks the recorder to
evaluate it first; once evaluated it turns into an ordinary Tensor in place.
"""
import numpy as np

from .._dtype import from_numpy_dtype
from ..ops._core import PRIMITIVES, apply
from ..ops.shape import _split_plan
from ..tensor import Tensor

_SPLIT_COPY = PRIMITIVES["split_copy"]


class Node:
    """One recorded primitive call of one example.

    ``inputs``: per operand either ``(node, k)`` (output k of a lazy node) or
    a concrete Tensor.  ``avals``: the outputs' ``(shape, dtype)``.  ``sig``:
    what must match for two nodes to run as one batched call.  ``depth``: 1 +
    the deepest pending node it reads, so nodes of equal depth are
    independent.  ``val``: after evaluation, per output ``(B, row)`` -- the
    value is ``B[row]`` (``row`` None: ``B`` itself).
    """

    __slots__ = ("prim", "params", "inputs", "avals", "sig", "depth", "val", "grad")

    def __init__(self, prim, params, inputs, avals, sig, depth, grad):
        self.prim = prim
        self.params = params
        self.inputs = inputs
        self.avals = avals
        self.sig = sig
        self.depth = depth
        self.grad = grad
        self.val = None


_PLACEHOLDERS = {}  # (shape, dtype) -> a read-only zero-strided array of it

_FORWARDED = ("item", "tolist", "numpy", "__array__", "__float__", "__int__",
              "__bool__", "__index__", "__repr__", "__str__", "__format__",
              "backward", "register_hook", "retain_grad", "detach", "__getstate__",
              "__deepcopy__")


class LazyTensor(Tensor):
    """Output ``_k`` of the recorded node ``_node``; see the module docstring.

    Instance attributes: ``_node``, ``_k``, ``_rec`` (the recorder), ``_aval``
    (``(shape, numpy dtype)``), ``_rg`` (whether the value will require grad)
    and, for floating-point values, ``_data``: a read-only zero-strided
    placeholder of the right shape and dtype, so that metadata reads (ndim,
    size, dtype) inside op wrappers cost a dict lookup and compute nothing.
    """

    @property
    def _vc(self):
        return [0]

    @property
    def shape(self):
        return self._aval[0]

    @property
    def ndim(self):
        return len(self._aval[0])

    def dim(self):
        return len(self._aval[0])

    @property
    def dtype(self):
        return from_numpy_dtype(self._aval[1])

    def size(self, dim=None):
        shape = self._aval[0]
        return shape if dim is None else shape[dim]

    def numel(self):
        return int(np.prod(self._aval[0]))

    def __len__(self):
        if not self._aval[0]:
            raise TypeError("len() of a 0-d tensor")
        return self._aval[0][0]

    def is_floating_point(self):
        return self._aval[1].kind == "f"

    def split(self, split_size_or_sections, dim=0):
        """:func:`chainrule.split` as one ``split_copy`` node instead of a
        view per chunk: a recorded tensor has no storage to view into (and
        refuses in-place writes), so copies behave the same, and recording
        one call instead of several is what the chunks of an LSTM's gates
        cost."""
        d, sizes = _split_plan(self, split_size_or_sections, dim)
        return apply(_SPLIT_COPY, self, axis=d, sizes=tuple(sizes), squeeze=False)

    def _force(self):
        """Evaluate (``on_value='force'``) or raise (``'error'``); returns self,
        now an ordinary Tensor."""
        self._rec.need_value(self)
        return self


def _forwarding(name):
    def method(self, *args, **kwargs):
        self._force()
        return getattr(Tensor, name)(self, *args, **kwargs)

    method.__name__ = name
    return method


for _name in _FORWARDED:
    setattr(LazyTensor, _name, _forwarding(_name))


class LazyValue(LazyTensor):
    """A lazy integer or boolean tensor: those are the ones whose values steer
    indexing and control flow, so reading ``_data`` evaluates."""

    @property
    def _data(self):
        return self._force()._data


LAZY = frozenset({LazyTensor, LazyValue})
"""The lazy classes (``t.__class__ in LAZY``: is ``t`` recorded, not computed)."""


def placeholder(aval):
    """The read-only zero-strided array of ``aval = (shape, dtype)``."""
    ph = _PLACEHOLDERS.get(aval)
    if ph is None:
        ph = _PLACEHOLDERS[aval] = np.broadcast_to(np.zeros((), aval[1]), aval[0])
    return ph


def become(lazy, real):
    """Turn ``lazy`` into an ordinary Tensor holding ``real``'s value and
    autograd history (in place, so every reference the user kept sees it)."""
    d = lazy.__dict__
    # Drop the recording: a kept result must not keep the recorder and the
    # whole lazy graph alive (the cyclic collector would walk it again and
    # again).
    del d["_node"], d["_k"], d["_aval"], d["_rec"]
    d["_data"] = real._data
    d["_vc"] = real._vc
    d["_rg"] = real._rg
    d["grad_fn"] = real.grad_fn
    d["_oi"] = real._oi
    d["_base"] = real._base
    d["_view"] = real._view
    lazy.__class__ = Tensor
