"""Anomaly detection: find the first op that produced NaN (or Inf).

Inside ``detect_anomaly()`` every primitive's forward output is checked, and
every node remembers the user's source line that created it, so a NaN
gradient found during backward can be traced to that line.
"""
import os
import sys

import numpy as np

from ..errors import AutogradError, fmt_shape
from .grad_mode import _state

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_frame():
    """'file:line in func: source' of the innermost caller outside chainrule."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    if f is None:
        return "<unknown>"
    import linecache

    src = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}: {src}"


def _bad(arr):
    if arr.dtype.kind != "f":
        return None
    if np.isnan(arr).any():
        return "nan"
    if _state.anomaly_check_inf and np.isinf(arr).any():
        return "inf"
    return None


def check_forward(prim, inputs, outs):
    for o in outs:
        kind = _bad(o._data)
        if kind and not any(_bad(t._data) for t in inputs):
            raise AutogradError(
                f"Function '{prim.name}' returned {kind} values in its output "
                f"{fmt_shape(o.shape)} (inputs " + ", ".join(
                    fmt_shape(t.shape) for t in inputs) + f"), at {user_frame()}")


def check_backward(node, grads):
    for i, g in enumerate(grads):
        if g is None:
            continue
        kind = _bad(g._data)
        if kind:
            raise AutogradError(
                f"Function '{node.name()}' returned {kind} values in its {i}th "
                f"output (gradient of shape {fmt_shape(g.shape)}); the forward op "
                f"'{node.prim.name}' was called at {node.trace or '<unknown>'}")


class detect_anomaly:
    """Context manager: raise at the first op producing NaN (and Inf if
    ``check_nan``... as PyTorch: ``check_nan=True`` checks NaN; Inf is checked
    too unless ``check_inf=False``)."""

    def __init__(self, check_nan=True, check_inf=True):
        self.check = check_nan
        self.check_inf = check_inf

    def __enter__(self):
        self.prev = (_state.anomaly, _state.anomaly_check_inf)
        _state.anomaly = self.check
        _state.anomaly_check_inf = self.check_inf
        return self

    def __exit__(self, *exc):
        _state.anomaly, _state.anomaly_check_inf = self.prev
        return False


def set_detect_anomaly(mode, check_inf=True):
    """Turn anomaly detection on or off globally."""
    _state.anomaly = bool(mode)
    _state.anomaly_check_inf = check_inf


def is_anomaly_enabled():
    return _state.anomaly
