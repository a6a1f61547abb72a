"""Custom differentiable operations: subclass :class:`Function`, as in PyTorch.

::

    class Clip(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(-1, 1)

        @staticmethod
        def backward(ctx, g):            # one gradient per forward input
            (x,) = ctx.saved_tensors
            return g * (x.abs() <= 1)

    y = Clip.apply(x)

Every call goes through one generic primitive, ``custom_function``, so the
tape, anomaly mode and op counting see it like any other op: its forward
hands back what the user's ``forward`` computed (run with recording off),
its vjp calls the user's ``backward`` and its jvp the user's optional
``jvp``.  ``backward`` runs with recording on exactly when a higher-order
graph is requested (``create_graph=True``), so a backward written in
chainrule ops is itself differentiable.
"""
import numpy as np

from ..errors import AutogradError, DTypeError, ShapeError, fmt_shape
from ..ops import _abstract
from ..ops._core import Primitive, apply, primitive
from ..tensor import Tensor
from .._tape import _state, suspended
from .grad_mode import no_grad


class FunctionCtx:
    """The ``ctx`` passed to ``forward``/``setup_context``, ``backward`` and
    ``jvp``: saved tensors, ``needs_input_grad``, and any attributes you set."""

    def __init__(self):
        self._saved = ()
        self._node = None  # while backward runs: the tape node of this call
        self._outs = None  # while jvp runs: the primitive's output Tensors
        self._non_diff = []
        self._out_fw = None  # the outputs' tangent dicts, if any
        self.needs_input_grad = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (inputs, outputs or None) for ``backward``/``jvp``.

        Saved inputs must not be modified in place before backward runs.
        """
        saved = []
        for i, t in enumerate(tensors):
            if t is None:
                saved.append(None)
            elif isinstance(t, Tensor):
                saved.append(["tensor", t, t._vc, t._vc[0]])
            else:
                raise DTypeError(f"save_for_backward: argument {i} is a "
                                 f"{type(t).__name__}; only Tensors and None can be "
                                 "saved (store other values as ctx attributes)")
        self._saved = tuple(saved)

    save_for_forward = save_for_backward

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, in order."""
        out = []
        for s in self._saved:
            if s is None:
                out.append(None)
                continue
            kind, obj, vc, ver = s
            if vc[0] != ver:
                raise AutogradError(
                    "one of the variables needed for gradient computation has been "
                    f"modified by an inplace operation: a tensor saved by "
                    f"save_for_backward (shape {fmt_shape(_shape(kind, obj))}) is at "
                    f"version {vc[0]}; expected version {ver} instead")
            out.append(obj if kind == "tensor" else self._output(*obj))
        return tuple(out)

    def _output(self, k, arr):
        if self._outs is not None:
            return self._outs[k]
        t = Tensor._make(arr, True, self._node, k) if self._node else Tensor._make(arr)
        if self._out_fw and self._out_fw[k]:
            t._fw = self._out_fw[k]  # forward-mode tangents (forward-over-reverse)
        return t

    def mark_non_differentiable(self, *outputs):
        """Declare outputs (e.g. indices, masks) that get no gradient."""
        self._non_diff.extend(id(o) for o in outputs)

    def set_materialize_grads(self, value):
        """Accepted for compatibility: gradients of unused outputs always
        arrive as zeros, never None (so code handling None works too)."""
        self.materialize_grads = bool(value)


def _shape(kind, obj):
    return obj.shape if kind == "tensor" else obj[1].shape


# -- the generic primitive -----------------------------------------------------------
def _forward(*arrays, fn, ctx):
    outs = []
    for o in ctx._out_arrays:
        # An output that shares memory with an input would alias it without
        # sharing its version counter: give it its own storage.
        if any(np.may_share_memory(o, a) for a in arrays):
            o = o.copy()
        outs.append(o)
    return outs[0] if len(outs) == 1 else tuple(outs)


def _vjp(n, g):
    fn, ctx = n.params["fn"], n.params["ctx"]
    gs = (g,) if n.out_metas is None else tuple(g)
    full, it = [], iter(gs)
    for is_tensor in ctx._out_is_tensor:
        full.append(next(it) if is_tensor else None)
    ctx._node = n
    try:
        res = fn.backward(ctx, *full)
    finally:
        ctx._node = None
    return _check_grads(fn, ctx, res)


def _check_grads(fn, ctx, res):
    """Validate ``backward``'s result; return the grads of the Tensor inputs."""
    name = fn.__name__
    res = res if isinstance(res, tuple) else (res,)
    metas = ctx._arg_metas
    if len(res) < len(metas) or any(r is not None for r in res[len(metas):]):
        raise AutogradError(
            f"{name}.backward returned {len(res)} gradient(s), but forward took "
            f"{len(metas)} input(s); return one per forward input (None for "
            "non-Tensor inputs and inputs that need no gradient)")
    grads = []
    for i, (r, meta) in enumerate(zip(res, metas)):
        if meta is None:
            if r is not None:
                raise AutogradError(
                    f"{name}.backward returned a gradient at position {i}, but "
                    f"forward input {i} is not a Tensor; return None there")
            continue
        if r is None:
            grads.append(None)
            continue
        if not isinstance(r, Tensor):
            raise DTypeError(f"{name}.backward returned a {type(r).__name__} at "
                             f"position {i}; gradients must be Tensors or None")
        try:
            ok = np.broadcast_shapes(r.shape, meta) == tuple(r.shape)
        except ValueError:
            ok = False
        if not ok:
            raise ShapeError(
                f"{name}.backward returned a gradient of shape {fmt_shape(r.shape)} "
                f"at position {i}, but forward input {i} has shape "
                f"{fmt_shape(meta)}; the gradient must have the input's shape")
        grads.append(r)
    return tuple(grads)


def _jvp(c, t):
    fn, ctx = c.params["fn"], c.params["ctx"]
    if fn.jvp is Function.jvp:
        raise AutogradError(
            f"{fn.__name__}: forward-mode AD needs a jvp staticmethod on this "
            "Function: define jvp(ctx, *tangents) returning the output tangents")
    tangents, it = [], iter(zip(c.inputs, t))
    for meta in ctx._arg_metas:
        if meta is None:
            tangents.append(None)
            continue
        x, tx = next(it)
        tangents.append(tx if tx is not None else
                        Tensor._make(np.zeros(x.shape, x._data.dtype)))
    outs = c.out if isinstance(c.out, tuple) else (c.out,)
    ctx._outs = outs
    try:
        res = fn.jvp(ctx, *tangents)
    finally:
        ctx._outs = None
    res = res if isinstance(res, tuple) else (res,)
    if len(res) != len(ctx._out_is_tensor):
        raise AutogradError(
            f"{fn.__name__}.jvp returned {len(res)} tangent(s) for "
            f"{len(ctx._out_is_tensor)} forward output(s); return one per output")
    res = [r for r, is_t in zip(res, ctx._out_is_tensor) if is_t]
    return res[0] if len(res) == 1 else tuple(res)


custom_function_p = primitive("custom_function", _forward, vjp=_vjp, jvp=_jvp,
                              saves=(), kind="other", params=("fn", "ctx"),
                              abstract=_abstract.custom_function_aval)
_PRIMS = {1: custom_function_p}


def _prim(n_out):
    """The custom-function primitive for ``n_out`` Tensor outputs.

    The table holds the single-output one; multi-output variants are the same
    primitive with another output count (the dispatcher needs it fixed).
    """
    p = _PRIMS.get(n_out)
    if p is None:
        p = _PRIMS[n_out] = Primitive("custom_function", _forward, _vjp, _jvp, (),
                                      False, n_out, False, False, kind="other",
                                      abstract=_abstract.custom_function_aval,
                                      params=("fn", "ctx"))
    return p


# -- Function --------------------------------------------------------------------------
class Function:
    """Base class of custom differentiable operations; call ``MyFn.apply(...)``.

    Define static methods ``forward(ctx, *args)`` (or ``forward(*args)`` plus
    ``setup_context(ctx, inputs, output)``), ``backward(ctx, *grad_outputs)``
    returning one gradient per forward input, and optionally
    ``jvp(ctx, *tangents)`` for forward mode.
    """

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise AutogradError(
            f"{type(self).__name__}: custom Functions are not called on instances; "
            f"use the static form {type(self).__name__}.apply(...)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for a "
                                  "custom autograd.Function")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement backward (or vjp) for a custom "
                                  "autograd.Function to use it in reverse mode")

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError("You must implement jvp for a custom "
                                  "autograd.Function to use it in forward mode")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and record the call so ``backward`` gets its gradients."""
        ctx = FunctionCtx()
        on = _state.grad
        ctx.needs_input_grad = tuple(
            isinstance(a, Tensor) and a._rg and on for a in args)
        ctx._arg_metas = [a.shape if isinstance(a, Tensor) else None for a in args]
        prev = _state.grad
        _state.grad = False  # forward is not differentiated, in either mode
        try:
            with suspended(_not_forward_mode):
                if cls.setup_context is not Function.setup_context:
                    out = cls.forward(*args, **kwargs)
                    cls.setup_context(ctx, args, out)
                else:
                    out = cls.forward(ctx, *args, **kwargs)
        finally:
            _state.grad = prev
        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        ctx._out_is_tensor = tuple(isinstance(o, Tensor) for o in outs)
        touts = [o for o in outs if isinstance(o, Tensor)]
        if not touts:
            raise DTypeError(f"{cls.__name__}.forward must return a Tensor or a tuple "
                             f"containing Tensors, got {type(out).__name__}")
        ctx._out_arrays = [o._data for o in touts]
        _link_saved_outputs(ctx, touts)
        res = apply(_prim(len(touts)), *[a for a in args if isinstance(a, Tensor)],
                    fn=cls, ctx=ctx)
        res = res if isinstance(res, tuple) else (res,)
        del ctx._out_arrays
        non_diff = set(ctx._non_diff)
        for raw, new in zip(touts, res):
            if id(raw) in non_diff:
                new.detach_()
        _bind_output_versions(ctx, res)
        it = iter(res)
        final = tuple(next(it) if is_t else o
                      for o, is_t in zip(outs, ctx._out_is_tensor))
        return final if multi else final[0]


def _not_forward_mode(interp):
    return interp.dual_level is None


def _link_saved_outputs(ctx, touts):
    """Saved forward outputs become references to the recorded outputs, so a
    backward that uses them stays differentiable through this node."""
    pos = {id(o): k for k, o in enumerate(touts)}
    for s in ctx._saved:
        if s is not None and id(s[1]) in pos:
            k = pos[id(s[1])]
            s[0], s[1] = "output", (k, s[1]._data)


def _bind_output_versions(ctx, res):
    if any(o._fw for o in res):
        ctx._out_fw = [o._fw for o in res]
    for s in ctx._saved:
        if s is not None and s[0] == "output":
            o = res[s[1][0]]
            s[1] = (s[1][0], o._data)
            s[2], s[3] = o._vc, o._vc[0]


def once_differentiable(backward):
    """Decorator for ``backward``: run it with recording off (it cannot be
    differentiated again, e.g. because it computes with non-chainrule code)."""
    import functools

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)

    return wrapper
