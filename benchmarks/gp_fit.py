"""Time GPRegression.fit on 2,000 points (RBF + White, 30 L-BFGS iterations)
and compare with scikit-learn's GaussianProcessRegressor on the same data."""
import time

import numpy as np

import chainrule as cr
from chainrule import gp


def main(n=2000, steps=30):
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (n, 2))
    y = np.sin(x[:, 0]) * np.cos(x[:, 1]) + 0.1 * rng.standard_normal(n)
    model = gp.GPRegression(gp.RBF(1.0, 1.0) + gp.White(0.1), noise=1e-6)
    t = time.perf_counter()
    model.fit(x, y, steps=steps)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    model.predict(x[:500], return_std=True)
    pred_s = time.perf_counter() - t
    lml = float(model.log_marginal_likelihood())
    print(f"chainrule: n={n} fit ({steps} L-BFGS iterations) {fit_s:.2f} s, "
          f"predict 500 with std {pred_s:.2f} s, log marginal likelihood {lml:.2f}")
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
