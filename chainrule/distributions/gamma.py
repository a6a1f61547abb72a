"""Gamma, Beta and Dirichlet: the distributions drawn from gamma variates.

Their ``rsample`` is differentiable in the concentrations through
``chainrule.standard_gamma`` (implicit reparameterisation).
"""
import chainrule as cr

from . import constraints
from .distribution import ExponentialFamily
from .utils import as_float, broadcast_all, finfo


def _gamma_draw(concentration, shape):
    """Standard gamma draws of ``shape`` (concentration broadcast to it)."""
    z = cr.standard_gamma(concentration.expand(shape))
    return z.clamp(min=float(finfo(z).tiny))


class Gamma(ExponentialFamily):
    """Density ``rate^a x^(a-1) exp(-rate x) / Gamma(a)``, ``a = concentration``."""

    arg_constraints = {"concentration": constraints.positive,
                       "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        z = _gamma_draw(self.concentration, shape) / self.rate.expand(shape)
        return z.clamp(min=float(finfo(z).tiny))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration, self.rate
        return cr.xlogy(a, b) + cr.xlogy(a - 1, value) - b * value - cr.lgamma(a)

    def cdf(self, value):
        """``P(a, rate * value)``, the regularised lower incomplete gamma
        function; differentiable in ``value`` and ``rate`` but not in the
        concentration (as in PyTorch, which has no ``icdf`` either)."""
        if self._validate_args:
            self._validate_sample(value)
        return cr.igamma(self.concentration, self.rate * value)

    def entropy(self):
        a = self.concentration
        return a - cr.log(self.rate) + cr.lgamma(a) + (1.0 - a) * cr.digamma(a)


class Beta(ExponentialFamily):
    """Density ``x^(c1-1) (1-x)^(c0-1) / B(c1, c0)`` on ``[0, 1]``."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(
            concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return (self.concentration1 - 1) / (
            self.concentration1 + self.concentration0 - 2)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = _gamma_draw(self.concentration1, shape)
        y = _gamma_draw(self.concentration0, shape)
        eps = float(finfo(x).eps)
        return (x / (x + y)).clamp(eps, 1 - eps)

    def _lbeta(self):
        a, b = self.concentration1, self.concentration0
        return cr.lgamma(a) + cr.lgamma(b) - cr.lgamma(a + b)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return cr.xlogy(a - 1, value) + cr.xlogy(b - 1, 1 - value) - self._lbeta()

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return (self._lbeta() - (a - 1) * cr.digamma(a) - (b - 1) * cr.digamma(b)
                + (a + b - 2) * cr.digamma(a + b))


class Dirichlet(ExponentialFamily):
    """Density on the simplex ``prod x_i^(a_i - 1) / B(a)``; event shape ``(K,)``."""

    arg_constraints = {"concentration": constraints.independent(
        constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        self.concentration = as_float(concentration)
        if self.concentration.ndim < 1:
            raise cr.ArgumentError("`concentration` parameter must be at least "
                                   "one-dimensional.")
        super().__init__(self.concentration.shape[:-1],
                         self.concentration.shape[-1:], validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        a = (self.concentration - 1).clamp(min=0)
        return a / a.sum(-1, keepdim=True)

    @property
    def variance(self):
        a0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (a0 - self.concentration) / (a0 ** 2 * (a0 + 1))

    def rsample(self, sample_shape=()):
        g = _gamma_draw(self.concentration, self._extended_shape(sample_shape))
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (cr.xlogy(a - 1, value).sum(-1) + cr.lgamma(a.sum(-1))
                - cr.lgamma(a).sum(-1))

    def entropy(self):
        a = self.concentration
        k = a.shape[-1]
        a0 = a.sum(-1)
        return (cr.lgamma(a).sum(-1) - cr.lgamma(a0) - (k - a0) * cr.digamma(a0)
                - ((a - 1) * cr.digamma(a)).sum(-1))
