"""Dense layers (``Linear``, ``Bilinear``) and the shape-only layers
``Identity``, ``Flatten`` and ``Unflatten``."""
import math

from ..errors import DTypeError, ShapeError, fmt_shape
from ..ops import einsum, empty, flatten, matmul, unflatten
from ..ops import fused as _fused
from . import init
from .module import Module
from .parameter import Parameter


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``.

    input ``(*, in_features)``, weight ``(out_features, in_features)``, bias
    ``(out_features,)`` -> ``(*, out_features)``.
    """
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ShapeError(
            f"linear: input of shape {fmt_shape(input.shape)} has "
            f"{input.shape[-1] if input.ndim else 'no'} features in its last dim, but "
            f"the weight {fmt_shape(weight.shape)} expects {weight.shape[-1]}")
    if input.dtype is not weight.dtype:
        raise DTypeError(_dtype_advice(input.dtype, weight.dtype))
    if (weight.ndim == 2
            and (bias is None or (bias.ndim == 1 and bias.dtype is weight.dtype))):
        if input.ndim <= 2:
            # One dispatch, same result.  A 1-D input is one example, as each
            # is under vmap: its gradients are then one op each (an outer
            # product, a vector-matrix product) instead of a matmul's reshapes
            # and transposes, each a batched dispatch.
            return _fused.linear(input, weight, bias)
        # (*, in) as one (N, in) GEMM: NumPy's matmul of a 3-d array by the
        # transposed weight runs one small product per leading index (under BLAS
        # threads on a busy machine measured 50-700x slower), and the weight's
        # gradient is then one (out, in) matmul, not a batch of them summed.
        lead = input.shape[:-1]
        out = _fused.linear(input.reshape(-1, input.shape[-1]), weight, bias)
        return out.reshape(*lead, weight.shape[0])
    out = matmul(input, weight.T if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def _dtype_advice(got, want):
    """The message for an input whose dtype is not the layer's weight's."""
    fix = {"float32": ".float()", "float64": ".double()"}
    msg = f"linear: input is {got.name}, the layer's weight is {want.name}"
    if want.name in fix and got.name in fix:
        return (f"{msg}: convert the input with `{fix[want.name]}` or the model with "
                f"`{fix[got.name]}` (NumPy arrays are float64; see docs/dtypes.md)")
    if want.name in fix:
        return f"{msg}: convert the input with `{fix[want.name]}`"
    return f"{msg}: convert one of them with `.to(...)`"


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1^T A_k x2 + b_k``.

    input1 ``(*, in1)``, input2 ``(*, in2)``, weight ``(out, in1, in2)``,
    bias ``(out,)`` -> ``(*, out)``.
    """
    if (input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]
            or input1.shape[:-1] != input2.shape[:-1]):
        raise ShapeError(
            f"bilinear: inputs {fmt_shape(input1.shape)} and {fmt_shape(input2.shape)} "
            f"do not fit the weight {fmt_shape(weight.shape)}; expected (*, "
            f"{weight.shape[1]}) and (*, {weight.shape[2]}) with the same leading dims")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


def _factory(dtype, device=None, op="Linear"):
    from .._device import check_device
    from .._dtype import get_default_dtype

    check_device(device, op)
    return dtype if dtype is not None else get_default_dtype()


class Identity(Module):
    """Returns its input; any constructor arguments are ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x W^T + b``: input ``(*, in_features)`` -> ``(*, out_features)``.

    ``weight`` is ``(out_features, in_features)``, ``bias`` ``(out_features,)``;
    both start as U(-1/sqrt(in_features), 1/sqrt(in_features)), as in PyTorch.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        dt = _factory(dtype, device)
        self.weight = Parameter(empty(out_features, in_features, dtype=dt))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_ with a = sqrt(5) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            got = input.shape[-1] if input.ndim else 0
            raise ShapeError(
                f"Linear expects input of shape (*, in_features={self.in_features}), "
                f"got {fmt_shape(input.shape)} with {got} features in the last dim")
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y_k = x1^T A_k x2 + b_k``: ``(*, in1), (*, in2) -> (*, out)``.

    ``weight`` is ``(out_features, in1_features, in2_features)``; weight and
    bias start as U(-1/sqrt(in1_features), 1/sqrt(in1_features)).
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        dt = _factory(dtype, device, "Bilinear")
        self.weight = Parameter(empty(out_features, in1_features, in2_features,
                                      dtype=dt))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` into one: ``(N, C, H, W) -> (N, C*H*W)``."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: ``(N, 12) -> (N, 3, 4)``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
