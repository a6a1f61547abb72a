"""Generalised linear models as one-layer networks, checked against exact fits.

A single ``nn.Linear`` layer with the right loss is a classic statistical
model; trained to convergence it must land on the same coefficients as the
textbook solvers:

- linear regression (MSE loss) on scikit-learn's diabetes data, against the
  closed-form least-squares solution;
- logistic regression (binary cross-entropy on logits, L2 penalty) on the
  breast-cancer data, against scikit-learn's ``LogisticRegression(C=1)``;
- Poisson regression (Poisson log-likelihood, log link, L2 penalty) on
  synthetic counts, against scikit-learn's ``PoissonRegressor(alpha=0.01)``.

The penalties are matched exactly: scikit-learn minimises
``C * sum(log-loss) + |w|^2 / 2`` and ``mean(deviance) / 2 + alpha |w|^2 / 2``,
which equal our mean losses plus ``lam / 2 * |w|^2`` with ``lam = 1 / (C n)``
and ``lam = alpha`` (the bias is not penalised).  Full-batch L-BFGS in
float64 minimises each objective.

Asserted result: for each model the largest coefficient difference from the
reference is below 1e-4 (relative to the largest coefficient).
Run: ``python examples/glm.py`` (``CHAINRULE_QUICK=1`` is accepted; the
full run already takes a few seconds).
"""
import sys

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import Standardize
from chainrule.data.datasets import load_breast_cancer, load_diabetes

TOL = 1e-4


def fit(x, y, loss_fn, lam=0.0):
    """Minimise ``loss_fn(linear(x), y) + lam / 2 * |w|^2`` over a Linear layer.

    x: (N, F) float64, y: (N, 1) float64.  Returns (weights (F,), bias).
    """
    layer = nn.Linear(x.shape[1], 1, dtype=cr.float64)
    with cr.no_grad():
        layer.weight.zero_()
        layer.bias.zero_()
    opt = optim.LBFGS(layer.parameters(), lr=1, max_iter=500, tolerance_grad=1e-12,
                      tolerance_change=1e-14, history_size=20,
                      line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn(layer(x), y) + lam / 2 * (layer.weight ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return layer.weight.detach().numpy()[0].copy(), layer.bias.item()


def report(name, ours, ref):
    w, b = ours
    rw, rb = ref
    scale = max(np.abs(rw).max(), abs(rb))
    err = max(np.abs(w - rw).max(), abs(b - rb)) / scale
    print(f"{name:20s} max relative coefficient difference {err:.2e}")
    return err


def linear_regression():
    X, y = load_diabetes()
    x = Standardize().fit_transform(X).double()
    t = y.double().reshape(-1, 1)
    ours = fit(x, t, nn.functional.mse_loss)
    A = np.hstack([x.numpy(), np.ones((len(x), 1))])
    coef, *_ = np.linalg.lstsq(A, t.numpy()[:, 0], rcond=None)
    return report("linear regression", ours, (coef[:-1], coef[-1]))


def logistic_regression():
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer()
    x = Standardize().fit_transform(X).double()
    C = 1.0
    ours = fit(x, y.double().reshape(-1, 1),
               nn.functional.binary_cross_entropy_with_logits, lam=1 / (C * len(x)))
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(x.numpy(), y.numpy())
    return report("logistic regression", ours, (ref.coef_[0], ref.intercept_[0]))


def poisson_regression():
    from sklearn.linear_model import PoissonRegressor

    rng = np.random.default_rng(0)
    x_np = rng.normal(size=(500, 4))
    rate = np.exp(x_np @ np.array([0.5, -0.3, 0.2, 0.0]) + 1.0)
    x, counts = cr.from_numpy(x_np), cr.from_numpy(rng.poisson(rate).astype(np.float64))
    alpha = 0.01
    ours = fit(x, counts.reshape(-1, 1), nn.functional.poisson_nll_loss, lam=alpha)
    ref = PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=10_000).fit(
        x.numpy(), counts.numpy())
    return report("poisson regression", ours, (ref.coef_, ref.intercept_))


def main():
    errors = [linear_regression(), logistic_regression(), poisson_regression()]
    ok = all(e < TOL for e in errors)
    print(f"all three fits agree with the references to {TOL:g}: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
