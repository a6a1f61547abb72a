"""Multivariate normal distributions: full and low-rank-plus-diagonal covariance."""
import math

import chainrule as cr
from chainrule.errors import ArgumentError

from . import constraints
from .distribution import Distribution


def _batch_mahalanobis(L, x):
    """``x^T (L L^T)^{-1} x`` for lower-triangular ``L`` (..., n, n), x (..., n)."""
    shape = cr.broadcast_shapes(L.shape[:-2], x.shape[:-1])
    Lb = L.expand(shape + L.shape[-2:])
    z = cr.linalg.solve_triangular(Lb, x.expand(shape + x.shape[-1:]).unsqueeze(-1),
                                   upper=False)
    return (z.squeeze(-1) ** 2).sum(-1)


class MultivariateNormal(Distribution):
    """``N(loc, Sigma)`` on ``R^n``, given exactly one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril`` (lower Cholesky factor of Sigma).

    Shapes: ``loc`` (..., n); matrices (..., n, n); batch dims broadcast.
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None,
                 scale_tril=None, validate_args=None):
        if loc.ndim < 1:
            raise ArgumentError("loc must be at least one-dimensional.")
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril)
                 if m is not None]
        if len(given) != 1:
            raise ArgumentError("Exactly one of covariance_matrix or precision_matrix "
                                "or scale_tril may be specified.")
        m = given[0]
        if m.ndim < 2:
            name = ("covariance_matrix" if covariance_matrix is not None else
                    "precision_matrix" if precision_matrix is not None else
                    "scale_tril")
            raise ArgumentError(f"{name} matrix must be at least two-dimensional, "
                                "with optional leading batch dimensions")
        batch = cr.broadcast_shapes(m.shape[:-2], loc.shape[:-1])
        n = loc.shape[-1]
        self.loc = loc.expand(batch + (n,))
        self.covariance_matrix = self.precision_matrix = self.scale_tril = None
        if scale_tril is not None:
            self.scale_tril = scale_tril.expand(batch + (n, n))
        elif covariance_matrix is not None:
            self.covariance_matrix = covariance_matrix.expand(batch + (n, n))
        else:
            self.precision_matrix = precision_matrix.expand(batch + (n, n))
        super().__init__(batch, (n,), validate_args=validate_args)
        if self.scale_tril is None:
            cov = (self.covariance_matrix if self.covariance_matrix is not None
                   else cr.linalg.inv(self.precision_matrix))
            self.scale_tril = cr.linalg.cholesky(cov)
        self._unbroadcasted_scale_tril = self.scale_tril

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (self.scale_tril ** 2).sum(-1).expand(
            self._batch_shape + self._event_shape)

    @property
    def covariance(self):
        return self.scale_tril @ self.scale_tril.mT

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = cr.randn(shape, dtype=self.loc.dtype)
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return cr.log(self.scale_tril.diagonal(0, -2, -1)).sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self._event_shape[0]
        m = _batch_mahalanobis(self.scale_tril, value - self.loc)
        return -0.5 * (n * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        n = self._event_shape[0]
        h = 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(self._batch_shape)

    def _check_args(self):
        given = {k: v for k, v in self.__dict__.items()
                 if k in self.arg_constraints and v is not None}
        for k, v in given.items():
            with cr.no_grad():
                ok = bool(self.arg_constraints[k].check(v).all())
            if not ok:
                raise ArgumentError(
                    f"Expected parameter {k} (Tensor of shape {tuple(v.shape)}) of "
                    f"distribution {self!r} to satisfy the constraint "
                    f"{self.arg_constraints[k]!r}, but found invalid values:\n{v}")

    def __repr__(self):
        return f"MultivariateNormal(loc: {tuple(self.loc.shape)})"


class LowRankMultivariateNormal(MultivariateNormal):
    """``N(loc, W W^T + diag(D))`` with ``cov_factor`` W (..., n, r) and
    ``cov_diag`` D (..., n) positive."""

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.ndim < 1:
            raise ArgumentError("loc must be at least one-dimensional.")
        n = loc.shape[-1]
        if cov_factor.ndim < 2 or cov_factor.shape[-2] != n:
            raise ArgumentError(f"cov_factor must be a batch of matrices with shape "
                                f"{n} x m")
        if cov_diag.shape[-1:] != (n,):
            raise ArgumentError(f"cov_diag must be a batch of vectors with shape "
                                f"{(n,)}")
        self.loc, self.cov_factor, self.cov_diag = loc, cov_factor, cov_diag
        if Distribution._validate_default if validate_args is None else validate_args:
            Distribution._check_args(self)
        cov = cov_factor @ cov_factor.mT + cr.diag_embed(cov_diag)
        super().__init__(loc, covariance_matrix=cov, validate_args=False)
        self._validate_args = (Distribution._validate_default if validate_args is None
                               else validate_args)
        batch = self._batch_shape
        self.cov_factor = cov_factor.expand(batch + cov_factor.shape[-2:])
        self.cov_diag = cov_diag.expand(batch + (n,))

    @property
    def variance(self):
        return ((self.cov_factor ** 2).sum(-1) + self.cov_diag).expand(
            self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        r = self.cov_factor.shape[-1]
        eps_w = cr.randn(shape[:-1] + (r,), dtype=self.loc.dtype)
        eps_d = cr.randn(shape, dtype=self.loc.dtype)
        return (self.loc + (self.cov_factor @ eps_w.unsqueeze(-1)).squeeze(-1)
                + self.cov_diag.sqrt() * eps_d)

    def __repr__(self):
        return (f"LowRankMultivariateNormal(loc: {tuple(self.loc.shape)}, "
                f"cov_factor: {tuple(self.cov_factor.shape)}, "
                f"cov_diag: {tuple(self.cov_diag.shape)})")
