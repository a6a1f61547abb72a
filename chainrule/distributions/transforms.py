"""Bijective transforms for :class:`TransformedDistribution`.

A transform maps ``x`` to ``y = t(x)``; ``t.inv(y)`` maps back and
``log_abs_det_jacobian(x, y)`` is ``log |dy/dx|`` elementwise (for
``event_dim`` 0) or summed over the event dims.
"""
import math

import chainrule as cr

from . import constraints
from .utils import as_float, finfo, softplus, sum_rightmost


class Transform:
    """Base class: subclasses define ``_call``, ``_inverse``,
    ``log_abs_det_jacobian`` and ``sign`` (+1 or -1, for monotone maps)."""

    domain = constraints.real
    codomain = constraints.real
    bijective = True
    sign = 1
    event_dim = 0

    def __call__(self, x):
        return self._call(x)

    @property
    def inv(self):
        return _InverseTransform(self)

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__ + "()"


class _InverseTransform(Transform):
    def __init__(self, transform):
        self._inv = transform
        self.domain, self.codomain = transform.codomain, transform.domain
        self.event_dim = transform.event_dim
        self.sign = transform.sign

    @property
    def inv(self):
        return self._inv

    def _call(self, x):
        return self._inv._inverse(x)

    def _inverse(self, y):
        return self._inv._call(y)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)


class ComposeTransform(Transform):
    """Apply ``parts`` left to right."""

    def __init__(self, parts):
        self.parts = list(parts)
        self.event_dim = max((p.event_dim for p in self.parts), default=0)
        self.sign = 1
        for p in self.parts:
            self.sign *= p.sign
        if self.parts:
            self.domain, self.codomain = self.parts[0].domain, self.parts[-1].codomain

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y):
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        total = 0.0
        for p in self.parts:
            y_ = p(x)
            total = total + sum_rightmost(p.log_abs_det_jacobian(x, y_),
                                          self.event_dim - p.event_dim)
            x = y_
        return total


class ExpTransform(Transform):
    """``y = exp(x)``."""

    codomain = constraints.positive

    def _call(self, x):
        return cr.exp(x)

    def _inverse(self, y):
        return cr.log(y)

    def log_abs_det_jacobian(self, x, y):
        return x


class AffineTransform(Transform):
    """``y = loc + scale * x`` (``event_dim`` dims summed in the log-det)."""

    def __init__(self, loc, scale, event_dim=0):
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

    @property
    def sign(self):
        if isinstance(self.scale, (int, float)):
            return 1 if self.scale > 0 else -1
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = self.scale
        if isinstance(scale, (int, float)):
            out = cr.full_like(x, math.log(abs(scale)))
        else:
            out = cr.log(scale.abs()).expand(cr.broadcast_shapes(scale.shape, x.shape))
        return sum_rightmost(out, self.event_dim)


class SigmoidTransform(Transform):
    """``y = 1 / (1 + exp(-x))``."""

    codomain = constraints.unit_interval

    def _call(self, x):
        y = cr.sigmoid(x)
        eps = float(finfo(y).eps)
        return y.clamp(float(finfo(y).tiny), 1 - eps)

    def _inverse(self, y):
        eps = float(finfo(y).eps)
        y = y.clamp(float(finfo(y).tiny), 1 - eps)
        return cr.log(y) - cr.log1p(-y)

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """``y = tanh(x)``."""

    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return cr.tanh(x)

    def _inverse(self, y):
        return cr.atanh(y)

    def log_abs_det_jacobian(self, x, y):
        # log(1 - tanh(x)^2), written stably
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class SoftplusTransform(Transform):
    """``y = log(1 + exp(x))``."""

    codomain = constraints.positive

    def _call(self, x):
        return softplus(x)

    def _inverse(self, y):
        return y + cr.log(-cr.expm1(-y))

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x)


class PowerTransform(Transform):
    """``y = x ** exponent`` on positive ``x``."""

    domain = constraints.positive
    codomain = constraints.positive

    def __init__(self, exponent):
        self.exponent = as_float(exponent)

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    @property
    def sign(self):
        return self.exponent.sign()


exp_transform = ExpTransform()
