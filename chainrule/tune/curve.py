"""Learning-curve extrapolation: stop a trial whose predicted final value
cannot beat the best finished trial.

The curve model is a power law with an asymptote, ``y(t) = a + b (t + 1)^-c``
(c > 0), the shape of most loss and error curves.  For each ``c`` on a grid
``a`` and ``b`` follow by linear least squares; the ``c`` with the smallest
residual wins.  The metric values are plain floats logged by the objective
(hyper-parameter bookkeeping, not tensor data), so NumPy fits them directly.
"""
import numpy as np

from ..errors import ArgumentError

_EXPONENTS = np.geomspace(0.05, 4.0, 48)


def fit_power_law(steps, values):
    """Least-squares fit of ``a + b (t+1)^-c``; returns ``predict(t)`` and (a, b, c).

    ``steps``, ``values``: equal-length sequences (at least 3 points)."""
    t = np.asarray(steps, dtype=np.float64) + 1.0
    y = np.asarray(values, dtype=np.float64)
    if t.shape != y.shape or t.size < 3:
        raise ArgumentError(f"fit_power_law: need >= 3 (step, value) pairs of equal "
                            f"length, got {t.size} steps and {y.size} values")
    best = None
    for c in _EXPONENTS:
        A = np.stack([np.ones_like(t), t ** -c], axis=1)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        sse = float(np.sum((A @ coef - y) ** 2))
        if best is None or sse < best[0]:
            best = (sse, float(coef[0]), float(coef[1]), float(c))
    _, a, b, c = best
    return (lambda s: a + b * (float(s) + 1.0) ** -c), (a, b, c)


class CurvePruner:
    """Prune when the curve extrapolated to the last step of the finished trials
    is worse than the best finished value by more than ``margin`` (a fraction
    of the spread of the values reported so far, so a noisy curve is given
    room).  Nothing is pruned before ``min_steps`` reports or before a trial
    has finished.
    """

    def __init__(self, min_steps=3, margin=0.1):
        if not isinstance(min_steps, int) or min_steps < 3:
            raise ArgumentError(f"CurvePruner: min_steps must be an int >= 3 (three "
                                f"parameters are fitted), got {min_steps!r}")
        self.min_steps, self.margin = min_steps, float(margin)
        self.predictions = {}  # last prediction, for inspection

    def prune_curve(self, curve, finished, direction):
        """``curve``: {step: value}; ``finished``: records with a value and curve."""
        if len(curve) < self.min_steps or not finished:
            return False
        horizon = max((max(t.curve) for t in finished if t.curve), default=None)
        if horizon is None or max(curve) >= horizon:
            return False
        values = [t.value for t in finished]
        best = min(values) if direction == "minimize" else max(values)
        steps = sorted(curve)
        ys = [curve[s] for s in steps]
        predict, _ = fit_power_law(steps, ys)
        pred = predict(horizon)
        self.predictions[len(self.predictions)] = pred
        room = self.margin * (max(ys) - min(ys))
        if direction == "minimize":
            return pred > best + room
        return pred < best - room
