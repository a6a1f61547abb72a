"""``chainrule.distributions``: probability distributions with PyTorch's API.

``Normal(loc, scale).rsample((n,))`` draws differentiably, ``log_prob`` scores
values, ``kl_divergence(p, q)`` uses the registered closed forms.  Shapes:
``sample_shape + batch_shape + event_shape``.
"""
from . import constraints, transforms  # noqa: F401
from .bernoulli import Bernoulli, Categorical, OneHotCategorical  # noqa: F401
from .distribution import Distribution, ExponentialFamily  # noqa: F401
from .exponential import Exponential  # noqa: F401
from .gamma import Beta, Dirichlet, Gamma  # noqa: F401
from .independent import Independent  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401
from .laplace import Laplace  # noqa: F401
from .mixture import MixtureSameFamily  # noqa: F401
from .multivariate_normal import (  # noqa: F401
    LowRankMultivariateNormal, MultivariateNormal,
)
from .normal import Normal  # noqa: F401
from .poisson import Poisson  # noqa: F401
from .studentt import StudentT  # noqa: F401
from .transformed import LogNormal, TransformedDistribution  # noqa: F401
from .transforms import (  # noqa: F401
    AffineTransform, ComposeTransform, ExpTransform, PowerTransform,
    SigmoidTransform, SoftplusTransform, TanhTransform, Transform,
)
from .uniform import Uniform  # noqa: F401
