"""Weight priors for Bayesian layers.

Each prior has ``log_prob(w)`` (elementwise, summed by the caller); a
Gaussian prior also has ``kl(mu, sigma)``: the closed-form KL divergence of
the mean-field posterior ``N(mu, sigma^2)`` from it.  Priors without a
closed form are handled by Monte Carlo (``log q(w) - log p(w)`` at a draw).
"""
import math

import chainrule as cr
from chainrule.errors import ArgumentError


def _positive(v, name, prior):
    if not float(v) > 0:
        raise ArgumentError(f"{prior}: {name} must be positive, got {v!r}")
    return float(v)


class GaussianPrior:
    """``N(mean, sigma^2)`` on every weight (an L2 penalty as a MAP estimate)."""

    def __init__(self, mean=0.0, sigma=1.0):
        self.mean, self.sigma = float(mean), _positive(sigma, "sigma", "GaussianPrior")

    def log_prob(self, w):
        z = (w - self.mean) / self.sigma
        return -0.5 * z * z - math.log(self.sigma) - 0.5 * math.log(2 * math.pi)

    def kl(self, mu, sigma):
        """Sum over weights of KL(N(mu, sigma^2) || N(mean, self.sigma^2))."""
        r = sigma / self.sigma
        return (0.5 * (r * r + ((mu - self.mean) / self.sigma) ** 2 - 1)
                - cr.log(r)).sum()


class LaplacePrior:
    """``Laplace(loc, scale)`` on every weight (an L1 penalty as a MAP estimate)."""

    kl = None

    def __init__(self, loc=0.0, scale=1.0):
        self.loc, self.scale = float(loc), _positive(scale, "scale", "LaplacePrior")

    def log_prob(self, w):
        return -(w - self.loc).abs() / self.scale - math.log(2 * self.scale)


class ScaleMixturePrior:
    """``pi N(0, sigma1^2) + (1 - pi) N(0, sigma2^2)`` (Blundell et al., 2015):
    a wide component and a narrow one that pulls small weights to zero."""

    kl = None

    def __init__(self, pi=0.5, sigma1=1.0, sigma2=math.exp(-6)):
        if not 0 < pi < 1:
            raise ArgumentError(f"ScaleMixturePrior: pi must lie in (0, 1), got {pi!r}")
        self.pi = float(pi)
        self.sigma1 = _positive(sigma1, "sigma1", "ScaleMixturePrior")
        self.sigma2 = _positive(sigma2, "sigma2", "ScaleMixturePrior")

    def log_prob(self, w):
        def comp(s, weight):
            return (math.log(weight) - math.log(s) - 0.5 * math.log(2 * math.pi)
                    - 0.5 * (w / s) ** 2)

        both = cr.stack([comp(self.sigma1, self.pi), comp(self.sigma2, 1 - self.pi)])
        return cr.logsumexp(both, 0)
