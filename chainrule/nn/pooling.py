"""Pooling layers and their functional forms: ``MaxPool1d/2d``,
``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``, ``AdaptiveMaxPool1d/2d``.

Max pooling finds each window's argmax once (a primitive looping over the
kernel offsets only) and gathers the values there, so the gradient is a
scatter to those positions -- ties go to the first maximum, as in
PyTorch.  Average pooling sums unfolded windows (or, for the common
non-overlapping case, a reshaped view) and divides by PyTorch's divisor.
Adaptive average pooling is two matmuls with constant averaging matrices.
1-d layers are the 2-d code with H = 1.
"""
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import conv as _w
from ..ops import matmul, reshape
from ..ops import sum as tsum
from ..ops.shape import mT
from .conv import check_input, ntuple, restore
from .module import Module


def _pool_args(x, kernel_size, stride, padding, dilation, nd, op):
    """Validate pooling arguments; 2-d tuples (1-d ones get a dummy H of 1)."""
    lift = (lambda t: t) if nd == 2 else (lambda t: (1,) + t)
    pad0 = (lambda t: t) if nd == 2 else (lambda t: (0,) + t)
    kernel = lift(ntuple(kernel_size, nd, "kernel_size", op))
    if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0):
        stride = kernel
    else:
        stride = lift(ntuple(stride, nd, "stride", op))
    pad = pad0(ntuple(padding, nd, "padding", op))
    dilation = lift(ntuple(dilation, nd, "dilation", op))
    for name, vals in (("kernel_size", kernel), ("stride", stride),
                       ("dilation", dilation)):
        if any(v <= 0 for v in vals):
            raise ArgumentError(f"{op}: {name} must be greater than zero, got "
                                f"{vals[2 - nd:]}")
    if any(p < 0 or p > k // 2 for p, k in zip(pad, kernel)):
        raise ArgumentError(
            f"{op}: pad should be at most half of kernel size, but got padding="
            f"{pad[2 - nd:]} and kernel_size={kernel[2 - nd:]}")
    return kernel, stride, pad, dilation


def _windows(x4, x, kernel, stride, pad, dilation, ceil_mode, nd, op):
    """Geometry params, with extra far-side padding for ceil_mode's last window."""
    h, w = x4.shape[2:]
    oh = _w.out_len(h, kernel[0], dilation[0], pad[0], pad[0], stride[0], ceil_mode)
    ow = _w.out_len(w, kernel[1], dilation[1], pad[1], pad[1], stride[1], ceil_mode)
    if oh < 1 or ow < 1:
        got = "x".join(str(s) for s in x.shape[-nd - 1:])
        raise ShapeError(
            f"{op}: given input size ({got}) the calculated output size "
            f"({x4.shape[1]}x{oh}x{ow}) is too small; the kernel "
            f"{kernel[2 - nd:]} (dilation {dilation[2 - nd:]}) must fit the input plus"
            f" padding {pad[2 - nd:]}")
    far = [max(p, (o - 1) * s + d * (k - 1) + 1 - n - p) for n, k, p, s, d, o in
           zip((h, w), kernel, pad, stride, dilation, (oh, ow))]
    return dict(kernel=kernel, dilation=dilation,
                padding=(pad[0], far[0], pad[1], far[1]), stride=stride,
                windows=(oh, ow), size=(h, w))


# -- max pooling -----------------------------------------------------------------------
def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
              nd, op):
    x4, batched = check_input(x, nd, op)
    kernel, stride, pad, dilation = _pool_args(x, kernel_size, stride, padding,
                                               dilation, nd, op)
    geom = _windows(x4, x, kernel, stride, pad, dilation, ceil_mode, nd, op)
    out, idx = _w.max_pool(x4, **geom)
    out = restore(out, nd, batched)
    return (out, restore(idx, nd, batched)) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of ``(N, C, L)`` -> ``(N, C, L_out)``; with
    ``return_indices`` also the int64 position in L of each maximum."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``,
    ``H_out = (H + 2p - d(k-1) - 1) / s + 1`` rounded down (up with
    ``ceil_mode``); padding counts as -inf.  With ``return_indices`` also the
    int64 flat position ``h * W + w`` of each maximum."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 2, "max_pool2d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# -- average pooling -------------------------------------------------------------------
def _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, nd, op):
    x4, batched = check_input(x, nd, op)
    kernel, stride, pad, dilation = _pool_args(x, kernel_size, stride, padding, 1, nd,
                                               op)
    if divisor_override is not None and (isinstance(divisor_override, bool) or
                                         int(divisor_override) != divisor_override or
                                         divisor_override == 0):
        raise ArgumentError(f"{op}: divisor must be a non-zero int, got "
                            f"{divisor_override!r}")
    geom = _windows(x4, x, kernel, stride, pad, dilation, ceil_mode, nd, op)
    (n, c, h, w), (oh, ow), (kh, kw) = x4.shape, geom["windows"], kernel
    if stride == kernel and not any(geom["padding"]) and (oh * kh, ow * kw) == (h, w):
        # Non-overlapping windows tiling the input: a reshaped view, no copy.
        total = tsum(reshape(x4, (n, c, oh, kh, ow, kw)), (3, 5))
    else:
        cols = _w.unfold(x4, **geom)
        total = tsum(reshape(cols, (n, c, kh * kw, oh, ow)), 2)
    if divisor_override is not None:
        out = total / divisor_override
    else:
        out = total / _w.avg_divisor((h, w), kernel, pad, stride, (oh, ow),
                                     count_include_pad, x4)
    return restore(out, nd, batched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over windows of ``(N, C, L)`` -> ``(N, C, L_out)``; padded zeros
    count towards the mean unless ``count_include_pad=False``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over windows of ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``;
    ``divisor_override`` replaces the window size as the divisor."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


# -- adaptive pooling ------------------------------------------------------------------
def _adaptive_size(output_size, size, nd, op):
    vals = (tuple(output_size) if isinstance(output_size, (list, tuple))
            else (output_size,) * nd)
    if len(vals) == 1:
        vals = vals * nd
    if len(vals) != nd:
        raise ArgumentError(f"{op}: output_size must be an int or a tuple of {nd} "
                            f"ints (None keeps the input size), got {output_size!r}")
    out = tuple(s if v is None else v for v, s in zip(vals, size[2 - nd:]))
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in out):
        raise ArgumentError(f"{op}: output_size must be positive ints, got "
                            f"{output_size!r}")
    if any(s < 1 for s in size[2 - nd:]):
        raise ShapeError(f"{op}: input spatial size must be non-empty, got "
                         f"{fmt_shape(size[2 - nd:])}")
    return ((1,) if nd == 1 else ()) + out


def _adaptive_avg(x, output_size, nd, op):
    x4, batched = check_input(x, nd, op)
    h, w = x4.shape[2:]
    oh, ow = _adaptive_size(output_size, (h, w), nd, op)
    out = x4
    if oh != h:
        out = matmul(_w.adaptive_avg_matrix(h, oh, x4), out)
    if ow != w:
        out = matmul(out, mT(_w.adaptive_avg_matrix(w, ow, x4)))
    return restore(out, nd, batched)


def adaptive_avg_pool1d(input, output_size):
    """``(N, C, L)`` -> ``(N, C, output_size)``: window i averages
    ``[floor(i*L/out), ceil((i+1)*L/out))``."""
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """``(N, C, H, W)`` -> ``(N, C, *output_size)`` with PyTorch's adaptive
    windows per axis; None in ``output_size`` keeps that input size."""
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def _adaptive_max(x, output_size, return_indices, nd, op):
    x4, batched = check_input(x, nd, op)
    windows = _adaptive_size(output_size, x4.shape[2:], nd, op)
    idx = _w.adaptive_max_pool_indices(x4, windows)
    out = restore(_w.pool_gather(x4, idx), nd, batched)
    return (out, restore(idx, nd, batched)) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """``(N, C, L)`` -> ``(N, C, output_size)``, the max of each adaptive window."""
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """``(N, C, H, W)`` -> ``(N, C, *output_size)``, the max of each adaptive
    window (indices are flat ``h * W + w``)."""
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


# -- modules ---------------------------------------------------------------------------
class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding="
                f"{self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max pooling over ``(N, C, L)``; ``stride`` defaults to ``kernel_size``."""

    def forward(self, input):
        return max_pool1d(input, self.kernel_size, self.stride, self.padding,
                          self.dilation, self.ceil_mode, self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """Max pooling over ``(N, C, H, W)``; ``stride`` defaults to ``kernel_size``;
    ``return_indices`` also returns the flat position of each maximum."""

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding,
                          self.dilation, self.ceil_mode, self.return_indices)


class AvgPool1d(Module):
    """Average pooling over ``(N, C, L)``; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = ntuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = ntuple(stride if stride is not None else kernel_size, 1,
                             "stride", "AvgPool1d")
        self.padding = ntuple(padding, 1, "padding", "AvgPool1d")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")

    def forward(self, input):
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                          self.ceil_mode, self.count_include_pad)


class AvgPool2d(Module):
    """Average pooling over ``(N, C, H, W)``; ``stride`` defaults to
    ``kernel_size``; ``divisor_override`` fixes the divisor."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = (count_include_pad,
                                                         divisor_override)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                          self.ceil_mode, self.count_include_pad, self.divisor_override)


class _AdaptiveNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveNd):
    """``(N, C, L)`` -> ``(N, C, output_size)`` by averaging adaptive windows."""

    def forward(self, input):
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveNd):
    """``(N, C, H, W)`` -> ``(N, C, *output_size)`` by averaging adaptive windows."""

    def forward(self, input):
        return adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxNd(_AdaptiveNd):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxNd):
    """``(N, C, L)`` -> ``(N, C, output_size)``, the max of adaptive windows."""

    def forward(self, input):
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxNd):
    """``(N, C, H, W)`` -> ``(N, C, *output_size)``, the max of adaptive windows."""

    def forward(self, input):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)
