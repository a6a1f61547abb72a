"""Small synthetic data sets for teaching and tests.

Each returns ``(X, y)`` tensors and draws its randomness from ``generator``
(a ``chainrule.Generator``; default: the global one) or from a fresh
generator seeded with ``seed``: the same seed gives the same data.
"""
import math
from numbers import Integral

from ... import ops
from ...errors import ArgumentError
from ...random import Generator


def _generator(generator, seed, who):
    if seed is not None:
        if generator is not None:
            raise ArgumentError(f"{who}: pass either generator or seed, not both")
        return Generator().manual_seed(seed)
    if generator is not None and not isinstance(generator, Generator):
        raise ArgumentError(f"{who}: generator must be a chainrule.Generator, got "
                            f"{type(generator).__name__}")
    return generator


def _count(n, who, minimum=1):
    if not isinstance(n, Integral) or isinstance(n, bool) or n < minimum:
        raise ArgumentError(f"{who}: n_samples must be an int >= {minimum}, got {n!r}")
    return int(n)


def _noise(noise, who):
    if not isinstance(noise, (int, float)) or noise < 0:
        raise ArgumentError(f"{who}: noise must be a number >= 0, got {noise!r}")
    return float(noise)


def _shuffled(X, y, g):
    perm = ops.randperm(X.shape[0], generator=g)
    return X[perm], y[perm]


def make_xor(n_samples=4, noise=0.0, *, generator=None, seed=None):
    """The XOR problem: X (n_samples, 2) float32, y (n_samples,) int64.

    The points cycle through the corners (0,0), (0,1), (1,0), (1,1) with
    labels 0, 1, 1, 0, plus Gaussian noise of std ``noise``.  The default,
    ``make_xor()``, is the four corners themselves, in that order.
    """
    n = _count(n_samples, "make_xor")
    noise = _noise(noise, "make_xor")
    g = _generator(generator, seed, "make_xor")
    k = ops.arange(n) % 4
    X = ops.stack([(k // 2).float(), (k % 2).float()], dim=1)
    y = (k // 2) ^ (k % 2)
    if noise:
        X = X + noise * ops.randn(n, 2, generator=g)
    return X, y


def make_moons(n_samples=200, noise=0.1, *, shuffle=True, generator=None, seed=None):
    """Two interleaving half circles: X (n_samples, 2) float32, y int64 in {0, 1}.

    Half the points (rounding down) lie on the upper moon (label 0), the rest
    on the lower one (label 1); Gaussian noise of std ``noise`` is added.
    """
    n = _count(n_samples, "make_moons", 2)
    noise = _noise(noise, "make_moons")
    g = _generator(generator, seed, "make_moons")
    n_out = n // 2
    n_in = n - n_out
    t_out = ops.linspace(0, math.pi, n_out)
    t_in = ops.linspace(0, math.pi, n_in)
    upper = ops.stack([ops.cos(t_out), ops.sin(t_out)], dim=1)
    lower = ops.stack([1 - ops.cos(t_in), 0.5 - ops.sin(t_in)], dim=1)
    X = ops.cat([upper, lower])
    y = ops.cat([ops.zeros(n_out, dtype="int64"), ops.ones(n_in, dtype="int64")])
    if noise:
        X = X + noise * ops.randn(n, 2, generator=g)
    return _shuffled(X, y, g) if shuffle else (X, y)


def make_spirals(n_samples=300, n_classes=3, noise=0.2, *, shuffle=True,
                 generator=None, seed=None):
    """Interleaved spiral arms, one per class: X (n, 2) float32, y (n,) int64.

    ``n_samples`` is split as evenly as possible over the ``n_classes`` arms;
    ``noise`` is the std of the Gaussian jitter added to each point's angle.
    Not linearly separable: a classic test for a hidden layer.
    """
    n = _count(n_samples, "make_spirals")
    if not isinstance(n_classes, Integral) or n_classes < 1 or n_classes > n:
        raise ArgumentError(f"make_spirals: n_classes must be an int in [1, "
                            f"n_samples={n}], got {n_classes!r}")
    noise = _noise(noise, "make_spirals")
    g = _generator(generator, seed, "make_spirals")
    xs, ys = [], []
    for k in range(n_classes):
        m = n // n_classes + (1 if k < n % n_classes else 0)
        r = ops.linspace(0.0, 1.0, m)
        t = ops.linspace(4.0 * k, 4.0 * (k + 1), m)
        if noise:
            t = t + noise * ops.randn(m, generator=g)
        xs.append(ops.stack([r * ops.sin(t), r * ops.cos(t)], dim=1))
        ys.append(ops.full((m,), k, dtype="int64"))
    X, y = ops.cat(xs), ops.cat(ys)
    return _shuffled(X, y, g) if shuffle else (X, y)


def make_regression_curve(n_samples=100, noise=0.1, *, low=-3.0, high=3.0, fn=None,
                          generator=None, seed=None):
    """Noisy samples of a curve: X (n, 1) float32 sorted, y (n, 1) float32.

    X is uniform on [low, high) (then sorted, which makes plots easy);
    ``y = fn(X) + noise * N(0, 1)`` with ``fn`` a function of tensors,
    by default ``sin``.
    """
    n = _count(n_samples, "make_regression_curve")
    noise = _noise(noise, "make_regression_curve")
    if not high > low:
        raise ArgumentError(f"make_regression_curve: need low < high, got low={low}, "
                            f"high={high}")
    g = _generator(generator, seed, "make_regression_curve")
    x = ops.rand(n, 1, generator=g) * (high - low) + low
    x = ops.sort(x, dim=0).values
    y = (fn or ops.sin)(x)
    if noise:
        y = y + noise * ops.randn(n, 1, generator=g)
    return x, y
