"""MixtureSameFamily: a Categorical mixture of components of one family."""
import chainrule as cr
from chainrule.errors import ArgumentError

from .bernoulli import Categorical
from .distribution import Distribution


class MixtureSameFamily(Distribution):
    """``p(x) = sum_k pi_k p_k(x)``: ``mixture_distribution`` is a Categorical
    with batch shape B and K categories; ``component_distribution`` has batch
    shape ``B + (K,)`` (the last batch dim indexes the components)."""

    arg_constraints = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution,
                 validate_args=None):
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        if not isinstance(mixture_distribution, Categorical):
            raise ArgumentError("The Mixture distribution needs to be an instance of "
                                "torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ArgumentError("The Component distribution need to be an instance "
                                "of torch.distributions.Distribution")
        mb = mixture_distribution.batch_shape
        cb = component_distribution.batch_shape[:-1]
        for a, b in zip(reversed(mb), reversed(cb)):
            if a != 1 and b != 1 and a != b:
                raise ArgumentError(
                    f"`mixture_distribution.batch_shape` ({mb}) is not compatible "
                    f"with `component_distribution.batch_shape`({cb})")
        k = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1]
        if k != kc:
            raise ArgumentError(
                f"`mixture_distribution component` ({k}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({kc})")
        self._num_component = k
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cb, component_distribution.event_shape,
                         validate_args=validate_args)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @property
    def support(self):
        return self._component_distribution.support

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture(self, x):
        return x.reshape(x.shape + (1,) * self._event_ndims)

    @property
    def mean(self):
        probs = self._pad_mixture(self._mixture_distribution.probs)
        return (probs * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        d = -1 - self._event_ndims
        probs = self._pad_mixture(self._mixture_distribution.probs)
        comp = self._component_distribution
        within = (probs * comp.variance).sum(d)
        between = (probs * (comp.mean - self._pad(self.mean)) ** 2).sum(d)
        return within + between

    def cdf(self, x):
        cdf_x = self._component_distribution.cdf(self._pad(x))
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        if self._validate_args:
            self._validate_sample(x)
        log_px = self._component_distribution.log_prob(self._pad(x))  # (S, B, K)
        log_mix = self._mixture_distribution.logits  # normalised log-probs
        log_mix = log_mix - cr.logsumexp(log_mix, -1, keepdim=True)
        return cr.logsumexp(log_px + log_mix, -1)

    def sample(self, sample_shape=()):
        with cr.no_grad():
            n_ev = self._event_ndims
            idx = self._mixture_distribution.sample(sample_shape)  # (S, B)
            comp = self._component_distribution.sample(sample_shape)  # (S, B, K, E)
            idx = idx.reshape(idx.shape + (1,) * (n_ev + 1))
            event = comp.shape[comp.ndim - n_ev:]
            idx = idx.expand(idx.shape[:-1 - n_ev] + (1,) + event)
            return comp.gather(comp.ndim - 1 - n_ev, idx).squeeze(comp.ndim - 1 - n_ev)

    def __repr__(self):
        return (f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n  "
                f"{self._component_distribution!r})")
