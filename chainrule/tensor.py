"""The Tensor: an ndarray plus what autograd needs to know about it.

Operators and methods are attached in ``_tensor_methods.py`` once the op
families exist; this file holds only the data model: storage, dtype,
conversion, the autograd attributes and printing.
"""
import operator

import numpy as np

from ._dtype import as_dtype, from_numpy_dtype, get_default_dtype
from .errors import ArgumentError, AutogradError, DTypeError, fmt_shape

_new = object.__new__


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    Attributes read by the dispatcher on every op are plain instance or class
    attributes: ``_data`` (the ndarray), ``_rg`` (requires grad), ``grad_fn``,
    ``_oi`` (which output of ``grad_fn`` this is), ``_vc`` (a one-element list
    shared by all views of one storage: the version counter), ``_base`` and
    ``_view`` (for views: the base tensor and the ops that made the view).
    """

    _rg = False
    grad = None
    grad_fn = None
    _oi = 0
    _base = None
    _view = ()
    _hooks = None
    _post_hooks = None
    _fw = None
    _retains_grad = False
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's operators

    def __init__(self, *args, size=None, device=None, dtype=None,
                 requires_grad=False):
        """PyTorch's legacy constructor: ``Tensor(2, 3)`` or ``Tensor(size=(2,
        3))`` is an uninitialised (here zero) tensor of that shape,
        ``Tensor(data)`` a copy of lists or arrays in the default dtype
        (float32), ``Tensor(t)`` a tensor sharing ``t``'s storage and dtype,
        ``Tensor()`` an empty one.  For data of its own dtype use
        ``chainrule.tensor``.  (``dtype=`` and ``requires_grad=`` are
        chainrule's additions.)"""
        from ._device import check_device

        check_device(device, "Tensor")
        if size is not None:
            if args:
                raise ArgumentError("Tensor: give sizes or size=, not both")
            args = tuple(size) if isinstance(size, (tuple, list)) else (size,)
            sizes = True
        else:
            sizes = bool(args) and all(_is_int(a) for a in args)
        if sizes or not args:
            shape = tuple(int(a) for a in args) if args else (0,)
            if any(n < 0 for n in shape):
                raise ArgumentError(f"Tensor: trying to create tensor with negative "
                                    f"dimension in shape {list(shape)}")
            dt = as_dtype(dtype).np if dtype is not None else get_default_dtype().np
            self._data = np.zeros(shape, dt)
            self._vc = [0]
        elif len(args) > 1:
            raise DTypeError(f"Tensor: sizes must be ints, got "
                             f"({', '.join(type(a).__name__ for a in args)}); for "
                             "data pass one sequence: Tensor([1, 2])")
        elif isinstance(args[0], Tensor) and dtype is None:
            self._data = args[0]._data  # shares storage (and its version counter)
            self._vc = args[0]._vc
        else:
            data = args[0]
            if isinstance(data, (str, bytes)):
                raise DTypeError(f"Tensor: invalid data type {type(data).__name__!r}; "
                                 "expected sizes or a sequence of numbers")
            if not isinstance(data, (Tensor, list, tuple, np.ndarray)):
                raise DTypeError(
                    f"Tensor: data must be a sequence (got {type(data).__name__}); "
                    f"for a 0-d tensor use chainrule.tensor({data!r:.20})")
            if dtype is None:
                dtype = get_default_dtype()
                if isinstance(data, Tensor):
                    dtype = data.dtype
            self._data = _to_array(data, dtype, "Tensor")
            self._vc = [0]
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, rg=False, grad_fn=None, oi=0):
        """Wrap an ndarray without copying (internal fast path)."""
        t = _new(Tensor)
        t._data = data
        t._vc = [0]
        if rg:
            t._rg = True
            t.grad_fn = grad_fn
            if oi:
                t._oi = oi
        return t

    # -- metadata ------------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    def size(self, dim=None):
        """The shape, or the size of one (possibly negative) ``dim``."""
        if dim is None:
            return self._data.shape
        d = _dim(dim, self._data.ndim, "size")
        if not self._data.ndim:
            from .errors import IndexOutOfRange

            raise IndexOutOfRange(f"size: dimension specified as {dim} but the tensor "
                                  "has no dimensions")
        return self._data.shape[d]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    @property
    def dtype(self):
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        from ._device import CPU

        return CPU

    @property
    def is_cuda(self):
        return False

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def __len__(self):
        if self._data.ndim == 0:
            raise DTypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # -- autograd attributes -----------------------------------------------------
    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on a leaf; only floating-point tensors qualify."""
        if requires_grad and self._data.dtype.kind != "f":
            raise DTypeError(
                "requires_grad_: only tensors of floating-point dtype can require "
                f"gradients; this tensor is {self.dtype.name} {fmt_shape(self.shape)}. "
                "Convert it first, e.g. x.float()."
            )
        if not requires_grad and self.grad_fn is not None:
            raise AutogradError(
                "requires_grad_: you can only change requires_grad of leaf tensors; "
                "use .detach() to get a tensor that does not require grad"
            )
        self._rg = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def _version(self):
        return self._vc[0]

    @property
    def data(self):
        """The same storage as a tensor outside the graph (no grad tracking)."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise DTypeError("Tensor.data: expected a Tensor, got "
                             f"{type(value).__name__}")
        # A primitive call (``ops.inplace.set_data``), so interpreters see the
        # tensor take the new storage; tensor.py sits below ops/, hence the
        # call-time import.
        from .ops.inplace import set_data

        set_data(self, value)

    def detach(self):
        """A tensor sharing storage with this one, cut from the graph."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        self.grad_fn = None
        self._rg = False
        self._oi = 0
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._rg:
            raise AutogradError("retain_grad: can't retain_grad on a tensor that "
                                "has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        import weakref

        ref = weakref.ref(self)

        def _retain(g):
            t = ref()
            if t is not None:
                t.grad = g.detach() if t.grad is None else t.grad + g.detach()

        self._retains_grad = True
        _add_node_hook(self, _retain, retain=True)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed.

        A hook may return a new gradient to use in its place.  Returns a
        handle whose ``remove()`` unregisters it.
        """
        if not self._rg:
            raise AutogradError("register_hook: cannot register a hook on a tensor "
                                "that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _HookHandle(self._hooks, hook)
        return _add_node_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` each time a gradient has been added into this
        leaf's ``.grad`` by backward.  Returns a handle with ``remove()``."""
        if self.grad_fn is not None or not self._rg:
            raise AutogradError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks "
                "can only be registered on leaf tensors that require grad")
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _HookHandle(self._post_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False,
                 inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` (same shape as self) is required unless self has one
        element.  The graph is freed afterwards unless ``retain_graph``.
        """
        from .autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    # -- conversion --------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ArgumentError(
                f"item: a Tensor with {self._data.size} elements (shape "
                f"{fmt_shape(self.shape)}) cannot be converted to a Python scalar; "
                "only one-element tensors can"
            )
        return self._data.reshape(()).item()

    def numpy(self, force=False):
        """The underlying ndarray (shared, not copied)."""
        if self._rg and not force:
            raise AutogradError(
                "numpy: can't call numpy() on a Tensor that requires grad; use "
                "tensor.detach().numpy() instead"
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise ArgumentError(
                f"Boolean value of Tensor with {self._data.size} elements is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self._data.reshape(()).item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise DTypeError("only integer tensors of a single element can be "
                             "converted to an index")
        return int(self.item())

    def cpu(self):
        return self

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return _format(self)

    __str__ = __repr__

    def __getstate__(self):
        raise TypeError("chainrule tensors are not picklable; use chainrule.save")

    def __deepcopy__(self, memo):
        t = Tensor._make(self._data.copy())
        if self._rg and self.grad_fn is None:
            t._rg = True
        t.__class__ = self.__class__
        for k, v in self.__dict__.items():
            if k not in ("_data", "_vc", "_rg", "grad_fn", "_oi", "_base", "_view",
                         "_hooks", "_post_hooks"):
                import copy

                t.__dict__[k] = copy.deepcopy(v, memo)
        memo[id(self)] = t
        return t


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _add_node_hook(t, hook, retain=False):
    node = t.grad_fn
    if node.hooks is None:
        node.hooks = {}
    lst = node.hooks.setdefault(t._oi, [])
    lst.append(hook)
    return _HookHandle(lst, hook)


def _dim(dim, ndim, op):
    """Normalise a possibly negative dim, with PyTorch's error text."""
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    try:
        d = operator.index(dim)  # ints only: 1.5 or "1" is an error, not dim 1
    except TypeError:
        raise DTypeError(f"{op}: dim must be an int, got {dim!r}") from None
    if d < lo or d > hi:
        from .errors import IndexOutOfRange

        raise IndexOutOfRange(
            f"{op}: dimension out of range (expected to be in range of "
            f"[{lo}, {hi}], but got {dim})"
        )
    return d % ndim if ndim else 0


def _is_int(a):
    """An int that can be a size: Python's or NumPy's, not a bool."""
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


def _to_array(data, dtype, op):
    """Convert user data (lists, scalars, arrays, Tensors) to a fresh ndarray."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)  # NumPy values keep their dtype, as in PyTorch
    else:
        try:
            arr = np.array(data)
        except (ValueError, TypeError) as e:
            raise ArgumentError(f"{op}: could not convert {type(data).__name__} "
                                f"to a tensor: {e}") from None
        if arr.dtype.kind == "f" and dtype is None:  # (with dtype: no rounding first)
            arr = arr.astype(get_default_dtype().np)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "O":
            raise ArgumentError(f"{op}: could not convert {data!r} to a tensor "
                                "(ragged nested sequence or non-numeric data)")
    if dtype is not None:
        return np.array(arr, dtype=as_dtype(dtype).np)
    from_numpy_dtype(arr.dtype, op)
    return np.array(arr)


def _format(t):
    d = t._data
    if d.dtype.kind == "f":
        finite = d[np.isfinite(d)]
        integral = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        opts = dict(precision=4, floatmode="maxprec_equal" if integral else "fixed",
                    suppress_small=True)
    else:
        opts = {}
    body = np.array2string(d, separator=", ", prefix="tensor(", threshold=1000,
                           **opts)
    extras = []
    if d.dtype.kind == "f" and d.dtype != get_default_dtype().np:
        extras.append(f"dtype={t.dtype!r}")
    elif d.dtype == np.int32:
        extras.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn={t.grad_fn!r}")
    elif t._rg:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
