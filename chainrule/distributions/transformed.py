"""TransformedDistribution: push a base distribution through bijections."""
import chainrule as cr
from chainrule.errors import ArgumentError

from .distribution import Distribution
from .normal import Normal
from .transforms import ComposeTransform, ExpTransform, Transform
from .utils import sum_rightmost


class TransformedDistribution(Distribution):
    """``y = t_n(... t_1(x))`` with ``x ~ base_distribution``; the density by the
    change of variables ``log p(y) = log p(x) - sum log |dt/dx|``."""

    arg_constraints = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif not all(isinstance(t, Transform) for t in transforms):
            raise ArgumentError("transforms must be a Transform or a list of "
                                f"Transforms, got {transforms!r}")
        self.base_dist, self.transforms = base_distribution, list(transforms)
        event_dim = max([len(base_distribution.event_shape)]
                        + [t.event_dim for t in self.transforms])
        shape = base_distribution.batch_shape + base_distribution.event_shape
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:], validate_args=validate_args)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def support(self):
        if self.transforms:
            return self.transforms[-1].codomain
        return self.base_dist.support

    def sample(self, sample_shape=()):
        with cr.no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape=()):
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        event_dim = len(self._event_shape)
        lp, y = 0.0, value
        for t in reversed(self.transforms):
            x = t.inv(y)
            lp = lp - sum_rightmost(t.log_abs_det_jacobian(x, y),
                                    event_dim - t.event_dim)
            y = x
        base = sum_rightmost(self.base_dist.log_prob(y),
                             event_dim - len(self.base_dist.event_shape))
        return lp + base

    def _monotone_sign(self):
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        return sign

    def cdf(self, value):
        for t in reversed(self.transforms):
            value = t.inv(value)
        value = self.base_dist.cdf(value)
        sign = self._monotone_sign()
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def icdf(self, value):
        sign = self._monotone_sign()
        if not (isinstance(sign, int) and sign == 1):
            value = sign * (value - 0.5) + 0.5
        value = self.base_dist.icdf(value)
        for t in self.transforms:
            value = t(value)
        return value


class LogNormal(TransformedDistribution):
    """``exp(X)`` with ``X ~ Normal(loc, scale)``."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return cr.exp(self.loc + self.scale ** 2 / 2)

    @property
    def variance(self):
        s2 = self.scale ** 2
        return cr.expm1(s2) * cr.exp(2 * self.loc + s2)

    def entropy(self):
        return self.base_dist.entropy() + self.loc

    def __repr__(self):
        return (f"LogNormal(loc: {tuple(self.loc.shape)}, "
                f"scale: {tuple(self.scale.shape)})")


__all__ = ["ComposeTransform", "LogNormal", "TransformedDistribution"]
