"""Dropout: zero random elements (or whole channels) while training.

Kept elements are scaled by ``1 / (1 - p)`` so the expected output equals
the input; in eval mode the layers are the identity.  The mask is drawn by
``chainrule.rand`` from the default generator (or ``generator=``), so
``manual_seed`` makes runs repeatable.
"""
import warnings

from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import rand, zeros_like
from ..ops._util import floating
from ..ops.inplace import inplace as _inplace
from .module import Module


def _check_p(p, op):
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{op}: dropout probability has to be between 0 and 1, "
                            f"but got {p}")


def _drop(x, p, mask_shape, generator):
    if p == 1.0:
        return x * zeros_like(x)
    keep = rand(mask_shape, generator=generator, dtype=x.dtype) >= p
    return x * (keep.to(x.dtype) * (1.0 / (1.0 - p)))


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``; the identity when not ``training``.  Any shape."""
    _check_p(p, "dropout")
    x = floating(input)
    if not training or p == 0.0:
        return x
    fn = lambda a: _drop(a, p, a.shape, generator)  # noqa: E731
    return _inplace(x, fn, "dropout_") if inplace else fn(x)


def _channel_dropout(input, p, training, inplace, generator, nd, op, lead=None):
    _check_p(p, op)
    x = floating(input)
    if x.ndim not in (nd + 1, nd + 2) and nd > 1 and x.ndim >= 2:
        # PyTorch deprecates but accepts these: one draw per (dim 0, dim 1)
        # pair, which for a 2-d input is element-wise dropout.
        warnings.warn(
            f"{op}: Received a {x.ndim}-D input to {op}, which is deprecated and "
            "will be an error in a future release; use dropout for element-wise "
            f"dropout.  {op} drops whole channels of inputs with {nd} spatial dims, "
            f"a channel dim and an optional batch dim ({nd + 1}-D or {nd + 2}-D)",
            UserWarning, stacklevel=3)
        lead = 2
    elif x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}: expected a {nd + 1}-d (unbatched) or {nd + 2}-d "
                         f"(batched) input, got shape {fmt_shape(x.shape)}")
    if not training or p == 0.0:
        return x
    # One draw per (sample, channel), broadcast over the spatial dims.
    if lead is None:
        lead = 1 if x.ndim == nd + 1 else 2
    shape = x.shape[:lead] + (1,) * (x.ndim - lead)
    fn = lambda a: _drop(a, p, shape, generator)  # noqa: E731
    return _inplace(x, fn, op + "_") if inplace else fn(x)


def dropout1d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input."""
    return _channel_dropout(input, p, training, inplace, generator, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels of ``(N, C, H, W)`` input.

    A 3-d input is read as ``(N, C, L)``, as PyTorch still does.
    """
    lead = 2 if getattr(input, "ndim", 0) in (2, 3) else None
    return _channel_dropout(input, p, training, inplace, generator, 2, "dropout2d",
                            lead)


def dropout3d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""
    return _channel_dropout(input, p, training, inplace, generator, 3, "dropout3d")


class _DropoutNd(Module):
    _fn = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p(p, type(self).__name__)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return type(self)._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Elementwise dropout with probability ``p`` (training mode only)."""

    _fn = staticmethod(dropout)


class Dropout1d(_DropoutNd):
    """Channel dropout for ``(N, C, L)`` input."""

    _fn = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """Channel dropout for ``(N, C, H, W)`` input."""

    _fn = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """Channel dropout for ``(N, C, D, H, W)`` input."""

    _fn = staticmethod(dropout3d)
