"""Activation functions: the functional form first, then the Module wrappers.

Every function is a composite of primitives, so first and higher derivatives
come from the primitives' rules.  Branches that could overflow (``exp`` of a
large input) are computed on a clamped input, so the branch ``where`` throws
away never turns a zero gradient into ``0 * inf = nan``.  Gradients at the
kinks follow PyTorch (e.g. ``relu'(0) = 0``, ``elu'(0) = alpha``).
"""
import math

from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import (
    abs, clamp, erf, exp, expm1, log1p, maximum, minimum, rsqrt, sigmoid, sign, tanh,
    where,
)
from ..ops import atan as _atan
from ..ops import asinh as _asinh
from ..ops import relu as _relu
from ..ops import fused as _fused
from ..ops._util import dim1, floating
from ..ops.inplace import inplace as _inplace
from .module import Module
from .parameter import Parameter

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(fn, input, inplace, name):
    """``fn(input)``, written back into ``input`` when ``inplace``."""
    if inplace:
        return _inplace(input, fn, name + "_")
    return fn(input)


# -- piecewise linear ---------------------------------------------------------------
def relu(input, inplace=False):
    """``max(0, x)``; the gradient at 0 is 0."""
    return _maybe_inplace(_relu, input, inplace, "relu")


def relu6(input, inplace=False):
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` for x > 0, ``negative_slope * x`` otherwise."""
    return _maybe_inplace(lambda x: where(x > 0, x, x * negative_slope), input,
                          inplace, "leaky_relu")


def prelu(input, weight):
    """Leaky ReLU with a learned slope: ``weight`` has 1 entry or one per
    channel, the channel dim being dim 1 (inputs of fewer dims have 1 channel)."""
    x = floating(input)
    n = weight.numel()
    if n == 1:
        weight = weight.reshape(())
    else:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if channels != n:
            raise ShapeError(f"prelu: weight has {n} slopes but the input of shape "
                             f"{fmt_shape(x.shape)} has {channels} channels (dim 1); "
                             "give 1 slope or one per channel")
        weight = weight.reshape((n,) + (1,) * (x.ndim - 2))
    return where(x > 0, x, weight * x)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``x`` clipped to ``[min_val, max_val]``; zero gradient outside the open
    interval, as in PyTorch."""
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val ({min_val}) cannot be greater than "
                            f"max_val ({max_val})")

    def f(x):
        return where(x <= min_val, min_val, where(x >= max_val, max_val, x))

    return _maybe_inplace(f, floating(input), inplace, "hardtanh")


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value``."""
    return _maybe_inplace(lambda x: where(x > threshold, x, value), input, inplace,
                          "threshold")


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``: a piecewise-linear sigmoid."""
    return _maybe_inplace(lambda x: hardtanh(x + 3.0, 0.0, 6.0) / 6.0,
                          floating(input), inplace, "hardsigmoid")


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    return _maybe_inplace(lambda x: x * hardsigmoid(x), floating(input), inplace,
                          "hardswish")


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    x = floating(input)
    return where(abs(x) > lambd, x, 0.0)


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    x = floating(input)
    return where(x > lambd, x - lambd, where(x < -lambd, x + lambd, 0.0))


# -- exponential family ---------------------------------------------------------------
def elu(input, alpha=1.0, inplace=False):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""
    def f(x):
        return where(x > 0, x, alpha * expm1(clamp(x, max=0.0)))

    return _maybe_inplace(f, floating(input), inplace, "elu")


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _maybe_inplace(lambda x: _SELU_SCALE * elu(x, _SELU_ALPHA),
                          floating(input), inplace, "selu")


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise ArgumentError("celu: alpha cannot be 0 (it divides the input)")

    def f(x):
        return where(x > 0, x, alpha * expm1(clamp(x, max=0.0) / alpha))

    return _maybe_inplace(f, floating(input), inplace, "celu")


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``; ``x`` itself where ``beta * x >
    threshold``.  Written as ``max(z, 0) + log1p(exp(-|z|))``, which never
    overflows."""
    x = floating(input)
    z = x * beta if beta != 1 else x
    soft = maximum(z, 0.0) + log1p(exp(-abs(z)))
    if beta != 1:
        soft = soft / beta
    return where(z > threshold, x, soft)


def logsigmoid(input):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``, stable for any x."""
    x = floating(input)
    return minimum(x, 0.0) - log1p(exp(-abs(x)))


def gelu(input, approximate="none"):
    """``x * Phi(x)``, Phi the standard normal CDF; ``approximate='tanh'`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    x = floating(input)
    if approximate == "none":
        return 0.5 * x * (1.0 + erf(x * _SQRT_HALF))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got "
                        f"{approximate!r}")


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (also called swish)."""
    return _maybe_inplace(lambda x: x * sigmoid(x), floating(input), inplace, "silu")


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    return _maybe_inplace(lambda x: x * tanh(softplus(x)), floating(input), inplace,
                          "mish")


def softsign(input):
    """``x / (1 + |x|)``."""
    x = floating(input)
    return x / (1.0 + abs(x))


def tanhshrink(input):
    """``x - tanh(x)``."""
    x = floating(input)
    return x - tanh(x)


# -- the ones the lectures name that PyTorch lacks -------------------------------------
def arctan(input):
    """``atan(x)``: a sigmoid-shaped activation with range (-pi/2, pi/2)."""
    return _atan(floating(input))


def arsinh(input):
    """``asinh(x) = log(x + sqrt(x^2 + 1))``: unbounded, logarithmic growth."""
    return _asinh(floating(input))


def isru(input, alpha=1.0):
    """Inverse square root unit ``x / sqrt(1 + alpha x^2)``, range
    ``(-1/sqrt(alpha), 1/sqrt(alpha))``."""
    if alpha <= 0:
        raise ArgumentError(f"isru: alpha must be positive, got {alpha}")
    x = floating(input)
    return x * rsqrt(1.0 + alpha * x * x)


def heaviside_step(input):
    """1 where ``x >= 0``, else 0, with a zero gradient everywhere.

    ``sign`` has a zero derivative, so ``clamp(sign(x) + 1, max=1)`` is the
    step with a gradient that flows (as zeros) instead of stopping the graph,
    which is what a perceptron trained by autograd needs.
    """
    x = floating(input)
    return clamp(sign(x) + 1.0, max=1.0)


# -- normalising -----------------------------------------------------------------------
def _softmax_dim(ndim, op):
    """PyTorch's implicit choice when ``dim`` is None (kept for old code)."""
    return 0 if ndim in (0, 1, 3) else 1


def _prep(input, dim, dtype, op):
    x = floating(input)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        dim = _softmax_dim(x.ndim, op)
    return x, dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, after subtracting the (detached)
    max so that ``exp`` cannot overflow."""
    x, dim = _prep(input, dim, dtype, "softmax")
    if x.ndim == 0:
        return exp(x - x.detach())
    # The promoted primitive computes exactly the composite (tests/test_fused.py).
    return _fused.softmax(x, dim1(dim, x.ndim, "softmax"))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``x - logsumexp(x)`` along ``dim``, stable for any magnitude of ``x``."""
    x, dim = _prep(input, dim, dtype, "log_softmax")
    if x.ndim == 0:
        return x - x.detach()
    return _fused.log_softmax(x, dim1(dim, x.ndim, "log_softmax"))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)``."""
    x, dim = _prep(input, dim, dtype, "softmin")
    return softmax(-x, dim)


def glu(input, dim=-1):
    """Gated linear unit: split ``input`` in halves ``a, b`` along ``dim``;
    ``a * sigmoid(b)``."""
    x = floating(input)
    n = x.shape[dim] if x.ndim else 0
    if n % 2:
        raise ShapeError(f"glu: dim {dim} of the input of shape "
                            f"{fmt_shape(x.shape)} has odd size {n}; it must be even")
    a, b = x.split(n // 2, dim)
    return a * sigmoid(b)


# -- in-place spellings: F.relu_(x) is F.relu(x, inplace=True) -----------------------
def relu_(input):
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold_value, value):
    return threshold(input, threshold_value, value, inplace=True)


# -- modules ---------------------------------------------------------------------------
class _Activation(Module):
    """An activation module: ``forward`` is ``_fn`` with the stored options."""

    _opts = ()

    def extra_repr(self):
        vals = ((k, getattr(self, k)) for k in self._opts)
        return ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
                         for k, v in vals)


def _inplace_repr(self):
    return "inplace=True" if self.inplace else ""


class ReLU(_Activation):
    """Module form of :func:`relu`; input of any shape, output of the same shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return relu(input, self.inplace)

    extra_repr = _inplace_repr


class ReLU6(_Activation):
    """Module form of :func:`relu6`; input of any shape, output of the same shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return relu6(input, self.inplace)

    extra_repr = _inplace_repr


class LeakyReLU(_Activation):
    """Module form of :func:`leaky_relu`.

    Input of any shape, output of the same shape.
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (
            ", inplace=True" if self.inplace else "")


class PReLU(Module):
    """Leaky ReLU whose slope is learned: ``weight`` of shape (num_parameters,),
    initialised to ``init``."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        from ..ops import full

        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(full((num_parameters,), float(init), dtype=dtype))

    def reset_parameters(self):
        from . import init as _init

        _init.constant_(self.weight, self.init)

    def forward(self, input):
        return prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Hardtanh(_Activation):
    """Module form of :func:`hardtanh`; input of any shape, output of the same shape."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ArgumentError(f"Hardtanh: min_val ({min_val}) cannot be greater "
                                f"than max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class Threshold(_Activation):
    """Module form of :func:`threshold`.

    Input of any shape, output of the same shape.
    """

    _opts = ("threshold", "value")

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return threshold(input, self.threshold, self.value, self.inplace)


class Hardsigmoid(_Activation):
    """Module form of :func:`hardsigmoid`.

    Input of any shape, output of the same shape.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return hardsigmoid(input, self.inplace)

    extra_repr = _inplace_repr


class Hardswish(_Activation):
    """Module form of :func:`hardswish`.

    Input of any shape, output of the same shape.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return hardswish(input, self.inplace)

    extra_repr = _inplace_repr


class Hardshrink(_Activation):
    """Module form of :func:`hardshrink`.

    Input of any shape, output of the same shape.
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """Module form of :func:`softshrink`.

    Input of any shape, output of the same shape.
    """

    def forward(self, input):
        return softshrink(input, self.lambd)


class ELU(_Activation):
    """Module form of :func:`elu`; input of any shape, output of the same shape."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """Module form of :func:`celu`; input of any shape, output of the same shape."""

    def forward(self, input):
        return celu(input, self.alpha, self.inplace)


class SELU(_Activation):
    """Module form of :func:`selu`; input of any shape, output of the same shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return selu(input, self.inplace)

    extra_repr = _inplace_repr


class GELU(_Activation):
    """Module form of :func:`gelu`; input of any shape, output of the same shape."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got "
                                f"{approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_Activation):
    """Module form of :func:`silu`; input of any shape, output of the same shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return silu(input, self.inplace)

    extra_repr = _inplace_repr


class Mish(SiLU):
    """Module form of :func:`mish`; input of any shape, output of the same shape."""

    def forward(self, input):
        return mish(input, self.inplace)


class Sigmoid(_Activation):
    """Module form of :func:`sigmoid`; input of any shape, output of the same shape."""

    def forward(self, input):
        return sigmoid(floating(input))


class Tanh(_Activation):
    """Module form of :func:`tanh`; input of any shape, output of the same shape."""

    def forward(self, input):
        return tanh(floating(input))


class Softplus(_Activation):
    """Module form of :func:`softplus`; input of any shape, output of the same shape."""

    _opts = ("beta", "threshold")

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return softplus(input, self.beta, self.threshold)


class Softsign(_Activation):
    """Module form of :func:`softsign`; input of any shape, output of the same shape."""

    def forward(self, input):
        return softsign(input)


class Tanhshrink(_Activation):
    """Module form of :func:`tanhshrink`.

    Input of any shape, output of the same shape.
    """

    def forward(self, input):
        return tanhshrink(input)


class LogSigmoid(_Activation):
    """Module form of :func:`logsigmoid`.

    Input of any shape, output of the same shape.
    """

    def forward(self, input):
        return logsigmoid(input)


class ArcTan(_Activation):
    """``atan(x)`` as a layer (not in PyTorch)."""

    def forward(self, input):
        return arctan(input)


class ArSinh(_Activation):
    """``asinh(x)`` as a layer (not in PyTorch)."""

    def forward(self, input):
        return arsinh(input)


class ISRU(_Activation):
    """Inverse square root unit ``x / sqrt(1 + alpha x^2)`` (not in PyTorch)."""

    _opts = ("alpha",)

    def __init__(self, alpha=1.0):
        super().__init__()
        if alpha <= 0:
            raise ArgumentError(f"ISRU: alpha must be positive, got {alpha}")
        self.alpha = alpha

    def forward(self, input):
        return isru(input, self.alpha)


class Heaviside(_Activation):
    """The step ``1[x >= 0]`` with zero gradient, for perceptrons (not in
    PyTorch, whose ``torch.heaviside`` has no gradient at all)."""

    def forward(self, input):
        return heaviside_step(input)


class _SoftmaxBase(_Activation):
    """Shared by the softmax family: ``dim`` None picks PyTorch's implicit dim."""

    _opts = ("dim",)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim


class Softmax(_SoftmaxBase):
    """Module form of :func:`softmax` along ``dim``; output shape = input shape."""

    def forward(self, input):
        return softmax(input, self.dim)


class LogSoftmax(_SoftmaxBase):
    """Module form of :func:`log_softmax` along ``dim``; output shape = input shape."""

    def forward(self, input):
        return log_softmax(input, self.dim)


class Softmin(_SoftmaxBase):
    """Module form of :func:`softmin` along ``dim``; output shape = input shape."""

    def forward(self, input):
        return softmin(input, self.dim)


class Softmax2d(_Activation):
    """Softmax over the channels of ``(N, C, H, W)`` or ``(C, H, W)`` input."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected a 3D or 4D input, got shape "
                             f"{fmt_shape(input.shape)}")
        return softmax(input, -3)


class GLU(_Activation):
    """Module form of :func:`glu` along ``dim``."""

    _opts = ("dim",)

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return glu(input, self.dim)
