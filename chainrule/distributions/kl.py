"""``kl_divergence(p, q)`` and the registry of its closed forms.

``register_kl(P, Q)`` decorates a function computing ``KL(p || q)`` for
``p`` of type P and ``q`` of type Q; a lookup takes the most specific
registered pair along both classes' method resolution orders.
"""

import chainrule as cr

from .bernoulli import Bernoulli, Categorical, OneHotCategorical
from .exponential import Exponential
from .gamma import Beta, Dirichlet, Gamma
from .independent import Independent
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .poisson import Poisson
from .uniform import Uniform
from .utils import softplus, sum_rightmost

_KL_REGISTRY = {}
_INF = float("inf")


def register_kl(type_p, type_q):
    """Decorator: ``fn(p, q)`` is KL(p || q) for these two types."""
    def deco(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        return fn

    return deco


def _lookup(tp, tq):
    for i, a in enumerate(tp.__mro__):
        for j, b in enumerate(tq.__mro__):
            if (a, b) in _KL_REGISTRY:
                return _KL_REGISTRY[a, b]
    return None


def kl_divergence(p, q):
    """``KL(p || q) = E_p[log p(x) - log q(x)]``, of shape the broadcast batch."""
    fn = _lookup(type(p), type(q))
    if fn is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{type(p).__name__} and q type {type(q).__name__}")
    return fn(p, q)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - cr.log(var_ratio))


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    ratio = p.scale / q.scale
    d = (p.loc - q.loc).abs()
    return -cr.log(ratio) + d / q.scale + ratio * cr.exp(-d / p.scale) - 1


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = cr.where(p.probs == 0, 0.0, cr.where(q.probs == 0, _INF, t1))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = cr.where(p.probs == 1, 0.0, cr.where(q.probs == 1, _INF, t2))
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = cr.where(q.probs == 0, _INF, t)
    return cr.where(p.probs == 0, 0.0, t).sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    sp_ = p.concentration1 + p.concentration0
    sq = q.concentration1 + q.concentration0
    t1 = cr.lgamma(q.concentration1) + cr.lgamma(q.concentration0) + cr.lgamma(sp_)
    t2 = cr.lgamma(p.concentration1) + cr.lgamma(p.concentration0) + cr.lgamma(sq)
    t3 = (p.concentration1 - q.concentration1) * cr.digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * cr.digamma(p.concentration0)
    t5 = (sq - sp_) * cr.digamma(sp_)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * cr.log(p.rate / q.rate)
    t2 = cr.lgamma(q.concentration) - cr.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * cr.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sp_, sq = p.concentration.sum(-1), q.concentration.sum(-1)
    t1 = cr.lgamma(sp_) - cr.lgamma(sq)
    t2 = (cr.lgamma(p.concentration) - cr.lgamma(q.concentration)).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = cr.digamma(p.concentration) - cr.digamma(sp_).unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return -cr.log(ratio) + ratio - 1


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (cr.log(p.rate) - cr.log(q.rate)) - (p.rate - q.rate)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    out = cr.log((q.high - q.low) / (p.high - p.low))
    outside = (q.low > p.low) | (q.high < p.high)
    return cr.where(outside, _INF, out)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    from .multivariate_normal import _batch_mahalanobis

    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with "
                         "different event shapes cannot be computed")
    n = p.event_shape[0]
    half_t1 = q._half_log_det() - p._half_log_det()
    shape = cr.broadcast_shapes(p.scale_tril.shape, q.scale_tril.shape)
    m = cr.linalg.solve_triangular(q.scale_tril.expand(shape),
                                   p.scale_tril.expand(shape), upper=False)
    t2 = (m ** 2).flatten(-2).sum(-1)
    t3 = _batch_mahalanobis(q.scale_tril, q.loc - p.loc)
    return half_t1 + 0.5 * (t2 + t3 - n)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independents with different "
                                  "reinterpreted_batch_ndims")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist),
                         p.reinterpreted_batch_ndims)


