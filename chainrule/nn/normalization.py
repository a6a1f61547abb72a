"""Normalisation layers: BatchNorm, InstanceNorm, LayerNorm, GroupNorm, RMSNorm.

Each normalises ``x`` to ``(x - mean) / sqrt(var + eps)`` over some dims
(biased variance) and then applies an optional per-feature affine map.  They
differ only in the dims the statistics are taken over:

- BatchNorm: over the batch and spatial dims, per channel (dim 1);
- InstanceNorm: over the spatial dims, per sample and channel;
- LayerNorm: over the trailing ``normalized_shape`` dims, per sample;
- GroupNorm: over each group of channels and the spatial dims, per sample.
"""
import numpy as np

from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import mean, ones, rsqrt, tensor, zeros
from ..ops import fused as _fused
from ..ops._util import floating
from .module import Module
from .parameter import Parameter


def _normalize(x, axes, eps):
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` (biased variance)."""
    mu = mean(x, axes, keepdim=True)
    d = x - mu
    return d * rsqrt(mean(d * d, axes, keepdim=True) + eps)


def _channel_shape(x):
    """Shape that broadcasts a per-channel vector against ``(N, C, *)``."""
    return (-1,) + (1,) * (x.ndim - 2)


def batch_norm(input, running_mean, running_var, weight=None, bias=None,
               training=False, momentum=0.1, eps=1e-5):
    """Normalise ``(N, C, *)`` per channel.

    Training: batch statistics, and ``running_mean``/``running_var`` (shape
    ``(C,)``, if given) move towards the batch mean and the *unbiased* batch
    variance by ``momentum``.  Not training: the running statistics are used.
    """
    x = floating(input)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected input of shape (N, C, *), got "
                         f"{fmt_shape(x.shape)}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ShapeError(f"batch_norm: {name} has shape {fmt_shape(t.shape)}, "
                             f"expected [{c}] for an input with {c} channels")
    cs = _channel_shape(x)
    axes = (0,) + tuple(range(2, x.ndim))
    if training or running_mean is None:
        count = x.numel() // c if c else 0
        if count <= 1:
            raise ShapeError("batch_norm: expected more than 1 value per channel when "
                             f"training, got input size {fmt_shape(x.shape)}")
        mu = mean(x, axes, keepdim=True)
        d = x - mu
        var = mean(d * d, axes, keepdim=True)
        y = d * rsqrt(var + eps)
        if training and running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mu.reshape(-1) * momentum)
                unbiased = var.reshape(-1) * (count / (count - 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        y = (x - running_mean.reshape(cs)) * rsqrt(running_var.reshape(cs) + eps)
    if weight is not None:
        y = y * weight.reshape(cs)
    if bias is not None:
        y = y + bias.reshape(cs)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each sample's channels of ``(N, C, *)`` over the spatial dims.

    With ``use_input_stats`` the running statistics (if given, ``(C,)``) move
    towards the per-instance means and unbiased variances averaged over the
    batch; otherwise they are used to normalise.
    """
    x = floating(input)
    if x.ndim < 3:
        raise ShapeError(f"instance_norm: expected input of shape (N, C, *) with at "
                         f"least one spatial dim, got {fmt_shape(x.shape)}")
    cs = _channel_shape(x)
    axes = tuple(range(2, x.ndim))
    if use_input_stats:
        count = x.numel() // (x.shape[0] * x.shape[1]) if x.numel() else 0
        if count <= 1:
            raise ShapeError("instance_norm: expected more than 1 spatial element when "
                             f"training, got input size {fmt_shape(x.shape)}")
        mu = mean(x, axes, keepdim=True)
        d = x - mu
        var = mean(d * d, axes, keepdim=True)
        y = d * rsqrt(var + eps)
        if running_mean is not None:
            with no_grad():
                batch_mu = mean(mu.reshape(x.shape[:2]), 0)
                batch_var = mean(var.reshape(x.shape[:2]), 0) * (count / (count - 1))
                running_mean.mul_(1 - momentum).add_(batch_mu * momentum)
                running_var.mul_(1 - momentum).add_(batch_var * momentum)
    else:
        y = (x - running_mean.reshape(cs)) * rsqrt(running_var.reshape(cs) + eps)
    if weight is not None:
        y = y * weight.reshape(cs)
    if bias is not None:
        y = y + bias.reshape(cs)
    return y


def _as_shape(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing dims ``normalized_shape`` of ``(*, *shape)``;
    ``weight``/``bias`` have shape ``normalized_shape``."""
    x = floating(input)
    shape = _as_shape(normalized_shape)
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(f"layer_norm: input of shape {fmt_shape(x.shape)} does not "
                         f"end with normalized_shape {fmt_shape(shape)}; expected "
                         f"input of shape (*, {', '.join(map(str, shape))})")
    same = all(t is None or t.dtype is x.dtype for t in (weight, bias))
    if same and (weight is None) == (bias is None):
        return _fused.layer_norm(x, weight, bias, k, eps)  # equals the composite
    y = _normalize(x, tuple(range(x.ndim - k, x.ndim)), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise ``(N, C, *)`` over each of ``num_groups`` groups of C /
    num_groups channels (and the spatial dims); ``weight``/``bias`` ``(C,)``."""
    x = floating(input)
    if x.ndim < 2:
        raise ShapeError(f"group_norm: expected input of shape (N, C, *), got "
                         f"{fmt_shape(x.shape)}")
    n, c = x.shape[:2]
    if c % num_groups:
        raise ShapeError(f"group_norm: the {c} channels of the input "
                         f"{fmt_shape(x.shape)} are not divisible into {num_groups} "
                         "groups")
    g = x.reshape(n, num_groups, -1)
    y = _normalize(g, (2,), eps).reshape(x.shape)
    cs = _channel_shape(x)
    if weight is not None:
        y = y * weight.reshape(cs)
    if bias is not None:
        y = y + bias.reshape(cs)
    return y


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing
    ``normalized_shape`` dims; ``eps`` defaults to the dtype's machine epsilon."""
    x = floating(input)
    shape = _as_shape(normalized_shape)
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(f"rms_norm: input of shape {fmt_shape(x.shape)} does not end "
                         f"with normalized_shape {fmt_shape(shape)}")
    if eps is None:
        eps = float(np.finfo(x.dtype.np).eps)
    axes = tuple(range(x.ndim - k, x.ndim))
    y = x * rsqrt(mean(x * x, axes, keepdim=True) + eps)
    return y if weight is None else y * weight


def _dt(dtype):
    from .._dtype import get_default_dtype

    return dtype if dtype is not None else get_default_dtype()


class _BatchNorm(Module):
    _ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = _dt(dtype)
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dt))
            if bias:
                self.bias = Parameter(zeros(num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dt))
            self.register_buffer("running_var", ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", tensor(0, dtype="int64"))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1.0)
                if self.bias is not None:
                    self.bias.zero_()

    def _check_input_dim(self, input):
        if input.ndim not in self._ndims:
            want = " or ".join(f"{d}D" for d in self._ndims)
            raise ShapeError(f"{type(self).__name__}: expected {want} input, got "
                             f"{input.ndim}D input of shape {fmt_shape(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: expected {self.num_features} "
                             f"channels in dim 1, got input of shape "
                             f"{fmt_shape(input.shape)}")

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                # 1/n as a 0-d float64 tensor: computed on the table, not read
                # to the host
                factor = self.num_batches_tracked.double().reciprocal()
        use_batch = self.training or not self.track_running_stats
        # Running statistics are read in eval mode and updated when tracked.
        stats = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if stats else None,
                          self.running_var if stats else None, self.weight, self.bias,
                          use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` input, per channel C."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` input, per channel C."""

    _ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of ``(N, C, D, H, W)`` input, per channel C."""

    _ndims = (5,)


class _InstanceNorm(_BatchNorm):
    """Per-sample, per-channel normalisation; no affine map and no running
    statistics by default.  Unbatched input (without N) is accepted."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device, dtype, bias=bias)

    def forward(self, input):
        nd = self._ndims[0]
        if input.ndim not in (nd - 1, nd):
            raise ShapeError(f"{type(self).__name__}: expected {nd - 1}D (unbatched) "
                             f"or {nd}D input, got {input.ndim}D input of shape "
                             f"{fmt_shape(input.shape)}")
        x = input.unsqueeze(0) if input.ndim == nd - 1 else input
        if x.shape[1] != self.num_features and (self.affine or
                                                self.track_running_stats):
            raise ShapeError(f"{type(self).__name__}: expected {self.num_features} "
                             f"channels in dim {input.ndim - nd + 1}, got input of "
                             f"shape {fmt_shape(input.shape)}")
        use_input = self.training or not self.track_running_stats
        y = instance_norm(x, self.running_mean, self.running_var, self.weight,
                          self.bias, use_input,
                          0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if input.ndim == nd - 1 else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` or ``(C, L)`` input."""

    _ndims = (3,)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or ``(C, H, W)`` input."""

    _ndims = (4,)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""

    _ndims = (5,)


class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` dims, then
    ``* weight + bias`` (both of shape ``normalized_shape``, ones and zeros)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = _dt(dtype)
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.elementwise_affine:
            with no_grad():
                self.weight.fill_(1.0)
                if self.bias is not None:
                    self.bias.zero_()

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias,
                          self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise ``(N, C, *)`` over groups of channels; per-channel affine."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ArgumentError(f"GroupNorm: num_channels ({num_channels}) must be "
                                f"divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        dt = _dt(dtype)
        if affine:
            self.weight = Parameter(ones(num_channels, dtype=dt))
            if bias:
                self.bias = Parameter(zeros(num_channels, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.affine:
            with no_grad():
                self.weight.fill_(1.0)
                if self.bias is not None:
                    self.bias.zero_()

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm: expected input of shape (N, "
                             f"{self.num_channels}, *), got {fmt_shape(input.shape)}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """``x / rms(x) * weight`` over the trailing ``normalized_shape`` dims."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=_dt(dtype)))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        if self.weight is not None:
            with no_grad():
                self.weight.fill_(1.0)

    def forward(self, input):
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
