"""Anomaly detection: find the first op that produced NaN (or Inf).

Inside ``detect_anomaly()`` every primitive's result is checked as it is
computed, and every tape node remembers the user's source line that created
it.  So the error names the op and the line in *your* code (the innermost
frame outside chainrule) where it was called:

- forward: the first op whose output has NaN/Inf although its inputs had
  none (``log(0)``, ``0 / 0``, overflow in ``exp``);
- backward: the first node whose vjp returns a NaN/Inf gradient, with the
  line of the forward call that created the node;
- forward mode: the first jvp rule that returns a NaN/Inf tangent.

Inf is checked too unless ``check_inf=False``.  The ops that vjp and jvp
rules run internally are not checked one by one (a rule may compute an
infinity that it then masks out); the rule's result is.
"""
import linecache
import os
import sys

import numpy as np

from .._tape import Interpreter, _state, pop, push
from ..errors import AutogradError, fmt_shape

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_check_nan = True  # raise on NaN (False: only record source lines)
_NO_TRACE = "<unknown: the graph was built outside anomaly mode>"


def user_frame():
    """'file:line in func: source' of the innermost caller outside chainrule."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    if f is None:
        return "<unknown>"
    src = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}: {src}"


def _bad(arr):
    """'nan', 'inf' or None for one array."""
    if arr.dtype.kind != "f":
        return None
    if np.isnan(arr).any():
        return "nan"
    if _state.anomaly_check_inf and np.isinf(arr).any():
        return "inf"
    return None


def _count(arr, kind):
    return int((np.isnan(arr) if kind == "nan" else np.isinf(arr)).sum())


def _inside_rule():
    """True while a vjp rule (the backward engine) or a jvp rule is running."""
    from .engine import _run
    from .forward_ad import _eval_rule

    codes = (_run.__code__, _eval_rule.__code__)
    f = sys._getframe(2)
    while f is not None:
        if f.f_code in codes:
            return True
        f = f.f_back
    return False


def _describe(ts):
    return ", ".join(f"{t.dtype.name} {fmt_shape(t.shape)}" for t in ts)


class AnomalyChecker(Interpreter):
    """The interpreter on the dispatcher's stack while anomaly mode is on: it
    checks the result of every primitive call."""

    def observe(self, prim, inputs, params, outs):
        check_forward(prim, inputs, outs)


_checker = AnomalyChecker()


def check_forward(prim, inputs, outs):
    """Called after each op while anomaly mode is on."""
    if not _check_nan:
        return
    for k, o in enumerate(outs):
        kind = _bad(o._data)
        if kind is None or any(_bad(t._data) for t in inputs) or _inside_rule():
            continue
        which = f"output {k} " if len(outs) > 1 else "output "
        raise AutogradError(
            f"Function '{prim.name}' returned {kind} values in its {which}"
            f"({_count(o._data, kind)} of {o._data.size} entries, shape "
            f"{fmt_shape(o.shape)}) from finite inputs ({_describe(inputs)}).\n"
            f"The op was called at {user_frame()}")


def check_backward(node, grads):
    """Called by the backward engine with the gradients a node's vjp returned."""
    if not _check_nan:
        return
    for i, g in enumerate(grads):
        if g is None:
            continue
        kind = _bad(g._data)
        if kind:
            name = node.name()
            fn = node.params.get("fn") if isinstance(node.params, dict) else None
            if fn is not None:
                name = f"{fn.__name__}Backward"
            raise AutogradError(
                f"Function '{name}' returned {kind} values in its {i}th output (the "
                f"gradient of input {i}, shape {fmt_shape(g.shape)}: "
                f"{_count(g._data, kind)} of {g._data.size} entries).\n"
                f"The forward op '{node.prim.name}' (inputs "
                f"{_describe_metas(node.metas)}) was called at "
                f"{node.trace or _NO_TRACE}")


def _describe_metas(metas):
    return ", ".join(f"{np.dtype(d).name} {fmt_shape(s)}" for s, d in metas)


def check_tangent(prim, inputs, tangent):
    """Called by forward mode with each output tangent a jvp rule returned."""
    if not _check_nan:
        return
    kind = _bad(tangent._data)
    if kind and not any(_bad(t._data) for t in inputs):
        raise AutogradError(
            f"Function '{prim.name}' returned {kind} values in its forward-mode "
            f"tangent (shape {fmt_shape(tangent.shape)}, inputs "
            f"{_describe(inputs)}).\nThe op was called at {user_frame()}")


def _set(mode, check_nan, check_inf):
    global _check_nan
    prev = (_state.anomaly, _check_nan, _state.anomaly_check_inf)
    _switch(bool(mode))
    _check_nan = bool(check_nan)
    _state.anomaly_check_inf = bool(check_inf)
    return prev


def _restore(prev):
    global _check_nan
    _switch(prev[0])
    _check_nan, _state.anomaly_check_inf = prev[1:]


def _switch(on):
    """Turn the mode on or off: the flag the tape reads, and the checker on
    the interpreter stack (pushed once, however often the mode nests)."""
    if on and not _state.anomaly:
        push(_checker)
    elif not on and _state.anomaly:
        pop(_checker)
    _state.anomaly = on


class detect_anomaly:
    """Context manager (or decorator) turning anomaly detection on.

    ``check_nan``: raise at the first op or gradient with NaN (with False,
    only source lines are recorded).  ``check_inf``: treat Inf like NaN.
    """

    def __init__(self, check_nan=True, check_inf=True):
        self.check_nan = check_nan
        self.check_inf = check_inf

    def __enter__(self):
        self.prev = _set(True, self.check_nan, self.check_inf)
        return self

    def __exit__(self, *exc):
        _restore(self.prev)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan, self.check_inf):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """``set_detect_anomaly(mode)`` switches anomaly detection on or off.

    Like PyTorch's, it takes effect when called and, used as a context
    manager, restores the previous setting on exit.
    """

    def __init__(self, mode, check_nan=True, check_inf=True):
        self.prev = _set(mode, check_nan, check_inf)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _restore(self.prev)
        return False


def is_anomaly_enabled():
    """True while anomaly detection is on."""
    return _state.anomaly


def is_anomaly_check_nan_enabled():
    """True while anomaly detection raises on NaN."""
    return _state.anomaly and _check_nan
