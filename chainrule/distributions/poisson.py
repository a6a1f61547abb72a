"""The Poisson distribution over counts 0, 1, 2, ..."""
import chainrule as cr

from . import constraints
from .distribution import ExponentialFamily
from .utils import as_float


class Poisson(ExponentialFamily):
    """``P(k) = rate^k exp(-rate) / k!``."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        self.rate = as_float(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        with cr.no_grad():
            return cr.poisson(self.rate.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return cr.xlogy(value, self.rate) - self.rate - cr.lgamma(value + 1)
