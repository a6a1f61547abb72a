"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``,
``ConvTranspose2d`` and the functional ``conv1d``, ``conv2d``,
``conv_transpose1d``, ``conv_transpose2d``, ``unfold``, ``fold``.

A convolution is one window copy and one matmul: ``unfold`` turns the
input (N, C, H, W) into columns (N, C*kh*kw, L) and the weight, viewed as
(out_channels, C*kh*kw), multiplies them; groups add a group dim to both
sides of the same matmul.  The backward pass is that matmul's two
products plus one ``fold``.  A transposed convolution is the adjoint:
a matmul that produces columns, then ``fold``.  1-d layers are the 2-d
code with H = 1.
"""
import math
import numbers

from ..errors import ArgumentError, DTypeError, ShapeError, fmt_shape
from ..ops import conv as _w
from ..ops import empty, matmul, reshape, squeeze, unsqueeze
from ..ops.shape import mT
from ..ops.shape import pad as _pad
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


# -- argument parsing shared with pooling ----------------------------------------------
def ntuple(value, n, name, op):
    """An int or a length-n sequence of ints -> a tuple of n ints."""
    vals = tuple(value) if isinstance(value, (list, tuple)) else (value,) * n
    if len(vals) == 1:
        vals = vals * n
    if len(vals) != n or not all(_is_int(v) for v in vals):
        raise ArgumentError(f"{op}: {name} must be an int or a tuple of {n} ints, "
                            f"got {value!r}")
    return tuple(int(v) for v in vals)


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_input(x, nd, op):
    """A float Tensor with nd spatial dims, batched or not -> (4-d view, batched)."""
    if not isinstance(x, Tensor):
        raise DTypeError(f"{op}: expected input to be a Tensor, got "
                         f"{type(x).__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
            f"but got input of size {fmt_shape(x.shape)}")
    if not x.is_floating_point():
        raise DTypeError(f"{op}: expected a floating-point input, got {x.dtype.name}; "
                         "convert with .float() or .double()")
    batched = x.ndim == nd + 2
    if not batched:
        x = unsqueeze(x, 0)
    if nd == 1:
        x = unsqueeze(x, 2)
    return x, batched


def restore(out, nd, batched):
    """Undo :func:`check_input`'s reshaping on a 4-d result."""
    if nd == 1:
        out = squeeze(out, 2)
    return out if batched else squeeze(out, 0)


def _describe(x):
    return fmt_shape(x.shape) if isinstance(x, Tensor) else type(x).__name__


def _positive(vals, name, op):
    if any(v <= 0 for v in vals):
        raise ArgumentError(f"{op}: {name} must be positive, got {vals}")


def _nonneg(vals, name, op):
    if any(v < 0 for v in vals):
        raise ArgumentError(f"{op}: {name} must be non-negative, got {vals}")


def _geometry(size, kernel, dilation, padding, stride, op):
    """Keyword params for the window primitives; checks the kernel fits."""
    (h, w), (kh, kw), (dh, dw) = size, kernel, dilation
    pt, pb, pl, pr = padding
    hp, wp = h + pt + pb, w + pl + pr
    ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if hp < ekh or wp < ekw:
        raise ShapeError(
            f"{op}: calculated padded input size per channel: ({hp} x {wp}). Kernel "
            f"size: ({ekh} x {ekw}) (dilated). Kernel size can't be greater than "
            "actual input size")
    oh = _w.out_len(h, kh, dh, pt, pb, stride[0])
    ow = _w.out_len(w, kw, dw, pl, pr, stride[1])
    return dict(kernel=(kh, kw), dilation=(dh, dw), padding=(pt, pb, pl, pr),
                stride=tuple(stride), windows=(oh, ow), size=(h, w))


def _same_padding(kernel, dilation):
    """PyTorch's 'same': total d*(k-1) per dim, the odd cell on the far side."""
    out = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        out += [total // 2, total - total // 2]
    return out


def _check_dtypes(x, w, b, op):
    if not isinstance(b, (Tensor, type(None))):
        raise DTypeError(f"{op}: bias must be a Tensor or None, got "
                         f"{type(b).__name__}")
    if w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        got = f"input {x.dtype.name}, weight {w.dtype.name}"
        if b is not None:
            got += f", bias {b.dtype.name}"
        raise DTypeError(f"{op}: input, weight and bias must have the same dtype, got "
                         f"{got}")


def _check_bias(b, n, op):
    if b is not None and (not isinstance(b, Tensor) or b.shape != (n,)):
        shape = fmt_shape(b.shape) if isinstance(b, Tensor) else type(b).__name__
        raise ShapeError(f"{op}: expected bias of shape [{n}] (out_channels), got "
                         f"{shape}")


def _check_weight(x, w, b, groups, nd, op, transposed):
    """Checks shared by convolutions and transposed convolutions: the weight's
    rank and dtype, ``groups``, and the weight's first dim divisible by it."""
    layout = ("in_channels, out_channels/groups" if transposed else
              "out_channels, in_channels/groups")
    if not isinstance(w, Tensor) or w.ndim != nd + 2:
        raise ShapeError(
            f"{op}: weight must be {nd + 2}-D ({layout}, "
            f"{'kH, kW' if nd == 2 else 'kW'}), got "
            f"{fmt_shape(w.shape) if isinstance(w, Tensor) else type(w).__name__}")
    _check_dtypes(x, w, b, op)
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ArgumentError(f"{op}: groups must be a positive int, got {groups!r}")
    if w.shape[0] % groups:
        raise ShapeError(f"{op}: weight of size {fmt_shape(w.shape)} has {w.shape[0]} "
                         f"{'input' if transposed else 'output'} channels, which is "
                         f"not divisible by groups={groups}")


# -- convolution -----------------------------------------------------------------------
def _conv(x, w, b, stride, padding, dilation, groups, nd, op, pad_mode="zeros"):
    x4, batched = check_input(x, nd, op)
    _check_weight(x, w, b, groups, nd, op, transposed=False)
    o, cg = w.shape[0], w.shape[1]
    n, c, h, wd = x4.shape
    if c != cg * groups:
        raise ShapeError(
            f"{op}: expected input {fmt_shape(x.shape)} to have {cg * groups} channels "
            f"(weight {fmt_shape(w.shape)}, groups={groups}), but got {c} channels "
            "instead")
    _check_bias(b, o, op)
    kernel = (1,) * (2 - nd) + tuple(w.shape[2:])
    stride = (1,) * (2 - nd) + ntuple(stride, nd, "stride", op)
    dilation = (1,) * (2 - nd) + ntuple(dilation, nd, "dilation", op)
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    if isinstance(padding, str):
        if padding == "valid":
            pads = [0, 0, 0, 0]
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ArgumentError(f"{op}: padding='same' is not supported for "
                                    f"strided convolutions (stride {stride[2 - nd:]})")
            pads = _same_padding(kernel, dilation)
        else:
            raise ArgumentError(f"{op}: invalid padding string {padding!r}, should be "
                                "one of 'valid', 'same'")
    else:
        p = (0,) + ntuple(padding, nd, "padding", op) if nd == 1 else \
            ntuple(padding, 2, "padding", op)
        _nonneg(p, "padding", op)
        pads = [p[0], p[0], p[1], p[1]]
    if pad_mode != "zeros" and any(pads):
        # Other padding modes pad explicitly (last dim first, as F.pad reads).
        x4 = _pad(x4, (pads[2], pads[3], pads[0], pads[1]), mode=pad_mode)
        h, wd = x4.shape[2:]
        pads = [0, 0, 0, 0]
    geom = _geometry((h, wd), kernel, dilation, pads, stride, op)
    oh, ow = geom["windows"]
    k = cg * kernel[0] * kernel[1]
    if groups == 1:
        # One promoted primitive: a single GEMM over the whole batch (ops/conv.py).
        out = _w.conv2d(x4, w if nd == 2 else reshape(w, (o, cg) + kernel), b, **geom)
        return restore(out, nd, batched)
    if kernel == (1, 1) and stride == (1, 1) and not any(pads):
        cols = reshape(x4, (n, c, h * wd))  # a 1x1 convolution needs no window copy
    else:
        cols = _w.unfold(x4, **geom)
    if groups == 1:
        out = matmul(reshape(w, (o, k)), cols)
    else:
        wg = reshape(w, (groups, o // groups, k))
        out = reshape(matmul(wg, reshape(cols, (n, groups, k, oh * ow))),
                      (n, o, oh * ow))
    if b is not None:
        out = out + reshape(b, (o, 1))
    return restore(reshape(out, (n, o, oh, ow)), nd, batched)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation, as in PyTorch).

    input ``(N, C_in, L)`` or ``(C_in, L)``, weight ``(C_out, C_in/groups, kW)``,
    bias ``(C_out,)`` -> ``(N, C_out, L_out)``.  ``padding``: int, tuple,
    'valid' or 'same'.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation, as in PyTorch).

    input ``(N, C_in, H, W)`` or ``(C_in, H, W)``, weight
    ``(C_out, C_in/groups, kH, kW)``, bias ``(C_out,)`` -> ``(N, C_out, H_out,
    W_out)`` with ``H_out = (H + 2p - d(k-1) - 1) // s + 1``.  ``padding``: int,
    tuple, 'valid' or 'same'.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


# -- transposed convolution ------------------------------------------------------------
def _conv_t(x, w, b, stride, padding, output_padding, groups, dilation, nd, op,
            output_size=None):
    x4, batched = check_input(x, nd, op)
    _check_weight(x, w, b, groups, nd, op, transposed=True)
    cin, og = w.shape[0], w.shape[1]
    n, c, h, wd = x4.shape
    if c != cin:
        raise ShapeError(
            f"{op}: expected input {fmt_shape(x.shape)} to have {cin} channels "
            f"(weight {fmt_shape(w.shape)}, groups={groups}), but got {c} channels "
            "instead")
    o = og * groups
    _check_bias(b, o, op)
    lift = (lambda t: t) if nd == 2 else (lambda t: (1,) + t)
    lift0 = (lambda t: t) if nd == 2 else (lambda t: (0,) + t)
    if isinstance(padding, str):
        raise ArgumentError(f"{op}: padding must be an int or a tuple of ints for "
                            f"transposed convolutions, got {padding!r}")
    kernel = lift(tuple(w.shape[2:]))
    stride = lift(ntuple(stride, nd, "stride", op))
    pad = lift0(ntuple(padding, nd, "padding", op))
    dilation = lift(ntuple(dilation, nd, "dilation", op))
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    _nonneg(pad, "padding", op)
    base = tuple((i - 1) * s - 2 * p + d * (k - 1) + 1 for i, s, p, d, k in
                 zip((h, wd), stride, pad, dilation, kernel))
    if output_size is not None:
        opad = _output_padding(output_size, base, stride, nd, op)
    else:
        opad = lift0(ntuple(output_padding, nd, "output_padding", op))
    for q, s, d in zip(opad, stride, dilation):
        if q < 0 or (q >= s and q >= d):
            raise ArgumentError(
                f"{op}: output padding must be smaller than either stride or "
                f"dilation, got output_padding={opad[2 - nd:]}, stride="
                f"{stride[2 - nd:]}, dilation={dilation[2 - nd:]}")
    size = tuple(a + q for a, q in zip(base, opad))
    if size[0] < 1 or size[1] < 1:
        raise ShapeError(f"{op}: the output size {size[2 - nd:]} for input "
                         f"{fmt_shape(x.shape)} is too small (kernel "
                         f"{kernel[2 - nd:]}, padding {pad[2 - nd:]})")
    geom = dict(kernel=kernel, dilation=dilation,
                padding=(pad[0], pad[0], pad[1], pad[1]), stride=stride,
                windows=(h, wd), size=size)
    k = og * kernel[0] * kernel[1]
    xm = reshape(x4, (n, cin, h * wd))
    if groups == 1:
        cols = matmul(mT(reshape(w, (cin, k))), xm)
    else:
        wg = reshape(w, (groups, cin // groups, k))
        xg = reshape(xm, (n, groups, cin // groups, h * wd))
        cols = reshape(matmul(mT(wg), xg), (n, o * kernel[0] * kernel[1], h * wd))
    out = _w.fold(cols, **geom)
    if b is not None:
        out = out + reshape(b, (o, 1, 1))
    return restore(out, nd, batched)


def _output_padding(output_size, base, stride, nd, op):
    want = tuple(int(s) for s in output_size)
    if len(want) not in (nd, nd + 2):
        raise ArgumentError(f"{op}: output_size must have {nd} or {nd + 2} elements, "
                            f"got {output_size!r}")
    want = base[:2 - nd] + want[-nd:]
    opad = tuple(wt - bs for wt, bs in zip(want, base))
    for q, s, bs in zip(opad, stride, base):
        if q < 0 or q >= s:
            raise ArgumentError(
                f"{op}: requested an output size of {want[2 - nd:]}, but valid sizes "
                f"range from {base[2 - nd:]} to "
                f"{tuple(b + s - 1 for b, s in zip(base, stride))[2 - nd:]}")
    return opad


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-d transposed convolution (the adjoint of conv1d).

    input ``(N, C_in, L)``, weight ``(C_in, C_out/groups, kW)`` -> ``(N, C_out,
    L_out)`` with ``L_out = (L-1)s - 2p + d(k-1) + output_padding + 1``.
    """
    return _conv_t(input, weight, bias, stride, padding, output_padding, groups,
                   dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-d transposed convolution (the adjoint of conv2d).

    input ``(N, C_in, H, W)``, weight ``(C_in, C_out/groups, kH, kW)`` ->
    ``(N, C_out, H_out, W_out)`` with ``H_out = (H-1)s - 2p + d(k-1) +
    output_padding + 1``.
    """
    return _conv_t(input, weight, bias, stride, padding, output_padding, groups,
                   dilation, 2, "conv_transpose2d")


# -- unfold / fold ---------------------------------------------------------------------
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding windows: ``(N, C, H, W)`` -> ``(N, C*kH*kW, L)``, L the
    number of windows; the column order is (channel, kernel row, kernel col)."""
    op = "unfold"
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-D or 4-D input tensor, got "
                         f"{_describe(input)}")
    x = input if input.ndim == 4 else unsqueeze(input, 0)
    kernel = ntuple(kernel_size, 2, "kernel_size", op)
    dilation = ntuple(dilation, 2, "dilation", op)
    stride = ntuple(stride, 2, "stride", op)
    pad = ntuple(padding, 2, "padding", op)
    _positive(kernel, "kernel_size", op)
    _positive(dilation, "dilation", op)
    _positive(stride, "stride", op)
    _nonneg(pad, "padding", op)
    geom = _geometry(x.shape[2:], kernel, dilation, (pad[0], pad[0], pad[1], pad[1]),
                     stride, op)
    out = _w.unfold(x, **geom)
    return out if input.ndim == 4 else squeeze(out, 0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding windows back into an image: ``(N, C*kH*kW, L)`` ->
    ``(N, C, *output_size)``; the adjoint of :func:`unfold`."""
    op = "fold"
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected a 2-D or 3-D input tensor, got "
                         f"{_describe(input)}")
    x = input if input.ndim == 3 else unsqueeze(input, 0)
    size = ntuple(output_size, 2, "output_size", op)
    kernel = ntuple(kernel_size, 2, "kernel_size", op)
    dilation = ntuple(dilation, 2, "dilation", op)
    stride = ntuple(stride, 2, "stride", op)
    pad = ntuple(padding, 2, "padding", op)
    _positive(kernel, "kernel_size", op)
    _positive(dilation, "dilation", op)
    _positive(stride, "stride", op)
    _nonneg(pad, "padding", op)
    kk = kernel[0] * kernel[1]
    if x.shape[1] % kk:
        raise ShapeError(f"{op}: expected size of input's dimension 1 to be divisible "
                         f"by the product of kernel_size ({kk}), but got input of "
                         f"size {fmt_shape(input.shape)}")
    geom = _geometry(size, kernel, dilation, (pad[0], pad[0], pad[1], pad[1]), stride,
                     op)
    oh, ow = geom["windows"]
    if x.shape[2] != oh * ow:
        raise ShapeError(
            f"{op}: given output_size={size}, kernel_size={kernel}, dilation="
            f"{dilation}, padding={pad}, stride={stride}, expected size of input's "
            f"dimension 2 to match the calculated number of sliding blocks {oh} * {ow}"
            f" = {oh * ow}, but got input of size {fmt_shape(input.shape)}")
    out = _w.fold(x, **geom)
    return out if input.ndim == 3 else squeeze(out, 0)


# -- modules ---------------------------------------------------------------------------
_PAD_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared constructor, init and repr of the convolution layers."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding,
                 dilation, transposed, output_padding, groups, bias, padding_mode,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        nd = self._nd
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ArgumentError(f"{name}: groups must be a positive integer, got "
                                f"{groups!r}")
        if in_channels % groups:
            raise ArgumentError(f"{name}: in_channels ({in_channels}) must be "
                                f"divisible by groups ({groups})")
        if out_channels % groups:
            raise ArgumentError(f"{name}: out_channels ({out_channels}) must be "
                                f"divisible by groups ({groups})")
        if padding_mode not in _PAD_MODES:
            raise ArgumentError(f"{name}: padding_mode must be one of {_PAD_MODES}, "
                                f"got {padding_mode!r}")
        kernel_size = ntuple(kernel_size, nd, "kernel_size", name)
        stride = ntuple(stride, nd, "stride", name)
        dilation = ntuple(dilation, nd, "dilation", name)
        _positive(kernel_size, "kernel_size", name)
        _positive(stride, "stride", name)
        _positive(dilation, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ArgumentError(f"{name}: invalid padding string {padding!r}, "
                                    "should be one of 'valid', 'same'")
            if padding == "same" and any(s != 1 for s in stride):
                raise ArgumentError(f"{name}: padding='same' is not supported for "
                                    "strided convolutions")
        else:
            padding = ntuple(padding, nd, "padding", name)
            _nonneg(padding, "padding", name)
        if transposed and padding_mode != "zeros":
            raise ArgumentError(f"{name}: only 'zeros' padding mode is supported, got "
                                f"{padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.transposed = dilation, transposed
        self.output_padding = ntuple(output_padding, nd, "output_padding", name)
        self.groups, self.padding_mode = groups, padding_mode
        from .._dtype import get_default_dtype

        dt = dtype if dtype is not None else get_default_dtype()
        shape = ((in_channels, out_channels // groups) if transposed else
                 (out_channels, in_channels // groups)) + kernel_size
        self.weight = Parameter(empty(*shape, dtype=dt))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        nd = self._nd
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
             f", stride={self.stride}")
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _label(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class Conv1d(_ConvNd):
    """1-d convolution layer: ``(N, C_in, L)`` -> ``(N, C_out, L_out)``.

    ``weight``: ``(out_channels, in_channels/groups, kernel_size)``; ``bias``:
    ``(out_channels,)``; both start as U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    ``fan_in = in_channels/groups * kernel_size``, as in PyTorch.
    """

    _nd = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, False, 0, groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        return _conv(input, weight, bias, self.stride, self.padding, self.dilation,
                     self.groups, 1, self._label(), self.padding_mode)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv2d(_ConvNd):
    """2-d convolution layer: ``(N, C_in, H, W)`` -> ``(N, C_out, H_out, W_out)``.

    ``weight``: ``(out_channels, in_channels/groups, kH, kW)``; ``bias``:
    ``(out_channels,)``; both start as U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    ``fan_in = in_channels/groups * kH * kW``, as in PyTorch.  ``padding``:
    int, pair, 'valid' or 'same'; ``padding_mode``: 'zeros', 'reflect',
    'replicate' or 'circular'.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, False, 0, groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        """The convolution with another weight and bias (weight standardisation,
        spectral norm...), as in PyTorch."""
        return _conv(input, weight, bias, self.stride, self.padding, self.dilation,
                     self.groups, 2, self._label(), self.padding_mode)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class ConvTranspose1d(_ConvNd):
    """1-d transposed convolution layer: ``(N, C_in, L)`` -> ``(N, C_out, L_out)``.

    ``weight``: ``(in_channels, out_channels/groups, kernel_size)``.
    ``forward(input, output_size=None)``: ``output_size`` picks the
    output_padding that gives that size.
    """

    _nd = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, True, output_padding, groups, bias, padding_mode,
                         device, dtype)

    def forward(self, input, output_size=None):
        return _conv_t(input, self.weight, self.bias, self.stride, self.padding,
                       self.output_padding, self.groups, self.dilation, 1,
                       self._label(), output_size)


class ConvTranspose2d(_ConvNd):
    """2-d transposed convolution layer: ``(N, C_in, H, W)`` -> ``(N, C_out,
    H_out, W_out)``, ``H_out = (H-1)s - 2p + d(k-1) + output_padding + 1``.

    ``weight``: ``(in_channels, out_channels/groups, kH, kW)``; init as PyTorch
    (fan_in = out_channels/groups * kH * kW).  ``forward(input,
    output_size=None)``: ``output_size`` picks the output_padding that gives it.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, True, output_padding, groups, bias, padding_mode,
                         device, dtype)

    def forward(self, input, output_size=None):
        return _conv_t(input, self.weight, self.bias, self.stride, self.padding,
                       self.output_padding, self.groups, self.dilation, 2,
                       self._label(), output_size)
