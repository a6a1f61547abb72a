"""Exact Gaussian-process regression (scikit-learn's conventions).

``noise`` is the observation-noise variance (scikit-learn's ``alpha``), a
learnable positive Parameter unless ``learn_noise=False``.  The log marginal
likelihood is computed in float64 by a Cholesky factorisation of
``K + noise I``; if that matrix is not numerically positive definite, a
growing jitter is added (up to ``max_jitter`` times its mean diagonal) before
giving up with a :class:`~chainrule.LinAlgError` that says what to change.
"""
import math

import chainrule as cr
from chainrule.errors import ArgumentError, LinAlgError, ShapeError
from chainrule.nn import Module, Parameter
from chainrule.ops.gaussian import add_to_diagonal, gaussian_log_marginal_likelihood

from .kernels import Kernel, _as2d


class GPRegression(Module):
    """``y = f(x) + eps``, ``f ~ GP(0, kernel)``, ``eps ~ N(0, noise)``.

    Shapes: ``x`` (n, d) or (n,), ``y`` (n,).  ``fit`` stores the data and
    maximises the log marginal likelihood over the hyper-parameters;
    ``predict(x)`` returns the posterior mean of f (m,) and, with
    ``return_std=True``, its standard deviation (m,) (noise excluded, a White
    kernel's variance included).
    """

    def __init__(self, kernel, noise=0.1, learn_noise=True, max_jitter=1e-6):
        super().__init__()
        if not isinstance(kernel, Kernel):
            raise ArgumentError(f"GPRegression: kernel must be a gp kernel, got "
                                f"{type(kernel).__name__}")
        if not float(noise) > 0:
            raise ArgumentError(f"GPRegression: noise must be positive, got {noise!r}")
        self.kernel = kernel
        log_noise = cr.tensor([math.log(float(noise))], dtype=cr.float64)
        self.log_noise = Parameter(log_noise,
                                   requires_grad=learn_noise)
        self.max_jitter = max_jitter
        self._x = self._y = None
        self._cache = None

    @property
    def noise(self):
        return float(cr.exp(self.log_noise.detach()))

    # -- the factorisation ------------------------------------------------------------
    def _covariance(self, x):
        """``K(x, x) + noise I`` (n, n)."""
        return add_to_diagonal(self.kernel(x), cr.exp(self.log_noise))

    def _with_jitter(self, k, fn):
        """``fn(k)``, retried with a growing jitter on the diagonal while ``k``
        is not numerically positive definite."""
        n = k.shape[0]
        scale = float(k.detach().diagonal().mean()) if n else 1.0
        jitter = 0.0
        while True:
            try:
                return fn(add_to_diagonal(k, cr.tensor(jitter, dtype=cr.float64))
                          if jitter else k)
            except LinAlgError:
                jitter = scale * 1e-12 if jitter == 0 else jitter * 10
                if jitter > self.max_jitter * scale:
                    raise LinAlgError(
                        f"GPRegression: the {n}x{n} covariance K + noise*I is not "
                        f"positive definite even with jitter {jitter / 10:.1e} "
                        "added; increase noise, add a White kernel, or remove "
                        "duplicate inputs") from None

    def _factor(self, x):
        """Lower Cholesky factor of ``K(x, x) + noise I`` (plus jitter if needed)."""
        return self._with_jitter(self._covariance(x), cr.linalg.cholesky)

    def log_marginal_likelihood(self, x=None, y=None):
        """``log p(y | x)`` (a 0-d float64 tensor, differentiable in the
        hyper-parameters) of the data given to ``fit`` or of ``x, y``."""
        x, y = self._data(x, y)
        # one fused primitive: a Cholesky forward, a closed-form gradient
        return self._with_jitter(
            self._covariance(x), lambda k: gaussian_log_marginal_likelihood(k, y))

    def _data(self, x, y):
        if x is None:
            if self._x is None:
                raise ArgumentError("GPRegression: call fit(x, y) first, or pass x "
                                    "and y")
            return self._x, self._y
        x = _as2d(x)
        y = (y if isinstance(y, cr.Tensor) else cr.tensor(y)).to(cr.float64)
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise ShapeError(f"GPRegression: y must have shape ({x.shape[0]},) to "
                             f"match x {list(x.shape)}, got {list(y.shape)}")
        return x.detach(), y.detach()

    # -- fit and predict --------------------------------------------------------------
    def fit(self, x, y, steps=100, lr=None, optimizer="lbfgs"):
        """Store ``(x, y)`` and maximise the log marginal likelihood for ``steps``
        iterations of L-BFGS (strong-Wolfe line search; ``lr`` default 1) or
        Adam (``lr`` default 0.05).  ``steps=0`` keeps the hyper-parameters."""
        self._x, self._y = self._data(x, y)
        self._cache = None
        params = [p for p in self.parameters() if p.requires_grad]
        if steps and params:
            if optimizer == "lbfgs":
                opt = cr.optim.LBFGS(params, lr=lr or 1.0, max_iter=steps,
                                     line_search_fn="strong_wolfe")

                def closure():
                    opt.zero_grad()
                    loss = -self.log_marginal_likelihood()
                    loss.backward()
                    return loss

                opt.step(closure)
            elif optimizer == "adam":
                opt = cr.optim.Adam(params, lr=lr or 0.05)
                for _ in range(steps):
                    opt.zero_grad()
                    (-self.log_marginal_likelihood()).backward()
                    opt.step()
            else:
                raise ArgumentError(f"GPRegression.fit: optimizer must be 'lbfgs' or "
                                    f"'adam', got {optimizer!r}")
        return self

    def _posterior(self):
        if self._cache is None:
            with cr.no_grad():
                L = self._factor(self._x)
                a = cr.linalg.solve_triangular(L, self._y.reshape(-1, 1), upper=False)
                alpha = cr.linalg.solve_triangular(L.mT, a, upper=True)
            self._cache = L, alpha
        return self._cache

    def predict(self, x, return_std=False, return_cov=False):
        """Posterior mean (m,) of f at ``x``; optionally its std (m,) or cov (m, m)."""
        if self._x is None:
            raise ArgumentError("GPRegression.predict: call fit(x, y) first")
        x = _as2d(x)
        L, alpha = self._posterior()
        with cr.no_grad():
            ks = self.kernel(self._x, x)  # (n, m)
            mean = (ks.mT @ alpha).reshape(-1)
            if not (return_std or return_cov):
                return mean
            v = cr.linalg.solve_triangular(L, ks, upper=False)
            if return_cov:
                return mean, self.kernel(x) - v.mT @ v
            var = self.kernel.diag(x) - (v * v).sum(0)
            return mean, var.clamp(min=0.0).sqrt()
