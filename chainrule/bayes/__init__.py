"""``chainrule.bayes``: Bayesian layers, variational inference, MC dropout,
deep ensembles, a last-layer Laplace approximation and calibration metrics."""
from .calibration import (  # noqa: F401
    expected_calibration_error, interval_coverage, negative_log_likelihood,
    reliability_diagram,
)
from .inference import Ensemble, elbo, kl_divergence, predict  # noqa: F401
from .laplace import LaplaceLastLayer  # noqa: F401
from .layers import BayesConv2d, BayesLinear  # noqa: F401
from .priors import GaussianPrior, LaplacePrior, ScaleMixturePrior  # noqa: F401
