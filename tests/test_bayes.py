"""``chainrule.bayes``: KL terms against torch.distributions, the local
reparameterisation against weight sampling, predict for Bayesian layers, MC
dropout and ensembles, and the calibration metrics against direct formulas."""
import math

import numpy as np
import pytest
import torch
import torch.distributions as TD

import chainrule as cr
from chainrule import bayes, nn


def _torch_normal(layer):
    mu = torch.tensor(layer.weight_mu.detach().numpy(), dtype=torch.float64)
    rho = torch.tensor(layer.weight_rho.detach().numpy(), dtype=torch.float64)
    return mu, torch.nn.functional.softplus(rho)


def test_closed_form_kl_matches_torch_and_mc_agrees():
    cr.manual_seed(0)
    layer = bayes.BayesLinear(4, 3, bias=False, prior=bayes.GaussianPrior(0.1, 0.7),
                              rho_init=-1.0)
    mu, sigma = _torch_normal(layer)
    ref = TD.kl_divergence(TD.Normal(mu, sigma), TD.Normal(0.1, 0.7)).sum().item()
    assert float(layer.kl()) == pytest.approx(ref, rel=1e-5)
    mc = np.mean([float(layer.kl(mc=True)) for _ in range(1500)])
    assert mc == pytest.approx(ref, rel=0.05)


@pytest.mark.parametrize("prior", [bayes.LaplacePrior(0.0, 0.5),
                                   bayes.ScaleMixturePrior(0.3, 1.0, 0.05)])
def test_monte_carlo_kl_for_priors_without_closed_form(prior):
    """E_q[log q - log p] by our one-draw estimator vs torch log_probs."""
    cr.manual_seed(1)
    layer = bayes.BayesLinear(3, 2, bias=False, prior=prior, rho_init=-1.0)
    mu, sigma = _torch_normal(layer)
    if isinstance(prior, bayes.LaplacePrior):
        p = TD.Laplace(0.0, 0.5)
    else:
        p = TD.MixtureSameFamily(TD.Categorical(torch.tensor([0.3, 0.7])),
                                 TD.Normal(torch.zeros(2), torch.tensor([1.0, 0.05])))
    w = torch.tensor(np.random.default_rng(0).standard_normal((200,) + mu.shape))
    w = mu + sigma * w
    ref = (TD.Normal(mu, sigma).log_prob(w) - p.log_prob(w.float()).double()).sum(
        (1, 2)).mean().item()
    ours = np.mean([float(layer.kl()) for _ in range(1000)])
    assert ours == pytest.approx(ref, rel=0.1, abs=0.1)
    # the prior's log density itself, elementwise, against torch's
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(prior.log_prob(cr.tensor(x)).numpy(),
                               p.log_prob(torch.tensor(x, dtype=torch.float32)).numpy(),
                               rtol=1e-5)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_local_reparameterisation_has_the_same_output_moments(kind):
    cr.manual_seed(0)
    if kind == "linear":
        a = bayes.BayesLinear(5, 3, rho_init=-0.5)
        b = bayes.BayesLinear(5, 3, rho_init=-0.5, local_reparam=True)
        x = cr.randn(2, 5)
    else:
        a = bayes.BayesConv2d(2, 2, 3, padding=1, rho_init=-0.5)
        b = bayes.BayesConv2d(2, 2, 3, padding=1, rho_init=-0.5, local_reparam=True)
        x = cr.randn(1, 2, 4, 4)
    b.load_state_dict(a.state_dict())
    with cr.no_grad():
        ya = cr.stack([a(x) for _ in range(2000)]).numpy()
        yb = cr.stack([b(x) for _ in range(2000)]).numpy()
    se = ya.std(0) * math.sqrt(2 / 2000)  # of the difference of the two means
    assert (np.abs(ya.mean(0) - yb.mean(0)) < 5 * se).all()
    np.testing.assert_allclose(ya.std(0), yb.std(0), rtol=0.08)
    a.sample = False
    np.testing.assert_array_equal(a(x).detach().numpy(), a(x).detach().numpy())


def test_elbo_trains_a_bayesian_regression():
    """The negative ELBO falls and gradients reach mu and rho."""
    cr.manual_seed(0)
    x = cr.linspace(-1, 1, 64).reshape(-1, 1)
    y = 2 * x + 0.1 * cr.randn(64, 1)
    model = nn.Sequential(bayes.BayesLinear(1, 1, rho_init=-3.0))
    opt = cr.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        nll = ((model(x) - y) ** 2).mean() / (2 * 0.01)
        loss = bayes.elbo(model, nll, 64)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) / 5
    assert float(model[0].weight_mu) == pytest.approx(2.0, abs=0.15)
    with pytest.raises(cr.ArgumentError, match="n_data"):
        bayes.elbo(model, nll, 0)


def test_predict_mc_dropout_ensemble_and_regression():
    cr.manual_seed(0)
    x = cr.randn(6, 3)
    net = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 4))
    net.eval()
    p = bayes.predict(net, x, samples=20)
    assert p.shape == (6, 4) and np.allclose(p.sum(-1).numpy(), 1, atol=1e-5)
    assert not net[1].training  # mode restored
    mean, std = bayes.predict(net, x, samples=20, task="regression")
    assert (std.numpy() > 0).any()
    _, std0 = bayes.predict(net, x, samples=5, task="regression", dropout=False)
    assert np.allclose(std0.numpy(), 0, atol=1e-6)
    members = [nn.Linear(3, 4) for _ in range(5)]
    ens = bayes.Ensemble(members)
    probs = bayes.predict(ens, x)
    ref = np.mean([torch.softmax(torch.tensor(m(x).detach().numpy()), -1).numpy()
                   for m in members], 0)
    np.testing.assert_allclose(probs.numpy(), ref, rtol=1e-5)
    with pytest.raises(cr.ArgumentError, match="task"):
        bayes.predict(net, x, task="ranking")


def _ece_reference(p, y, n_bins):
    conf, pred = p.max(1), p.argmax(1)
    ece = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        m = (conf >= lo) & ((conf < hi) if b < n_bins - 1 else (conf <= hi))
        if m.any():
            ece += m.mean() * abs((pred[m] == y[m]).mean() - conf[m].mean())
    return ece


def test_calibration_metrics(tmp_path):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((500, 4)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = rng.integers(0, 4, 500)
    pt, yt = cr.tensor(p), cr.tensor(y)
    assert bayes.expected_calibration_error(pt, yt, 10) == pytest.approx(
        _ece_reference(p, y, 10), abs=1e-12)
    nll = torch.nn.functional.nll_loss(torch.log(torch.tensor(p)), torch.tensor(y))
    assert bayes.negative_log_likelihood(pt, yt) == pytest.approx(nll.item())
    mean, std = cr.zeros(20000, dtype=cr.float64), cr.ones(20000, dtype=cr.float64)
    cr.manual_seed(0)
    cov = bayes.interval_coverage(mean, std, cr.randn(20000, dtype=cr.float64), 0.9)
    assert cov == pytest.approx(0.9, abs=0.01)
    path = bayes.reliability_diagram(pt, yt, tmp_path / "rel.png")
    assert path.stat().st_size > 1000
    with pytest.raises(cr.ShapeError, match="expected probs"):
        bayes.expected_calibration_error(pt[:, 0], yt)


# -- last-layer Laplace ----------------------------------------------------------------
def _laplace_setup():
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 3))
    x = cr.randn(20, 3)
    y = cr.randint(0, 3, (20,))
    return net, x, y


def test_laplace_ggn_and_evidence_match_torch_hessian():
    """The last layer's Hessian of the summed cross-entropy (the GGN: logits are
    linear in it) and the Laplace evidence, against torch.autograd.functional."""
    import math

    import torch

    net, x, y = _laplace_setup()
    lap = bayes.LaplaceLastLayer(net, prior_precision=2.0).fit(x, y)
    feats = torch.tensor(net[1](net[0](x)).detach().numpy(), dtype=torch.float64)
    w = torch.tensor(net[2].weight.detach().numpy(), dtype=torch.float64)
    b = torch.tensor(net[2].bias.detach().numpy(), dtype=torch.float64)
    yt = torch.tensor(y.numpy())
    theta0 = torch.cat([w, b[:, None]], 1).reshape(-1)

    def nll(theta):
        t = theta.reshape(3, 5)
        return torch.nn.functional.cross_entropy(feats @ t[:, :4].T + t[:, 4], yt,
                                                 reduction="sum")

    hess = torch.autograd.functional.hessian(nll, theta0)
    np.testing.assert_allclose(lap._ggn.numpy(), hess.numpy(), atol=1e-10)
    lam = 0.7
    prec = hess + lam * torch.eye(15, dtype=torch.float64)
    want = (-nll(theta0) - 0.5 * lam * theta0 @ theta0 + 7.5 * math.log(lam)
            - 0.5 * torch.logdet(prec)).item()
    assert lap.log_marginal_likelihood(lam) == pytest.approx(want, abs=1e-9)


def test_laplace_draws_have_the_posterior_covariance_and_predict_averages():
    net, x, y = _laplace_setup()
    lap = bayes.LaplaceLastLayer(net).fit(x, y, grid=[0.1, 1.0, 10.0])
    assert lap.prior_precision == max([0.1, 1.0, 10.0],
                                      key=lap.log_marginal_likelihood)
    cov = np.linalg.inv(lap.posterior_precision().numpy())
    x1 = x[:1]
    phi = np.append(np.tanh(net[0](x1).detach().numpy()), 1.0)  # (5,)
    # logit c = theta_c . phi: its variance is phi^T Sigma_cc phi
    want = np.array([phi @ cov[5 * c:5 * c + 5, 5 * c:5 * c + 5] @ phi
                     for c in range(3)])
    cr.manual_seed(1)
    draws = np.stack([lap(x1).detach().numpy()[0] for _ in range(4000)])
    np.testing.assert_allclose(draws.var(0), want, rtol=0.1)
    np.testing.assert_allclose(draws.mean(0), net(x1).detach().numpy()[0],
                               atol=4 * np.sqrt(want.max() / 4000))
    p = bayes.predict(lap, x, samples=8)
    np.testing.assert_allclose(p.sum(-1).numpy(), 1.0, rtol=1e-6)


def test_laplace_errors():
    with pytest.raises(cr.ArgumentError, match="must be an nn.Sequential ending in "
                       "nn.Linear"):
        bayes.LaplaceLastLayer(cr.nn.Sequential(cr.nn.Linear(2, 2), cr.nn.ReLU()))
    net, x, _ = _laplace_setup()
    with pytest.raises(cr.ArgumentError, match="call fit"):
        bayes.LaplaceLastLayer(net)(x)
