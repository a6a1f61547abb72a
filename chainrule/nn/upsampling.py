"""Resizing: ``F.interpolate`` and the ``Upsample``, ``UpsamplingNearest2d``
and ``UpsamplingBilinear2d`` layers.

Each spatial axis is resized on its own, with PyTorch's source-index
formulas (built in ``ops/conv.py``): nearest picks ``floor(i * in/out)``
(float32 arithmetic, as PyTorch), linear modes blend two neighbours, and
'area' is adaptive average pooling.  Nearest upsampling by an integer
factor is a broadcast, so its gradient is a sum instead of a scatter.
"""
import math

from ..errors import ArgumentError, DTypeError, ShapeError, fmt_shape
from ..ops import conv as _w
from ..ops import expand, index_select, reshape, unsqueeze
from ..tensor import Tensor
from .module import Module
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "area")
_LINEAR = {"linear": 1, "bilinear": 2}


def _scales(input, size, scale_factor, nd, op):
    """(output sizes, scale per axis or None) following PyTorch's rules."""
    if size is not None and scale_factor is not None:
        raise ArgumentError(f"{op}: only one of size or scale_factor should be "
                            "defined")
    if size is None and scale_factor is None:
        raise ArgumentError(f"{op}: either size or scale_factor should be defined")
    spatial = input.shape[2:]
    if size is not None:
        sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,) * nd
        if len(sizes) != nd:
            raise ArgumentError(
                f"{op}: input and output must have the same number of spatial "
                f"dimensions, but got input with spatial dimensions of "
                f"{list(spatial)} and output size of {list(sizes)}")
        if any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
            raise ArgumentError(f"{op}: size must be positive ints, got {size!r}")
        return sizes, (None,) * nd
    scales = (tuple(scale_factor) if isinstance(scale_factor, (list, tuple))
              else (scale_factor,) * nd)
    if len(scales) != nd:
        raise ArgumentError(
            f"{op}: input and scale_factor must have the same number of spatial "
            f"dimensions, but got input with spatial dimensions of {list(spatial)} "
            f"and scale_factor of shape {list(scales)}")
    try:
        scales = tuple(float(s) for s in scales)
    except (TypeError, ValueError):
        raise ArgumentError(f"{op}: scale_factor must be numbers, got "
                            f"{scale_factor!r}") from None
    if any(not s > 0 or math.isinf(s) for s in scales):
        raise ArgumentError(f"{op}: scale_factor must be positive and finite, got "
                            f"{scale_factor!r}")
    sizes = tuple(int(math.floor(float(n) * s)) for n, s in zip(spatial, scales))
    if any(s < 1 for s in sizes):
        raise ShapeError(f"{op}: scale_factor {scale_factor!r} gives an empty output "
                         f"({sizes}) for input spatial size {list(spatial)}")
    return sizes, scales


def _nearest_axis(x, dim, out, scale, exact):
    n = x.shape[dim]
    idx, rep = _w.nearest_index(n, out, scale, exact)
    if rep == 1:
        return x
    if rep:
        # Each input repeated rep times: broadcast a new axis, then merge it.
        y = unsqueeze(x, dim + 1)
        shape = list(y.shape)
        shape[dim + 1] = rep
        y = expand(y, tuple(shape))
        return reshape(y, x.shape[:dim] + (n * rep,) + x.shape[dim + 1:])
    return index_select(x, dim, idx)


def _linear_axis(x, dim, out, scale, align_corners):
    i0, i1, w1 = _w.linear_weights(x.shape[dim], out, scale, align_corners, x)
    shape = (out,) + (1,) * (x.ndim - dim - 1)
    w1 = reshape(w1, shape)
    a, b = index_select(x, dim, i0), index_select(x, dim, i1)
    return a * (1 - w1) + b * w1


def interpolate(input, size=None, scale_factor=None, mode="nearest",
                align_corners=None, recompute_scale_factor=None, antialias=False):
    """Resize ``(N, C, *spatial)`` to ``(N, C, *size)`` (or ``floor(in *
    scale_factor)`` per axis).

    Modes: 'nearest' (source ``floor(i * in/out)``), 'nearest-exact'
    (``floor((i + 0.5) * in/out)``), 'linear' (3-D input), 'bilinear' (4-D,
    ``align_corners`` as in PyTorch) and 'area' (adaptive average pooling).
    With ``scale_factor`` and no ``recompute_scale_factor`` the index
    formulas use ``1/scale_factor`` instead of in/out, as PyTorch does.
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise DTypeError(f"{op}: expected input to be a Tensor, got "
                         f"{type(input).__name__}")
    if mode not in _MODES:
        raise ArgumentError(f"{op}: mode must be one of {', '.join(_MODES)}, got "
                            f"{mode!r}")
    nd = input.ndim - 2
    if nd not in (1, 2, 3) or (mode != "nearest" and mode != "nearest-exact"
                               and nd == 3):
        raise ShapeError(f"{op}: mode {mode!r} supports 3-D and 4-D inputs (nearest "
                         f"modes also 5-D), got input of size {fmt_shape(input.shape)}")
    if mode in _LINEAR and _LINEAR[mode] != nd:
        raise ShapeError(f"{op}: got {nd + 2}D input, but {mode} mode needs "
                         f"{_LINEAR[mode] + 2}D input")
    if align_corners is not None and mode not in _LINEAR:
        raise ArgumentError(f"{op}: align_corners option can only be set with the "
                            "interpolating modes: linear | bilinear")
    if antialias:
        raise ArgumentError(f"{op}: antialias=True is not supported")
    if not input.is_floating_point() and mode != "nearest":
        raise DTypeError(f"{op}: mode {mode!r} needs a floating-point input, got "
                         f"{input.dtype.name}")
    sizes, scales = _scales(input, size, scale_factor, nd, op)
    if recompute_scale_factor:
        scales = (None,) * nd
    if mode == "area":
        pool = adaptive_avg_pool1d if nd == 1 else adaptive_avg_pool2d
        return pool(input, sizes)
    x = input
    for k, (out, scale) in enumerate(zip(sizes, scales)):
        if mode in _LINEAR:
            x = _linear_axis(x, 2 + k, out, scale, bool(align_corners))
        else:
            x = _nearest_axis(x, 2 + k, out, scale, mode == "nearest-exact")
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Alias of :func:`interpolate` (deprecated in PyTorch, kept for old code)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


class Upsample(Module):
    """Resize ``(N, C, *spatial)`` by ``size`` or ``scale_factor``; see
    :func:`interpolate` for the modes."""

    def __init__(self, size=None, scale_factor=None, mode="nearest",
                 align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (list, tuple)):
            self.scale_factor = tuple(float(s) for s in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode,
                           self.align_corners, self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """2-d nearest-neighbour upsampling (``Upsample(mode='nearest')``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """2-d bilinear upsampling with ``align_corners=True``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
