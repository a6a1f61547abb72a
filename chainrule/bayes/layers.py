"""Bayesian layers: mean-field Gaussian weights, sampled by reparameterisation.

Each weight has a posterior ``N(mu, sigma^2)`` with ``sigma = softplus(rho)``;
every forward pass draws ``w = mu + sigma * eps`` (so the output is random in
training and in evaluation alike; ``predict`` averages over passes).  With
``local_reparam=True`` the pre-activations are drawn instead, from their
exact Gaussian ``N(x mu, x^2 sigma^2)``: the same distribution per example
with lower-variance gradients (Kingma et al., 2015).  ``kl()`` is the KL
divergence of the weight posterior from the prior.
"""
import math

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.nn import Module, Parameter

from .priors import GaussianPrior


def _softplus(x):
    return cr.relu(x) + cr.log1p(cr.exp(-x.abs()))


class _BayesLayer(Module):
    """Shared parameters, sampling and KL; subclasses define ``_op``."""

    def _init_params(self, wshape, bias, out, fan_in, prior, rho_init, local_reparam):
        bound = 1 / math.sqrt(fan_in)
        self.weight_mu = Parameter(cr.rand(*wshape) * 2 * bound - bound)
        self.weight_rho = Parameter(cr.full(wshape, float(rho_init)))
        if bias:
            self.bias_mu = Parameter(cr.rand(out) * 2 * bound - bound)
            self.bias_rho = Parameter(cr.full((out,), float(rho_init)))
        else:
            self.bias_mu = self.bias_rho = None
        self.prior = prior if prior is not None else GaussianPrior(0.0, 1.0)
        self.local_reparam = local_reparam
        self.sample = True  # False: use the posterior means (a deterministic net)

    def _pairs(self):
        yield self.weight_mu, self.weight_rho
        if self.bias_mu is not None:
            yield self.bias_mu, self.bias_rho

    def forward(self, x):
        w_sigma = _softplus(self.weight_rho)
        b_sigma = None if self.bias_mu is None else _softplus(self.bias_rho)
        if not self.sample:
            return self._op(x, self.weight_mu, self.bias_mu)
        if self.local_reparam:
            mean = self._op(x, self.weight_mu, self.bias_mu)
            var = self._op(x * x, w_sigma * w_sigma,
                           None if b_sigma is None else b_sigma * b_sigma)
            return mean + cr.sqrt(var + 1e-16) * cr.randn_like(mean)
        w = self.weight_mu + w_sigma * cr.randn_like(self.weight_mu)
        b = None if b_sigma is None else self.bias_mu + b_sigma * cr.randn_like(b_sigma)
        return self._op(x, w, b)

    def kl(self, mc=None):
        """KL(q || prior) summed over the weights: closed form when the prior has
        one (unless ``mc=True``), else a one-draw Monte Carlo estimate."""
        total = 0.0
        closed = getattr(self.prior, "kl", None) is not None and not mc
        for mu, rho in self._pairs():
            sigma = _softplus(rho)
            if closed:
                total = total + self.prior.kl(mu, sigma)
                continue
            eps = cr.randn_like(mu)
            w = mu + sigma * eps
            log_q = (-0.5 * eps * eps - cr.log(sigma)
                     - 0.5 * math.log(2 * math.pi)).sum()
            total = total + log_q - self.prior.log_prob(w).sum()
        return total


class BayesLinear(_BayesLayer):
    """``y = x W^T + b`` with Gaussian W, b.  x ``(*, in_features)`` ->
    ``(*, out_features)``."""

    def __init__(self, in_features, out_features, bias=True, prior=None,
                 rho_init=-5.0, local_reparam=False):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self._init_params((out_features, in_features), bias, out_features,
                          in_features, prior, rho_init, local_reparam)

    def _op(self, x, w, b):
        return F.linear(x, w, b)


class BayesConv2d(_BayesLayer):
    """2-d convolution with Gaussian kernels.  x ``(N, C_in, H, W)``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 bias=True, prior=None, rho_init=-5.0, local_reparam=False):
        super().__init__()
        k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else \
            tuple(kernel_size)
        self.stride, self.padding = stride, padding
        self._init_params((out_channels, in_channels) + k, bias, out_channels,
                          in_channels * k[0] * k[1], prior, rho_init, local_reparam)

    def _op(self, x, w, b):
        return F.conv2d(x, w, b, stride=self.stride, padding=self.padding)
