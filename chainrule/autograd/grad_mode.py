"""Switches for gradient recording: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, ``inference_mode``.

They live with the dispatcher's state in ``chainrule/_tape.py`` (below
``ops/``); this module re-exports them under their historical path.
"""
from .._tape import (  # noqa: F401
    _state, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)
