"""A Laplace approximation of a classifier's last layer.

After ordinary training, the last ``Linear`` layer's weights and bias
``theta`` (C (H + 1) numbers) get a Gaussian posterior centred on the trained
values, with precision ``G + lambda I``: ``G`` is the Hessian of the summed
cross-entropy in ``theta`` -- exact and equal to the generalised Gauss-Newton
matrix here, since the logits are linear in ``theta`` --

    G = sum_n (diag(p_n) - p_n p_n^T) kron (phi_n phi_n^T),

with ``phi_n`` the features (plus a 1 for the bias) and ``p_n`` the predicted
probabilities, and ``lambda`` the precision of an isotropic Gaussian prior.
``lambda`` is chosen over a grid: by the negative log-likelihood of held-out
data when ``fit`` is given some, else by maximising the Laplace estimate of
the log marginal likelihood.  (For a network that fits its training set
almost perfectly, ``G`` is nearly 0 and the evidence favours a broad prior
that makes the predictive far too uncertain; held-out data then choose
better.)  Each forward pass draws one last layer from the
posterior, so :func:`chainrule.bayes.predict` averages the softmax over
draws, as for the other Bayesian models.
"""
import math

import chainrule as cr
from chainrule.errors import ArgumentError
from chainrule.nn import Linear, Module, Sequential


class LaplaceLastLayer(Module):
    """Wraps a trained ``nn.Sequential`` classifier whose last module is an
    ``nn.Linear`` (H -> C).  ``fit(x, y)`` builds the posterior (x (N, ...),
    y (N,) class indices); ``forward(x)`` returns the (M, C) logits of one
    posterior draw of the last layer."""

    def __init__(self, model, prior_precision=None):
        super().__init__()
        if not (isinstance(model, Sequential) and len(model)
                and isinstance(model[len(model) - 1], Linear)):
            raise ArgumentError("LaplaceLastLayer: model must be an nn.Sequential "
                                f"ending in nn.Linear, got {type(model).__name__}")
        self.model = model
        self.prior_precision = prior_precision
        self._ggn = None

    @property
    def _last(self):
        return self.model[len(self.model) - 1]

    def _features(self, x):
        """(N, H + 1): the last layer's inputs with a column of ones."""
        h = x
        for m in list(self.model)[:-1]:
            h = m(h)
        ones = cr.ones(h.shape[0], 1, dtype=h.dtype)
        return cr.cat([h.reshape(h.shape[0], -1), ones], 1).to(cr.float64)

    def _theta(self):
        last = self._last
        w = last.weight.detach().to(cr.float64)
        b = (last.bias.detach().to(cr.float64) if last.bias is not None
             else cr.zeros(w.shape[0], dtype=cr.float64))
        return cr.cat([w, b[:, None]], 1)  # (C, H + 1)

    def fit(self, x, y, grid=None, val=None, samples=64):
        """Accumulate ``G`` on the training data; unless the prior precision was
        given, choose it from ``grid`` (default 1e-3 .. 1e4 in half decades):
        by the predictive NLL on ``val = (x_val, y_val)`` (``samples`` draws)
        if given, else by the Laplace evidence.  Returns self."""
        with cr.no_grad():
            phi = self._features(x)
            theta = self._theta()
            logits = phi @ theta.mT
            logp = logits - cr.logsumexp(logits, -1, keepdim=True)
            p = cr.exp(logp)
            lam = cr.diag_embed(p) - p[:, :, None] * p[:, None, :]  # (N, C, C)
            c, k = theta.shape
            self._ggn = cr.einsum("ncd,ni,nj->cidj", lam, phi, phi).reshape(
                c * k, c * k)
            self._nll = float(-logp.gather(1, y.to(cr.int64)[:, None]).sum())
        self._factor = None
        if self.prior_precision is None:
            grid = grid if grid is not None else [10.0 ** (e / 2) for e in range(-6, 9)]
            if val is None:
                self.prior_precision = max(grid, key=self.log_marginal_likelihood)
            else:
                self.prior_precision = min(
                    grid, key=lambda lam: self._held_out_nll(lam, *val, samples))
                self._factor = None
        return self

    def _held_out_nll(self, lam, x, y, samples):
        self.prior_precision, self._factor = lam, None
        with cr.no_grad():
            logits = cr.stack([self(x) for _ in range(samples)])
            logp = logits - cr.logsumexp(logits, -1, keepdim=True)
            # log of the mean predictive probability, stably
            mean = cr.logsumexp(logp, 0) - math.log(samples)
            return float(-mean.gather(1, y.to(cr.int64)[:, None]).mean())

    def log_marginal_likelihood(self, prior_precision):
        """Laplace estimate of ``log p(y | x)`` as a function of the prior
        precision: ``-NLL + log N(theta; 0, I/lambda) + P/2 log 2 pi -
        1/2 log det (G + lambda I)``."""
        if self._ggn is None:
            raise ArgumentError("LaplaceLastLayer: call fit(x, y) first")
        lam = float(prior_precision)
        theta = self._theta().reshape(-1)
        n = theta.shape[0]
        with cr.no_grad():
            L = cr.linalg.cholesky(self._ggn + lam * cr.eye(n, dtype=cr.float64))
            logdet = 2 * float(cr.log(L.diagonal()).sum())
            sq = float((theta * theta).sum())
        log_prior = -0.5 * lam * sq + 0.5 * n * math.log(lam / (2 * math.pi))
        return -self._nll + log_prior + 0.5 * n * math.log(2 * math.pi) - 0.5 * logdet

    def posterior_precision(self):
        """``G + lambda I`` (P, P), P = C (H + 1), weights row-major then bias."""
        n = self._ggn.shape[0]
        return self._ggn + self.prior_precision * cr.eye(n, dtype=cr.float64)

    def forward(self, x):
        if self._ggn is None:
            raise ArgumentError("LaplaceLastLayer: call fit(x, y) first")
        with cr.no_grad():
            if self._factor is None:
                self._factor = cr.linalg.cholesky(self.posterior_precision())
            theta = self._theta()
            # theta + L^-T z has covariance (L L^T)^-1: one posterior draw
            z = cr.randn(theta.numel(), 1, dtype=cr.float64)
            draw = cr.linalg.solve_triangular(self._factor.mT, z, upper=True)
            w = theta + draw.reshape(theta.shape)
            logits = self._features(x) @ w.mT
        return logits.to(self._last.weight.dtype)
