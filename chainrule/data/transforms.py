"""Transforms fitted on training data and applied unchanged elsewhere."""
from numbers import Integral

from .. import ops
from ..autograd import no_grad
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..tensor import Tensor


class Standardize:
    """``(x - mean) / std`` with statistics from the training data only.

    ``fit(x_train)`` computes the mean and the population standard deviation
    over ``dim`` (default 0, the sample dimension: one statistic per
    feature; use ``dim=(0, 2, 3)`` for one per channel of (N, C, H, W)
    images).  Features whose standard deviation is below ``eps`` (constant
    on the training set) are only centred, not divided.  The fitted
    statistics are then applied unchanged to validation and test data, and
    travel in :meth:`state_dict`.

    Example::

        scaler = Standardize().fit(x_train)   # x_train: (N, F)
        x_train, x_test = scaler(x_train), scaler(x_test)
    """

    def __init__(self, dim=0, eps=1e-8):
        dims = (dim,) if isinstance(dim, Integral) else tuple(dim)
        if not dims or not all(isinstance(d, Integral) for d in dims):
            raise ArgumentError(f"Standardize: dim must be an int or a tuple of ints, "
                                f"got {dim!r}")
        self.dim = tuple(int(d) for d in dims)
        self.eps = float(eps)
        self.mean = None
        self.std = None

    def fit(self, x):
        """Compute mean and std of ``x`` over ``dim``; returns self."""
        if not isinstance(x, Tensor):
            raise ArgumentError(f"Standardize.fit: expected a Tensor, got "
                                f"{type(x).__name__}")
        if not x.is_floating_point():
            x = x.float()
        if any(d >= x.ndim or d < -x.ndim for d in self.dim):
            raise ShapeError(f"Standardize.fit: dim {self.dim} is out of range for "
                             f"data of shape {fmt_shape(x.shape)}")
        with no_grad():
            self.mean = x.mean(self.dim, keepdim=True)
            std = x.std(self.dim, keepdim=True, correction=0)
            self.std = ops.where(std < self.eps, ops.ones_like(std), std)
        return self

    def _check(self, x, who):
        if self.mean is None:
            raise ArgumentError(f"Standardize.{who}: call fit(training_data) first")
        if not isinstance(x, Tensor):
            raise ArgumentError(f"Standardize.{who}: expected a Tensor, got "
                                f"{type(x).__name__}")
        ok = x.ndim == self.mean.ndim and all(
            a == b or b == 1 for a, b in zip(x.shape, self.mean.shape))
        if not ok:
            raise ShapeError(
                f"Standardize.{who}: data of shape {fmt_shape(x.shape)} does not match "
                f"the statistics fitted on data of shape {fmt_shape(self.mean.shape)} "
                f"(reduced over dim {self.dim})")

    def __call__(self, x):
        """Standardise ``x`` (same shape as the fitted data except along ``dim``)."""
        self._check(x, "transform")
        if not x.is_floating_point():
            x = x.to(self.mean.dtype)
        return (x - self.mean) / self.std

    transform = __call__

    def fit_transform(self, x):
        return self.fit(x)(x)

    def inverse_transform(self, z):
        """Undo the transform: ``z * std + mean``."""
        self._check(z, "inverse_transform")
        return z * self.std + self.mean

    def state_dict(self):
        """``{'mean', 'std'}`` tensors (keepdim shape) for ``chainrule.save``."""
        if self.mean is None:
            raise ArgumentError("Standardize.state_dict: call fit(training_data) first")
        return {"mean": self.mean.clone(), "std": self.std.clone()}

    def load_state_dict(self, state):
        try:
            mean, std = state["mean"], state["std"]
        except (KeyError, TypeError):
            raise ArgumentError("Standardize.load_state_dict: expected a dict with "
                                "'mean' and 'std' tensors") from None
        if not isinstance(mean, Tensor) or not isinstance(std, Tensor) or \
                mean.shape != std.shape:
            raise ArgumentError("Standardize.load_state_dict: 'mean' and 'std' must be "
                                "tensors of the same shape")
        self.mean, self.std = mean.clone(), std.clone()
        return self

    def __repr__(self):
        fitted = "fitted" if self.mean is not None else "not fitted"
        return f"Standardize(dim={self.dim}, {fitted})"
