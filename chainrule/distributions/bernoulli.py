"""Bernoulli, Categorical and OneHotCategorical: given ``probs`` or ``logits``."""
import chainrule as cr
from chainrule.errors import ArgumentError

from . import constraints
from .distribution import Distribution, ExponentialFamily
from .utils import (
    as_float, broadcast_all, finfo, logits_to_probs, probs_to_logits, softplus,
)


def _one_of(name, probs, logits):
    if (probs is None) == (logits is None):
        raise ArgumentError("Either `probs` or `logits` must be specified, but not "
                            f"both ({name}).")


class _ProbsLogits:
    """``probs`` and ``logits`` derived from whichever was given, on demand."""

    _binary = False

    @property
    def probs(self):
        if "probs" not in self.__dict__:
            self.__dict__["probs"] = logits_to_probs(self.logits, self._binary)
        return self.__dict__["probs"]

    @property
    def logits(self):
        if "logits" not in self.__dict__:
            self.__dict__["logits"] = probs_to_logits(self.probs, self._binary)
        return self.__dict__["logits"]


class Bernoulli(_ProbsLogits, ExponentialFamily):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    _binary = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of("Bernoulli", probs, logits)
        if probs is not None:
            (self.__dict__["probs"],) = broadcast_all(probs)
            shape = self.__dict__["probs"].shape
        else:
            (self.__dict__["logits"],) = broadcast_all(logits)
            shape = self.__dict__["logits"].shape
        super().__init__(shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        m = (self.probs >= 0.5).to(self.probs.dtype)
        return cr.where(self.probs == 0.5, float("nan"), m)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        with cr.no_grad():
            shape = self._extended_shape(sample_shape)
            p = self.probs.expand(shape)
            return (cr.rand(shape, dtype=p.dtype) < p).to(p.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # -BCE with logits: value * logits - softplus(logits)
        return value * logits - softplus(logits)

    def entropy(self):
        return softplus(self.logits) - self.probs * self.logits


class Categorical(_ProbsLogits, Distribution):
    """One of ``K`` categories; ``probs``/``logits`` have shape ``batch + (K,)``
    (probs are normalised along the last dim)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(type(self).__name__, probs, logits)
        p = probs if probs is not None else logits
        p = as_float(p)
        if p.ndim < 1:
            raise ArgumentError("`probs` parameter must be at least one-dimensional."
                                if probs is not None else
                                "`logits` parameter must be at least one-dimensional.")
        if probs is not None:
            self.__dict__["probs"] = p / p.sum(-1, keepdim=True)
        else:
            self.__dict__["logits"] = p - cr.logsumexp(p, -1, keepdim=True)
        self._num_events = p.shape[-1]
        super().__init__(p.shape[:-1], validate_args=validate_args)

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self):
        return self._batch_shape + (self._num_events,)

    @property
    def mean(self):
        return cr.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return cr.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape=()):
        """Category indices (int64) by inverting the cumulative probabilities."""
        with cr.no_grad():
            shape = self._extended_shape(sample_shape)
            cdf = cr.cumsum(self.probs, -1).expand(shape + (self._num_events,))
            u = cr.rand(shape + (1,), dtype=cdf.dtype)
            idx = (cdf <= u).sum(-1)
            return idx.clamp(max=self._num_events - 1).to(cr.int64)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.to(cr.int64).unsqueeze(-1)
        value, log_pmf = cr.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(finfo(self.logits).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = cr.arange(self._num_events).reshape(
            (-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


class OneHotCategorical(Distribution):
    """A :class:`Categorical` draw encoded one-hot; event shape ``(K,)``."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.one_hot

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=False)
        c = self._categorical
        super().__init__(c.batch_shape, c.param_shape[-1:], validate_args=validate_args)

    def _check_args(self):
        Categorical._check_args(self._categorical)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return cr.one_hot(self.probs.argmax(-1), self._event_shape[0]).to(
            self.probs.dtype)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        k = self._categorical.sample(sample_shape)
        return cr.one_hot(k, self._event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def __repr__(self):
        return f"OneHotCategorical(probs: {tuple(self.probs.shape)})"
