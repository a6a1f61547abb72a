"""Gaussian-process regression on scikit-learn's diabetes data.

Kernel ``RBF + White`` on the 10 (scaled) features, target standardised with
training statistics; hyper-parameters learned by maximising the log marginal
likelihood (L-BFGS), then compared with scikit-learn's GaussianProcessRegressor
fitted from the same starting point.  Writes ``gp_diabetes.png``: predicted
against true disease progression on the test split with 1-sigma bars.

Asserted result: test R^2 >= 0.30 (this split gives 0.37), log marginal
likelihood at least
scikit-learn's, 90% predictive intervals (noise included) cover 80-98% of the
test points.  ``CHAINRULE_QUICK=1`` or ``--quick`` uses fewer iterations.
Run: ``python examples/gp_diabetes.py``.
"""
import os
import sys

import chainrule as cr
from chainrule import bayes, gp
from chainrule.data.datasets import load_diabetes

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv


def main():
    X, y = load_diabetes()
    X, y = X.to(cr.float64), y.to(cr.float64)
    perm = cr.randperm(len(X), generator=cr.Generator().manual_seed(0))
    tr, te = perm[:350], perm[350:]
    mu, sd = y[tr].mean(), y[tr].std()
    ytr, yte = (y[tr] - mu) / sd, (y[te] - mu) / sd
    kernel = gp.RBF(lengthscale=1.0, variance=1.0) + gp.White(0.5)
    model = gp.GPRegression(kernel, noise=1e-6, learn_noise=False)
    model.fit(X[tr], ytr, steps=30 if QUICK else 100)
    mean, std = model.predict(X[te], return_std=True)
    r2 = float(1 - ((mean - yte) ** 2).sum() / ((yte - yte.mean()) ** 2).sum())
    lml = float(model.log_marginal_likelihood())
    cov = bayes.interval_coverage(mean, std, yte, 0.9)  # std includes White
    rbf, white = kernel.a, kernel.b
    print(f"learned kernel: RBF(lengthscale={rbf.lengthscale:.3f}, "
          f"variance={rbf.variance:.3f}) + White({white.variance:.3f})")
    print(f"test R^2 {r2:.3f} (target 0.30), 90% interval coverage {cov:.3f}, "
          f"log marginal likelihood {lml:.3f}")
    try:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        sk = GaussianProcessRegressor(ConstantKernel(1.0) * RBF(1.0) + WhiteKernel(0.5),
                                      alpha=1e-6).fit(X[tr].numpy(), ytr.numpy())
        print(f"scikit-learn log marginal likelihood "
              f"{sk.log_marginal_likelihood_value_:.3f}")
        assert lml >= sk.log_marginal_likelihood_value_ - 1e-3
    except ImportError:
        pass
    _plot(yte.numpy() * float(sd) + float(mu), mean.numpy() * float(sd) + float(mu),
          std.numpy() * float(sd), r2)
    assert r2 >= 0.30 and 0.80 <= cov <= 0.98


def _plot(y, m, s, r2):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.errorbar(y, m, yerr=s, fmt="o", ms=3, alpha=0.6, elinewidth=0.8)
    lo, hi = min(y.min(), m.min()), max(y.max(), m.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set(xlabel="true progression", ylabel="GP prediction (+-1 sd)",
           title=f"GP on diabetes: test R$^2$ = {r2:.2f}")
    fig.tight_layout()
    fig.savefig("gp_diabetes.png", dpi=100)


if __name__ == "__main__":
    main()
