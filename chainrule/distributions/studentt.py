"""Student's t distribution with location and scale."""
import math

import chainrule as cr

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class StudentT(Distribution):
    """t with ``df`` degrees of freedom, shifted by ``loc``, scaled by ``scale``."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    @property
    def mean(self):
        return cr.where(self.df > 1, self.loc, float("nan"))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        v = self.scale ** 2 * self.df / (self.df - 2).clamp(min=1e-30)
        v = cr.where(self.df > 2, v, float("inf"))
        return cr.where(self.df > 1, v, float("nan"))

    def rsample(self, sample_shape=()):
        # t = X / sqrt(V / df) with X ~ N(0, 1) and V ~ chi^2(df) = 2 Gamma(df / 2)
        shape = self._extended_shape(sample_shape)
        x = cr.randn(shape, dtype=self.df.dtype)
        v = 2 * cr.standard_gamma((0.5 * self.df).expand(shape))
        return self.loc + self.scale * x * cr.rsqrt(v / self.df)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (cr.log(self.scale) + 0.5 * cr.log(self.df) + 0.5 * math.log(math.pi)
             + cr.lgamma(0.5 * self.df) - cr.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * cr.log1p(y ** 2 / self.df) - z

    def entropy(self):
        half = 0.5 * self.df
        lbeta = cr.lgamma(half) + math.lgamma(0.5) - cr.lgamma(half + 0.5)
        return (cr.log(self.scale) + (half + 0.5) * (cr.digamma(half + 0.5)
                                                      - cr.digamma(half))
                + 0.5 * cr.log(self.df) + lbeta)
