"""Time GPRegression.fit on 2,000 points (RBF + White, L-BFGS) and compare with
scikit-learn's GaussianProcessRegressor on the same data.

Reports the fit with ``fit``'s default step budget (100 L-BFGS iterations;
L-BFGS stops earlier once converged) and with 30 iterations, and how many
log-likelihood evaluations (one Cholesky each, plus one inverse from the
factor for the gradient) each took.
Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/gp_fit.py``.
"""
import inspect
import time

import numpy as np

import chainrule as cr
from chainrule import gp

DEFAULT_STEPS = inspect.signature(gp.GPRegression.fit).parameters["steps"].default


def _data(n):
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (n, 2))
    y = np.sin(x[:, 0]) * np.cos(x[:, 1]) + 0.1 * rng.standard_normal(n)
    return x, y


def fit_once(x, y, steps):
    model = gp.GPRegression(gp.RBF(1.0, 1.0) + gp.White(0.1), noise=1e-6)
    calls = [0]
    lml = model.log_marginal_likelihood

    def counted(*a):
        calls[0] += 1
        return lml(*a)

    model.log_marginal_likelihood = counted
    t = time.perf_counter()
    model.fit(x, y, steps=steps)
    fit_s = time.perf_counter() - t
    del model.log_marginal_likelihood
    return model, fit_s, calls[0]


def main(n=2000):
    x, y = _data(n)
    for steps in (DEFAULT_STEPS, 30):
        model, fit_s, evals = fit_once(x, y, steps)
        lml = float(model.log_marginal_likelihood())
        print(f"chainrule: n={n} fit (steps={steps} L-BFGS iterations, {evals} "
              f"evaluations) {fit_s:.2f} s, log marginal likelihood {lml:.2f}")
    t = time.perf_counter()
    model.predict(x[:500], return_std=True)
    print(f"chainrule: predict 500 with std {time.perf_counter() - t:.2f} s")
    try:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    except ImportError:
        return
    k = ConstantKernel(1.0) * RBF(1.0) + WhiteKernel(0.1)
    t = time.perf_counter()
    sk = GaussianProcessRegressor(k, alpha=1e-6).fit(x, y)
    print(f"scikit-learn: fit {time.perf_counter() - t:.2f} s, log marginal "
          f"likelihood {sk.log_marginal_likelihood_value_:.2f}")


if __name__ == "__main__":
    cr.manual_seed(0)
    main()
