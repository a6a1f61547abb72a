"""The exponential distribution."""
import chainrule as cr

from . import constraints
from .distribution import ExponentialFamily
from .utils import as_float


class Exponential(ExponentialFamily):
    """Density ``rate * exp(-rate * x)`` on ``x >= 0``."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        self.rate = as_float(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return cr.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate ** -2

    def rsample(self, sample_shape=()):
        u = cr.rand(self._extended_shape(sample_shape), dtype=self.rate.dtype)
        return -cr.log1p(-u) / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return cr.log(self.rate) - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - cr.exp(-self.rate * value)

    def icdf(self, value):
        return -cr.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - cr.log(self.rate)
