"""MNIST-1D (Greydanus, 2020): ten 1-D digit templates turned into signals of
length 40 by random padding, scaling, translation, shear and correlated noise.

It is generated on the spot by the ``mnist1d`` package (an optional extra,
``pip install 'chainrule[mnist1d]'``), so nothing is downloaded.  The
package reseeds NumPy's and Python's global generators; the loader puts
their states back, so loading it does not change anyone else's random
numbers.
"""
import random

import numpy as np

from ...errors import ArgumentError
from ...ops import from_numpy


def _mnist1d_data():
    try:
        import mnist1d.data as data
    except ImportError:
        raise ImportError(
            "chainrule.data.datasets.load_mnist1d needs the mnist1d package, "
            "which is not installed; install it with: "
            "pip install 'chainrule[mnist1d]'") from None
    return data


def load_mnist1d(num_samples=5000, *, seed=42):
    """MNIST-1D signals: X (N, 1, 40) float32, y (N,) int64 in 0..9.

    ``N`` is ``num_samples`` rounded down to a multiple of 10 (the same
    number of signals per class, shuffled).  The signals are standardised
    over the whole set (mean 0, standard deviation 1), as the package does.
    The package's own train/test split is ``X[:0.8 N]`` / ``X[0.8 N:]``;
    with the defaults (5000, seed 42) the data are the paper's data set.
    Takes about 4 s per 10,000 signals.  X is (N, C, L), ready for
    ``Conv1d``.
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) \
            or num_samples < 10:
        raise ArgumentError("load_mnist1d: num_samples must be an int >= 10, "
                            f"got {num_samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ArgumentError(f"load_mnist1d: seed must be an int >= 0, got {seed!r}")
    data = _mnist1d_data()
    args = data.get_dataset_args()
    args.num_samples, args.seed = num_samples, seed
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        ds = data.make_dataset(args)
    finally:  # make_dataset seeds both global generators
        np.random.set_state(np_state)
        random.setstate(py_state)
    X = np.concatenate([ds["x"], ds["x_test"]]).astype(np.float32)
    y = np.concatenate([ds["y"], ds["y_test"]]).astype(np.int64)
    return from_numpy(X[:, None, :]), from_numpy(y)
