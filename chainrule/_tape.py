"""The dispatcher's state, below ``ops/``: grad mode, the tape node and the
interpreter stack.

Every primitive call goes through ``ops._core.apply``.  With the stack empty
(the common case) ``apply`` evaluates eagerly: NumPy forward, plus a tape
:class:`Node` when gradients are needed.  Anything else that wants to see or
change primitive calls -- forward mode, anomaly detection, op counting, a
tracer, a batching rule -- is an :class:`Interpreter` pushed on the stack
with :func:`interpreting`.  ``apply`` hands each call to the top interpreter,
with that interpreter popped for the duration of its ``process``, so the
primitive calls it makes in there go to the interpreters below it and
finally to eager evaluation.  The dispatcher names no interpreter.

This module imports nothing of chainrule but ``errors``, so ``ops/`` and
``autograd/`` can both build on it.
"""
import contextlib
import functools
import linecache
import os
import sys

from .errors import AutogradError, fmt_shape


class _State:
    """Process-wide flags read by the dispatcher on every op.

    ``grad``: record ops on the tape?  ``stack``: the interpreter stack,
    bottom first; ``apply`` takes its slow path exactly when it is non-empty.
    ``anomaly`` / ``anomaly_check_inf``: read by the tape (a node remembers
    the line that created it) and the backward engine (gradients are checked).
    ``pushes``: how many interpreters were ever pushed (a recorder that sees
    it change while user code runs knows a transform ran above it).
    """

    __slots__ = ("grad", "stack", "anomaly", "anomaly_check_inf", "pushes")

    def __init__(self):
        self.grad = True
        self.pushes = 0
        self.stack = []
        self.anomaly = False
        self.anomaly_check_inf = True

    @property
    def forward_ad(self):
        """How many forward-mode levels are active right now (interpreters on
        the stack with a ``dual_level``).  Inside level L's own rule, L is
        popped and so not counted."""
        return sum(i.dual_level is not None for i in self.stack)


_state = _State()


# -- the interpreter stack -------------------------------------------------------------
class Interpreter:
    """Something that sees (and may replace) every primitive call.

    Subclass and override :meth:`observe` to watch, or :meth:`process` to
    change what a call does.  Push an instance with :func:`interpreting`.
    """

    dual_level = None  # a forward-mode level id (only forward mode sets it)

    def process(self, prim, inputs, params):
        """Evaluate one primitive call ``prim(*inputs, **params)``.

        Runs with this interpreter popped off the stack, so primitive calls
        made in here go to the interpreters below it (and finally to eager
        evaluation).  Returns the outputs: a tuple of Tensors (for a
        single-output primitive a bare Tensor is accepted too).  Default:
        evaluate below, then :meth:`observe`, return the outputs.
        """
        outs = self.evaluate(prim, inputs, params)
        self.observe(prim, inputs, params, outs)
        return outs

    def evaluate(self, prim, inputs, params):
        """Run ``prim`` on the interpreters below; always a tuple of Tensors."""
        res = prim(*inputs, **params)
        return (res,) if prim.n_out == 1 else res

    def observe(self, prim, inputs, params, outs):
        """Called after each primitive call; ``outs`` is always a tuple of
        Tensors."""


@contextlib.contextmanager
def interpreting(interp):
    """Push ``interp`` on the interpreter stack on entry, pop it on exit."""
    push(interp)
    try:
        yield interp
    finally:
        pop(interp)


def push(interp):
    """Put ``interp`` on top of the stack (prefer :func:`interpreting`)."""
    _state.pushes += 1
    _state.stack.append(interp)


def pop(interp):
    """Take ``interp`` off the stack; normally the top, but a switch that is
    turned off out of order (``set_detect_anomaly(False)``) may sit lower."""
    stack = _state.stack
    if stack and stack[-1] is interp:
        stack.pop()
    else:
        for k in range(len(stack) - 1, -1, -1):
            if stack[k] is interp:
                del stack[k]
                return


@contextlib.contextmanager
def suspended(keep):
    """Run a block with only the interpreters for which ``keep(i)`` holds
    (a custom Function's forward runs without forward mode, for instance)."""
    stack = _state.stack
    saved = stack[:]
    stack[:] = [i for i in saved if keep(i)]
    try:
        yield
    finally:
        stack[:] = saved


# -- where an op was called (anomaly mode's traces) ------------------------------------
_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_frame():
    """'file:line in func: source' of the innermost caller outside chainrule."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    if f is None:
        return "<unknown>"
    src = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}: {src}"


# -- grad mode -------------------------------------------------------------------------
def is_grad_enabled():
    """True when new ops are recorded for backward."""
    return _state.grad


class _GradModeContext:
    """Base for the grad-mode switches: usable as context manager and decorator."""

    _enabled = True

    def __enter__(self):
        self._prev = _state.grad
        _state.grad = self._enabled

    def __exit__(self, *exc):
        _state.grad = self._prev
        return False

    def __call__(self, fn):
        enabled = self._enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _state.grad
            _state.grad = enabled
            try:
                return fn(*args, **kwargs)
            finally:
                _state.grad = prev

        return wrapper


class no_grad(_GradModeContext):
    """Context manager / decorator: ops inside are not recorded for backward."""

    _enabled = False


class enable_grad(_GradModeContext):
    """Context manager / decorator: re-enable recording inside ``no_grad``."""

    _enabled = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(mode)``: a switch usable as a call, context or decorator.

    Like PyTorch, calling it already sets the mode; leaving the ``with`` block
    restores the previous one.
    """

    def __init__(self, mode):
        self._prev = _state.grad
        self._enabled = bool(mode)
        _state.grad = self._enabled

    def __enter__(self):
        pass

    def __call__(self, fn):
        # Used as a decorator: undo the switch made when it was constructed.
        _state.grad = self._prev
        return super().__call__(fn)

    def __exit__(self, *exc):
        _state.grad = self._prev
        return False


class inference_mode(no_grad):
    """Alias of ``no_grad`` (chainrule has no separate inference tensors)."""

    def __init__(self, mode=True):
        self._enabled = not mode


# -- the tape node ---------------------------------------------------------------------
class Node:
    """A recorded primitive application, shown to users as ``t.grad_fn``.

    A node remembers what its primitive's vjp needs (the saved inputs and, if
    asked, the output's data) and where gradients go next (``edges``).  It
    does not hold the output Tensor itself, so no reference cycle keeps
    intermediates alive: the graph is freed as soon as the last output Tensor
    is dropped.
    """

    __slots__ = (
        "prim", "params", "edges", "metas", "inputs", "versions", "needs",
        "out_data", "out_vc", "out_ver", "out_metas", "hooks", "freed",
        "trace", "out_fw", "__weakref__",
    )

    def name(self):
        fn = self.params.get("fn") if self.prim.name == "custom_function" else None
        if fn is not None:  # a custom autograd.Function: name it after its class
            return fn.__name__ + "Backward"
        return self.prim.name.capitalize().replace("_", "") + "Backward"

    def __repr__(self):
        return f"<{self.name()} object>"

    @property
    def next_functions(self):
        """((Node or AccumulateGrad-like leaf, output index), ...) as in PyTorch."""
        return tuple(self.edges)

    # -- what vjp rules read ------------------------------------------------
    @property
    def out(self):
        """The output as a Tensor whose grad_fn is this node (for create_graph);
        a tuple of Tensors for multi-output primitives.  Forward-mode tangents
        the outputs carried (``out_fw``, set by forward_ad) are re-attached, so
        vjp rules that read the output differentiate in forward mode too."""
        from .tensor import Tensor  # the node is below tensor.py's users only

        fw = getattr(self, "out_fw", None)
        if self.out_metas is None:
            t = Tensor._make(self.out_data, True, self, 0)
            if fw:
                t._fw = fw[0]
            return t
        outs = tuple(Tensor._make(d, True, self, i)
                     for i, d in enumerate(self.out_data))
        if fw:
            for t, f in zip(outs, fw):
                t._fw = f
        return outs

    def check(self):
        """Before the vjp runs: saved values must exist and be unmodified."""
        if self.freed:
            raise AutogradError(
                f"{self.prim.name}: trying to backward through the graph a second "
                "time (or to access saved tensors after they were freed). Saved "
                "values are freed when you call .backward() or autograd.grad(); "
                "specify retain_graph=True on the first call if you need to "
                "backward through the graph again."
            )
        for i, t in enumerate(self.inputs):
            if t is not None and t._vc[0] != self.versions[i]:
                self._modified(f"input {i}", t.dtype.name, t.shape, t._vc[0],
                               self.versions[i])
        if self.out_vc is None:
            return
        if self.out_metas is None:
            if self.out_vc[0] != self.out_ver:
                d = self.out_data
                self._modified("its output", str(d.dtype), d.shape, self.out_vc[0],
                               self.out_ver)
            return
        for k, (vc, ver) in enumerate(zip(self.out_vc, self.out_ver)):
            if vc[0] != ver:
                shape, dtype = self.out_metas[k]
                self._modified("an output", str(dtype), shape, vc[0], ver)

    def _modified(self, what, dtype, shape, now, expected):
        raise AutogradError(
            "one of the variables needed for gradient computation has been "
            f"modified by an inplace operation: {what} of {self.prim.name} "
            f"({dtype} {fmt_shape(shape)}) is at version {now}; expected version "
            f"{expected} instead. Use an out-of-place op, or .clone() the tensor "
            "before modifying it." + (
                f"\nThe forward op was called at {self.trace}" if self.trace else
                " (Hint: inside chainrule.autograd.detect_anomaly() this message "
                "names the line that called the op.)")
        )

    def release(self):
        """Drop saved values after backward (unless retain_graph)."""
        if self.out_data is not None or any(t is not None for t in self.inputs):
            self.freed = True  # only nodes that saved something can't rerun
        self.inputs = (None,) * len(self.inputs)
        self.out_data = self.out_vc = self.out_fw = None
