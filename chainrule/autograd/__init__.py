"""Automatic differentiation: the tape engine, grad modes, anomaly mode,
forward mode (``forward_ad``), custom ``Function``s, ``gradcheck`` and op
counting (``count_ops``)."""
from .anomaly import (  # noqa: F401
    detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
    set_detect_anomaly,
)
from .counting import count_ops  # noqa: F401
from .engine import backward as _tensor_backward  # noqa: F401
from .engine import grad  # noqa: F401
from .grad_mode import (  # noqa: F401
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             inputs=None):
    """``chainrule.autograd.backward``: backward from one or several tensors."""
    from ..tensor import Tensor
    from .engine import _check_grad, _check_root, run_backward

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    gs = []
    for t, g in zip(tensors, grad_tensors):
        _check_root(t, "backward")
        gs.append(_check_grad(t, g, "backward"))
    run_backward(tensors, gs, create_graph if retain_graph is None else retain_graph,
                 create_graph)


def _load_late():
    """Import custom Functions and gradcheck, which define primitives and so
    need the op table; ``chainrule``'s ``__init__`` calls this once the table
    is complete (the table itself imports this package)."""
    global Function, FunctionCtx, once_differentiable
    global gradcheck, gradgradcheck, GradcheckError
    from .function import Function, FunctionCtx, once_differentiable
    from .gradcheck import GradcheckError, gradcheck, gradgradcheck


def __getattr__(name):
    """``forward_ad`` and ``functional`` load on first use."""
    import importlib

    if name in ("forward_ad", "functional"):
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'chainrule.autograd' has no attribute {name!r}")
