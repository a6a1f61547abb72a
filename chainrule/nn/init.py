"""``chainrule.nn.init``: fill parameters in place from the usual distributions.

Every function writes through Tensor in-place methods under ``no_grad`` (so
it works on leaf parameters and goes through the dispatcher like any op) and
returns the tensor.  ``generator=`` selects the random stream, as in PyTorch.

Fan-in and fan-out of a weight of shape ``(out, in, *kernel)`` are
``in * prod(kernel)`` and ``out * prod(kernel)``.
"""
import math

from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import eye, logical_or, randn, zeros
from ..ops.linalg import svd


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance stable through
    ``nonlinearity``: 1 (linear, conv, sigmoid), 5/3 (tanh), sqrt(2) (relu),
    sqrt(2 / (1 + slope^2)) (leaky_relu, slope ``param`` or 0.01), 3/4 (selu)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ArgumentError(f"calculate_gain: negative_slope {param!r} is not a "
                                "valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ArgumentError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; "
                        "use one of linear, conv1d/2d/3d, conv_transpose1d/2d/3d, "
                        "sigmoid, tanh, relu, leaky_relu, selu")


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight with at least 2 dims."""
    if tensor.ndim < 2:
        raise ShapeError("Fan in and fan out can not be computed for tensor with fewer "
                         f"than 2 dimensions (got shape {fmt_shape(tensor.shape)})")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"Mode {mode} not supported, please use one of fan_in, "
                            "fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples from U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples from N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) conditioned on ``[a, b]`` (absolute bounds).

    Out-of-range draws are redrawn until none remain, which samples the
    truncated distribution exactly.
    """
    if not a < b:
        raise ArgumentError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    with no_grad():
        x = randn(tensor.shape, generator=generator, dtype=tensor.dtype) * std + mean
        for _ in range(1000):
            out = logical_or(x < a, x > b)
            n = int(out.sum().item())
            if n == 0:
                break
            x[out] = randn(n, generator=generator, dtype=tensor.dtype) * std + mean
        else:
            raise ArgumentError(f"trunc_normal_: [a, b] = [{a}, {b}] holds too little "
                                f"of N({mean}, {std}^2) to sample from")
        return tensor.copy_(x)


def constant_(tensor, val):
    """Fill with ``val``."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def ones_(tensor):
    with no_grad():
        return tensor.fill_(1.0)


def eye_(tensor):
    """The identity matrix (ones on the diagonal) in a 2-d tensor."""
    if tensor.ndim != 2:
        raise ShapeError(f"eye_: only 2-d tensors are supported, got shape "
                         f"{fmt_shape(tensor.shape)}")
    with no_grad():
        return tensor.copy_(eye(*tensor.shape, dtype=tensor.dtype))


def dirac_(tensor, groups=1):
    """The identity convolution: a 1 at the kernel centre of matching in/out
    channels (per group) in a 3-, 4- or 5-d weight."""
    if tensor.ndim not in (3, 4, 5):
        raise ShapeError(f"dirac_: only 3, 4 and 5-d tensors are supported, got shape "
                         f"{fmt_shape(tensor.shape)}")
    out_per = tensor.shape[0] // groups
    if tensor.shape[0] % groups:
        raise ArgumentError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by "
                            f"groups ({groups})")
    centre = tuple(k // 2 for k in tensor.shape[2:])
    with no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min(out_per, tensor.shape[1])):
                tensor[(g * out_per + d, d) + centre] = 1.0
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))`` (Glorot)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu",
                     generator=None):
    """U(-b, b) with ``b = gain * sqrt(3 / fan)`` (He); ``gain`` from
    :func:`calculate_gain` (``a`` is the leaky-relu slope)."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu",
                    generator=None):
    """N(0, std^2) with ``std = gain / sqrt(fan)`` (He)."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix, uniformly distributed (Haar), times ``gain``.

    The tensor is viewed as ``(shape[0], numel / shape[0])``.  The orthogonal
    factor ``U V^T`` of a Gaussian matrix's SVD is Haar-distributed, like the
    sign-corrected Q of its QR decomposition.
    """
    if tensor.ndim < 2:
        raise ShapeError("orthogonal_: only tensors with 2 or more dimensions are "
                         f"supported, got shape {fmt_shape(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with no_grad():
        a = randn(rows, cols, generator=generator, dtype="float64")
        u, _, vh = svd(a, full_matrices=False)
        q = (u @ vh) * gain
        return tensor.copy_(q.reshape(tensor.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """N(0, std^2) entries with a fraction ``sparsity`` of each column zeroed."""
    if tensor.ndim != 2:
        raise ShapeError(f"sparse_: only 2-d tensors are supported, got shape "
                         f"{fmt_shape(tensor.shape)}")
    from ..ops import argsort, rand

    rows, cols = tensor.shape
    n_zero = int(math.ceil(sparsity * rows))
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        order = argsort(rand(rows, cols, generator=generator), dim=0)
        zero = zeros(rows, cols, dtype="bool")
        zero = zero.scatter(0, order[:n_zero], True) if n_zero else zero
        return tensor.masked_fill_(zero, 0.0)
