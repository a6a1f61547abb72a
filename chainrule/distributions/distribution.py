"""The :class:`Distribution` base: shapes, validation and the sampling API.

Shapes follow PyTorch: a sample has shape ``sample_shape + batch_shape +
event_shape``; ``log_prob`` of such a value has shape ``sample_shape +
batch_shape`` (one number per event).
"""
import chainrule as cr
from chainrule.errors import ArgumentError

from . import constraints
from .utils import size


class Distribution:
    """Base class.  Subclasses set ``arg_constraints``, ``support`` and the
    methods they support; the rest raise ``NotImplementedError`` as PyTorch's.
    """

    has_rsample = False
    has_enumerate_support = False
    arg_constraints = {}
    support = None
    _validate_default = True

    @staticmethod
    def set_default_validate_args(value):
        if value not in (True, False):
            raise ArgumentError(f"set_default_validate_args: expected a bool, got "
                                f"{value!r}")
        Distribution._validate_default = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        else:
            self._validate_args = Distribution._validate_default
        if self._validate_args:
            self._check_args()

    def _check_args(self):
        for param, constraint in self.arg_constraints.items():
            if constraints.dependent is constraint or param not in self.__dict__ \
                    and isinstance(getattr(type(self), param, None), property):
                continue  # a parameter given the other way (probs vs logits)
            value = getattr(self, param)
            if value is None:
                continue
            with cr.no_grad():
                ok = constraint.check(value)
            if not bool(ok.all()):
                raise ArgumentError(
                    f"Expected parameter {param} (Tensor of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                    f"constraint {constraint!r}, but found invalid values:\n{value}")

    # -- shapes -----------------------------------------------------------------------
    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return size(sample_shape) + self._batch_shape + self._event_shape

    # -- moments ----------------------------------------------------------------------
    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} has no mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} has no mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} has no variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    # -- sampling ---------------------------------------------------------------------
    def sample(self, sample_shape=()):
        """Draws of shape ``sample_shape + batch_shape + event_shape``, no grad."""
        with cr.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """Reparameterised draws: differentiable in the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample "
                                  "(has_rsample is False)")

    def sample_n(self, n):
        return self.sample((n,))

    # -- densities --------------------------------------------------------------------
    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no icdf")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__} has no entropy")

    def perplexity(self):
        return cr.exp(self.entropy())

    def _validate_sample(self, value):
        """Raise if ``value`` has an incompatible shape or lies outside the support."""
        if not isinstance(value, cr.Tensor):
            raise ArgumentError(f"{type(self).__name__}.log_prob: the value argument "
                                f"must be a Tensor, got {type(value).__name__}")
        ev = len(self._event_shape)
        if value.shape[value.ndim - ev:] != self._event_shape if ev else False:
            raise ArgumentError(
                f"The right-most size of value must match event_shape: "
                f"{tuple(value.shape)} vs {self._event_shape}.")
        actual = value.shape[:value.ndim - ev] if ev else value.shape
        expected = self._batch_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ArgumentError(
                    f"Value is not broadcastable with batch_shape+event_shape: "
                    f"{tuple(value.shape)} vs {expected + self._event_shape}.")
        support = self.support
        if support is None or support is constraints.dependent:
            return
        with cr.no_grad():
            ok = support.check(value)
        if not bool(ok.all()):
            raise ArgumentError(
                f"Expected value argument (Tensor of shape {tuple(value.shape)}) to "
                f"be within the support ({support!r}) of the distribution {self!r}, "
                f"but found invalid values:\n{value}")

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {tuple(self.__dict__[k].shape)}"
                         if isinstance(self.__dict__[k], cr.Tensor)
                         else f"{k}: {self.__dict__[k]}" for k in names)
        return f"{type(self).__name__}({args})"


class ExponentialFamily(Distribution):
    """Marker base of the exponential-family distributions (PyTorch's name)."""
