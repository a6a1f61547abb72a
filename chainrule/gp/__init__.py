"""``chainrule.gp``: exact Gaussian-process regression and the NNGP kernel.

``GPRegression(kernels.RBF() + kernels.White(0.1), noise=1e-4).fit(x, y)``
learns the hyper-parameters by maximising the log marginal likelihood;
``kernels.NNGP(depth)`` is the covariance of an infinitely wide network.
"""
from . import kernels  # noqa: F401
from .kernels import NNGP, RBF, Linear, Matern, Periodic, White  # noqa: F401
from .regression import GPRegression  # noqa: F401
