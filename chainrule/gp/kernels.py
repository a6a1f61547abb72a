"""Covariance functions for Gaussian processes, as Modules with positive
hyper-parameters stored as ``log`` values (``Parameter``s, float64).

``k(x1, x2)`` gives the (n, m) covariance of inputs x1 (n, d) and x2 (m, d);
``k(x)`` the (n, n) covariance of a set with itself (the only case where a
:class:`White` kernel contributes).  ``k.diag(x)`` is the (n,) diagonal.
Kernels combine with ``+``, ``*`` and scaling by a number.
"""
import math

import chainrule as cr
from chainrule.errors import ArgumentError
from chainrule.nn import Module, Parameter
from chainrule.ops.gaussian import add_to_diagonal, stationary_kernel


def _log_param(value, name, kernel):
    v = float(value)
    if not v > 0:
        raise ArgumentError(f"{kernel}: {name} must be positive, got {value!r}")
    # shape (1,): one-element hyper-parameters (0-d would do as well)
    return Parameter(cr.tensor([math.log(v)], dtype=cr.float64))


def _as2d(x):
    x = x if isinstance(x, cr.Tensor) else cr.tensor(x, dtype=cr.float64)
    x = x.to(cr.float64)
    return x.reshape(-1, 1) if x.ndim == 1 else x


_D2_CACHE = []  # [(x1, x2, version1, version2, d2)], most recent first


def sq_dist(x1, x2):
    """Squared Euclidean distances (n, m), clamped at 0 against rounding.

    Fitting a GP evaluates the kernel of the same training inputs at every
    step with new hyper-parameters; the distances do not change, so the last
    two results for inputs that need no gradient are kept (keyed by the
    tensors themselves and their version counters, so in-place edits miss).
    """
    cacheable = not (x1.requires_grad or x2.requires_grad)
    if cacheable:
        for a, b, va, vb, d2 in _D2_CACHE:
            if a is x1 and b is x2 and va == x1._vc[0] and vb == x2._vc[0]:
                return d2
    if x1.shape[1] <= 32:
        # feature by feature: exact zeros on the diagonal, where sqrt (Matern)
        # would turn the expansion's rounding (~1e-15 |x|^2) into ~1e-8
        d = None
        for j in range(x1.shape[1]):
            diff = x1[:, j:j + 1] - x2[:, j]
            d = diff * diff if d is None else d + diff * diff
    else:
        d = (x1 * x1).sum(-1, keepdim=True) + (x2 * x2).sum(-1) - 2 * x1 @ x2.mT
        d = d.clamp(min=0.0)
    if cacheable:
        _D2_CACHE.insert(0, (x1, x2, x1._vc[0], x2._vc[0], d))
        del _D2_CACHE[2:]
    return d


class Kernel(Module):
    """Base class: subclasses define ``_k(x1, x2, same)``."""

    def forward(self, x1, x2=None):
        x1 = _as2d(x1)
        same = x2 is None
        return self._k(x1, x1 if same else _as2d(x2), same)

    def diag(self, x):
        """The (n,) variances ``k(x_i, x_i)``."""
        x = _as2d(x)
        return self._k(x, x, True).diagonal()

    def _k(self, x1, x2, same):
        raise NotImplementedError

    def __add__(self, other):
        return Sum(self, other)

    def __mul__(self, other):
        if isinstance(other, (int, float)):
            return Scale(self, other)
        return Product(self, other)

    __rmul__ = __mul__

    def __radd__(self, other):
        if other == 0:  # sum([...]) starts from 0
            return self
        return NotImplemented


class _Stationary(Kernel):
    def __init__(self, lengthscale=1.0, variance=1.0):
        super().__init__()
        name = type(self).__name__
        self.log_lengthscale = _log_param(lengthscale, "lengthscale", name)
        self.log_variance = _log_param(variance, "variance", name)

    @property
    def lengthscale(self):
        return float(cr.exp(self.log_lengthscale.detach()))

    @property
    def variance(self):
        return float(cr.exp(self.log_variance.detach()))

    def _stationary(self, x1, x2, kind):
        # one fused primitive on the (cached) distances, not a dozen (n, m) ops
        return stationary_kernel(sq_dist(x1, x2), self.log_lengthscale,
                                 self.log_variance, kind)


class RBF(_Stationary):
    """``variance * exp(-|x - x'|^2 / (2 lengthscale^2))``."""

    def _k(self, x1, x2, same):
        return self._stationary(x1, x2, "rbf")


class Matern(_Stationary):
    """Matern kernel with smoothness ``nu`` in {0.5, 1.5, 2.5}."""

    def __init__(self, nu=1.5, lengthscale=1.0, variance=1.0):
        if nu not in (0.5, 1.5, 2.5):
            raise ArgumentError(f"Matern: nu must be 0.5, 1.5 or 2.5, got {nu!r}")
        super().__init__(lengthscale, variance)
        self.nu = nu

    def _k(self, x1, x2, same):
        kind = {0.5: "matern12", 1.5: "matern32", 2.5: "matern52"}[self.nu]
        return self._stationary(x1, x2, kind)


class Periodic(Kernel):
    """``variance * exp(-2 sin^2(pi |x - x'| / period) / lengthscale^2)``
    (scikit-learn's ExpSineSquared)."""

    def __init__(self, lengthscale=1.0, period=1.0, variance=1.0):
        super().__init__()
        self.log_lengthscale = _log_param(lengthscale, "lengthscale", "Periodic")
        self.log_period = _log_param(period, "period", "Periodic")
        self.log_variance = _log_param(variance, "variance", "Periodic")

    lengthscale = _Stationary.lengthscale
    variance = _Stationary.variance

    @property
    def period(self):
        return float(cr.exp(self.log_period.detach()))

    def _k(self, x1, x2, same):
        d = cr.sqrt(sq_dist(x1, x2) + 1e-300)
        s = cr.sin(math.pi * d / cr.exp(self.log_period))
        return cr.exp(self.log_variance - 2 * s * s * cr.exp(-2 * self.log_lengthscale))


class Linear(Kernel):
    """``variance * (x . x') + offset`` (scikit-learn's DotProduct has
    variance 1 and offset ``sigma_0^2``)."""

    def __init__(self, variance=1.0, offset=1.0):
        super().__init__()
        self.log_variance = _log_param(variance, "variance", "Linear")
        self.log_offset = _log_param(offset, "offset", "Linear")

    variance = _Stationary.variance

    @property
    def offset(self):
        return float(cr.exp(self.log_offset.detach()))

    def _k(self, x1, x2, same):
        return cr.exp(self.log_variance) * (x1 @ x2.mT) + cr.exp(self.log_offset)


class White(Kernel):
    """``variance`` on the diagonal of a set's covariance with itself, 0 between
    different sets: noise that ``predict``'s standard deviation includes."""

    def __init__(self, variance=1.0):
        super().__init__()
        self.log_variance = _log_param(variance, "variance", "White")

    variance = _Stationary.variance

    def _k(self, x1, x2, same):
        n, m = x1.shape[0], x2.shape[0]
        if same:
            return cr.exp(self.log_variance) * cr.eye(n, dtype=cr.float64)
        return cr.zeros(n, m, dtype=cr.float64)


class Scale(Kernel):
    """``c * k`` with a learnable positive constant ``c`` (scikit-learn's
    ConstantKernel times k)."""

    def __init__(self, kernel, constant):
        super().__init__()
        self.kernel = kernel
        self.log_constant = _log_param(constant, "constant", "Scale")

    @property
    def constant(self):
        return float(cr.exp(self.log_constant.detach()))

    def _k(self, x1, x2, same):
        return cr.exp(self.log_constant) * self.kernel._k(x1, x2, same)


class Sum(Kernel):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def _k(self, x1, x2, same):
        # a White term adds to the diagonal: no (n, n) identity built
        for a, b in ((self.a, self.b), (self.b, self.a)):
            if isinstance(b, White):
                k = a._k(x1, x2, same)
                return add_to_diagonal(k, cr.exp(b.log_variance)) if same else k
        return self.a._k(x1, x2, same) + self.b._k(x1, x2, same)


class Product(Kernel):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def _k(self, x1, x2, same):
        return self.a._k(x1, x2, same) * self.b._k(x1, x2, same)


class NNGP(Kernel):
    """The kernel of an infinitely wide fully connected network with ``depth``
    hidden layers (Lee et al., 2018): ``K0 = bias_var + weight_var x.x'/d_in``,
    then per hidden layer ``K <- bias_var + weight_var E[phi(u) phi(v)]`` with
    ``(u, v)`` Gaussian of covariance K.  ``activation``: 'relu' (the
    arc-cosine formula) or 'erf'.  The hyper-parameters are fixed numbers.
    """

    def __init__(self, depth=1, activation="relu", weight_var=1.0, bias_var=0.0):
        super().__init__()
        if activation not in ("relu", "erf"):
            raise ArgumentError(f"NNGP: activation must be 'relu' or 'erf', got "
                                f"{activation!r}")
        if depth < 0 or int(depth) != depth:
            raise ArgumentError(f"NNGP: depth must be a non-negative int, got "
                                f"{depth!r}")
        self.depth, self.activation = int(depth), activation
        self.weight_var, self.bias_var = float(weight_var), float(bias_var)

    def _k(self, x1, x2, same):
        d_in = x1.shape[1]
        wv, bv = self.weight_var, self.bias_var
        k12 = bv + wv * (x1 @ x2.mT) / d_in
        k11 = bv + wv * (x1 * x1).sum(-1) / d_in
        k22 = bv + wv * (x2 * x2).sum(-1) / d_in
        for _ in range(self.depth):
            k12, k11, k22 = (self._layer(k12, k11[:, None], k22[None, :]),
                             self._layer(k11, k11, k11), self._layer(k22, k22, k22))
        return k12

    def _layer(self, k12, k11, k22):
        wv, bv = self.weight_var, self.bias_var
        if self.activation == "relu":
            norm = cr.sqrt(k11 * k22)
            cos = (k12 / norm).clamp(-1.0, 1.0)
            theta = cr.acos(cos * (1 - 1e-12))  # (acos' is infinite at +-1)
            e = norm * (cr.sin(theta) + (math.pi - theta) * cos) / (2 * math.pi)
        else:
            den = cr.sqrt((1 + 2 * k11) * (1 + 2 * k22))
            e = (2 / math.pi) * cr.asin(2 * k12 / den)
        return bv + wv * e
