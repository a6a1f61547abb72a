"""``chainrule.gp`` against scikit-learn's GaussianProcessRegressor, and the
NNGP kernel against the empirical kernel of wide random networks."""
import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process import kernels as SK

import chainrule as cr
from chainrule import gp

RNG = np.random.default_rng(0)
X = RNG.uniform(-3, 3, (30, 2))
Y = np.sin(X[:, 0]) + 0.5 * np.cos(2 * X[:, 1]) + 0.1 * RNG.standard_normal(30)
XS = RNG.uniform(-3, 3, (12, 2))

KERNELS = [
    ("rbf", lambda: gp.RBF(0.8, 1.5), SK.ConstantKernel(1.5) * SK.RBF(0.8)),
    ("matern0.5", lambda: gp.Matern(0.5, 1.2, 0.7),
     SK.ConstantKernel(0.7) * SK.Matern(1.2, nu=0.5)),
    ("matern1.5", lambda: gp.Matern(1.5, 1.2, 0.7),
     SK.ConstantKernel(0.7) * SK.Matern(1.2, nu=1.5)),
    ("matern2.5", lambda: gp.Matern(2.5, 0.9), SK.Matern(0.9, nu=2.5)),
    ("periodic", lambda: gp.Periodic(1.1, 2.5, 0.8),
     SK.ConstantKernel(0.8) * SK.ExpSineSquared(1.1, 2.5)),
    ("linear", lambda: gp.Linear(1.0, 0.5), SK.DotProduct(0.5 ** 0.5)),
    ("sum_white", lambda: gp.RBF(0.8) + gp.White(0.2),
     SK.RBF(0.8) + SK.WhiteKernel(0.2)),
    ("product_scaled", lambda: 2.0 * (gp.RBF(1.5) * gp.Periodic(1.0, 3.0)),
     SK.ConstantKernel(2.0) * SK.RBF(1.5) * SK.ExpSineSquared(1.0, 3.0)),
]


@pytest.mark.parametrize("name,ours,theirs", KERNELS, ids=[k[0] for k in KERNELS])
def test_fixed_hyperparameters_match_sklearn(name, ours, theirs):
    """Log marginal likelihood, predictive mean and std at fixed
    hyper-parameters equal scikit-learn's to 1e-8 (noise = alpha)."""
    # (a periodic kernel of a Euclidean distance is positive definite in 1-d)
    x, xs = (X[:, :1], XS[:, :1]) if "ExpSine" in repr(theirs) else (X, XS)
    model = gp.GPRegression(ours(), noise=0.05).fit(x, Y, steps=0)
    sk = GaussianProcessRegressor(theirs, alpha=0.05, optimizer=None).fit(x, Y)
    assert abs(float(model.log_marginal_likelihood())
               - sk.log_marginal_likelihood_value_) < 1e-8
    mean, std = model.predict(xs, return_std=True)
    m2, s2 = sk.predict(xs, return_std=True)
    np.testing.assert_allclose(mean.numpy(), m2, atol=1e-8)
    np.testing.assert_allclose(std.numpy(), s2, atol=1e-8)
    _, cov = model.predict(xs, return_cov=True)
    np.testing.assert_allclose(cov.numpy(), sk.predict(xs, return_cov=True)[1],
                               atol=1e-8)
    np.testing.assert_allclose(model.kernel(x).detach().numpy(), theirs(x), atol=1e-10)


def test_steps_zero_keeps_hyperparameters_and_floats_are_readable():
    k = gp.RBF(lengthscale=0.8, variance=1.5)
    model = gp.GPRegression(k, noise=0.05).fit(X, Y, steps=0)
    assert k.lengthscale == pytest.approx(0.8) and k.variance == pytest.approx(1.5)
    assert model.noise == pytest.approx(0.05)
    assert isinstance(k.lengthscale, float)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimisation_at_least_as_good_as_sklearn(optimizer):
    sk = GaussianProcessRegressor(SK.ConstantKernel(1.0) * SK.RBF(1.0)
                                  + SK.WhiteKernel(0.1), alpha=1e-6).fit(X, Y)
    k = gp.RBF(1.0, 1.0) + gp.White(0.1)
    model = gp.GPRegression(k, noise=1e-6, learn_noise=False)
    before = float(model.log_marginal_likelihood(X, Y))
    steps = 50 if optimizer == "lbfgs" else 300
    model.fit(X, Y, steps=steps, optimizer=optimizer)
    after = float(model.log_marginal_likelihood())
    assert after > before
    assert after >= sk.log_marginal_likelihood_value_ - 1e-6
    assert model.noise == pytest.approx(1e-6)  # learn_noise=False keeps it


def test_gradient_of_lml_by_finite_differences():
    k = gp.Matern(1.5, 0.9, 1.2) + gp.White(0.1)
    model = gp.GPRegression(k, noise=0.05)
    params = list(model.parameters())
    lml = model.log_marginal_likelihood(X, Y)
    grads = cr.autograd.grad(lml, params)
    for p, g in zip(params, grads):
        with cr.no_grad():
            p += 1e-6
            up = float(model.log_marginal_likelihood(X, Y))
            p -= 2e-6
            down = float(model.log_marginal_likelihood(X, Y))
            p += 1e-6
        assert float(g) == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-6)


def test_not_positive_definite_is_a_clear_error():
    xs = np.zeros((5, 1))  # five identical points, negligible noise
    model = gp.GPRegression(gp.RBF(), noise=1e-300, learn_noise=False, max_jitter=0)
    with pytest.raises(cr.LinAlgError, match="not positive definite.*jitter"):
        model.log_marginal_likelihood(xs, np.ones(5))
    # a small jitter rescues a nearly singular matrix
    model = gp.GPRegression(gp.RBF(), noise=1e-300, learn_noise=False)
    assert np.isfinite(float(model.log_marginal_likelihood(xs, np.ones(5))))


def test_argument_errors():
    with pytest.raises(cr.ArgumentError, match="lengthscale must be positive"):
        gp.RBF(lengthscale=-1.0)
    with pytest.raises(cr.ArgumentError, match="nu must be"):
        gp.Matern(nu=2.0)
    with pytest.raises(cr.ArgumentError, match="fit"):
        gp.GPRegression(gp.RBF()).predict(X)
    with pytest.raises(cr.ShapeError, match="y must have shape"):
        gp.GPRegression(gp.RBF()).fit(X, Y[:5], steps=0)
    with pytest.raises(cr.ArgumentError, match="activation"):
        gp.NNGP(activation="tanh")


# -- the wide-network limit -----------------------------------------------------------
def _empirical_kernel(x, width, depth, activation, wv, bv, rng):
    """bias_var + weight_var * mean over units of phi(h(x)) phi(h(x')) for one
    random network of the given width (the last hidden layer's features)."""
    from scipy.special import erf

    phi = (lambda z: np.maximum(z, 0)) if activation == "relu" else erf
    h, fan_in = x, x.shape[1]
    for _ in range(depth):
        w = rng.standard_normal((fan_in, width)) * np.sqrt(wv / fan_in)
        b = rng.standard_normal(width) * np.sqrt(bv)
        h = phi(h @ w + b)
        fan_in = width
    return bv + wv * (h @ h.T) / width


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_nngp_is_the_limit_of_wide_networks(activation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3))
    k = gp.NNGP(depth=2, activation=activation, weight_var=1.6, bias_var=0.1)
    exact = k(x).detach().numpy()
    scale = np.abs(exact).max()
    err_wide = np.abs(_empirical_kernel(x, 4096, 2, activation, 1.6, 0.1, rng)
                      - exact).max() / scale
    err_narrow = np.mean([np.abs(_empirical_kernel(x, 32, 2, activation, 1.6, 0.1, rng)
                                 - exact).max() / scale for _ in range(5)])
    assert err_wide < 0.06, err_wide
    assert err_wide < err_narrow / 3, (err_wide, err_narrow)


def test_nngp_depth_zero_is_the_linear_kernel_and_gp_uses_it():
    x = RNG.standard_normal((5, 4))
    k = gp.NNGP(depth=0, weight_var=2.0, bias_var=0.5)
    np.testing.assert_allclose(k(x).numpy(), 0.5 + 2.0 * x @ x.T / 4, rtol=1e-12)
    model = gp.GPRegression(gp.NNGP(depth=3), noise=0.01).fit(X, Y, steps=0)
    assert np.isfinite(model.predict(XS).numpy()).all()
