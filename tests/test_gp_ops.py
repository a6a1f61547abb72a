"""The Gaussian-process primitives (``chainrule/ops/gaussian.py``) equal their
definitions: values, first derivatives (the NumPy backward), second
derivatives (the create_graph path) and finite differences, in float64, with
PyTorch computing the same definition as the oracle.  The op-table rows
(``tests/op_db_linalg.py``) run them through the general oracle tests too."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import gaussian as G
from tests.jvp_samples import Gen, S, U

TESTED_PRIMITIVES = {"gaussian_lml", "gaussian_lml_backward", "stationary_kernel",
                     "stationary_kernel_backward", "add_to_diagonal"}
NON_DIFFERENTIABLE_PRIMITIVES = {"gaussian_lml_backward",
                                 "stationary_kernel_backward"}


def _spd(rng, n):
    a = rng.standard_normal((n, n))
    return a @ a.T / n + np.eye(n)


JVP_SAMPLES = {
    # the residual outputs (the factor and alpha) are not results: leave them out
    "gaussian_lml": S(Gen(lambda rng: _spd(rng, 4)), (4,), sym=(0,),
                      call=lambda prim, K, y: prim(K, y)[0]),
    "stationary_kernel": S(U(0.1, 3.0, (3, 4)), (1,), (1,), kind="matern52"),
    "add_to_diagonal": S((3, 3), (3,)),
}
KINDS = ["rbf", "matern12", "matern32", "matern52"]


def _torch_lml(K, y):
    L = torch.linalg.cholesky(K)
    a = torch.linalg.solve_triangular(L, y[:, None], upper=False)
    return (-0.5 * (a * a).sum() - torch.log(torch.diagonal(L)).sum()
            - 0.5 * K.shape[0] * math.log(2 * math.pi))


def test_lml_value_and_gradients_match_torch():
    rng = np.random.default_rng(0)
    K, y = _spd(rng, 7), rng.standard_normal(7)
    kc, yc = cr.tensor(K, requires_grad=True), cr.tensor(y, requires_grad=True)
    kt, yt = torch.tensor(K, requires_grad=True), torch.tensor(y, requires_grad=True)
    v = G.gaussian_log_marginal_likelihood(kc, yc)
    vt = _torch_lml(kt, yt)
    assert abs(float(v) - vt.item()) < 1e-12
    v.backward()
    vt.backward()
    # torch's Cholesky gradient is the symmetric one too
    np.testing.assert_allclose(kc.grad.numpy(), kt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(yc.grad.numpy(), yt.grad.numpy(), atol=1e-12)
    # and it is the closed form 0.5 (alpha alpha^T - K^-1)
    alpha = np.linalg.solve(K, y)
    np.testing.assert_allclose(kc.grad.numpy(),
                               0.5 * (np.outer(alpha, alpha) - np.linalg.inv(K)),
                               atol=1e-12)


def test_lml_gradcheck_and_second_order_through_a_symmetric_input():
    rng = np.random.default_rng(1)
    a = cr.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    y = cr.tensor(rng.standard_normal(4), requires_grad=True)

    def f(a, y):
        return G.gaussian_log_marginal_likelihood(a @ a.mT + cr.eye(4, dtype=a.dtype),
                                                  y)

    assert gradcheck(f, (a, y))
    assert gradgradcheck(f, (a, y))


def test_lml_equals_composite_to_second_order():
    rng = np.random.default_rng(2)
    K, y = _spd(rng, 5), rng.standard_normal(5)
    out = []
    for fn in (G.gaussian_log_marginal_likelihood, G.gaussian_lml_composite):
        k = cr.tensor(K, requires_grad=True)
        v = fn(k, cr.tensor(y))
        (g,) = cr.autograd.grad(v, k, create_graph=True)
        (h,) = cr.autograd.grad((g * g).sum(), k)
        out.append((float(v), 0.5 * (g + g.mT).detach().numpy(),
                    0.5 * (h + h.mT).numpy()))
    assert out[0][0] == pytest.approx(out[1][0], abs=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], atol=1e-12)
    np.testing.assert_allclose(out[0][2], out[1][2], atol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_stationary_kernel_matches_torch_and_finite_differences(kind):
    from tests.op_db_linalg import _stationary_ref

    rng = np.random.default_rng(3)
    d2 = rng.uniform(0.0, 3.0, (5, 6))
    d2[0, 0] = 0.0  # zero distance: the Matern kernels' delicate point
    ll, lv = np.array([0.3]), np.array([-0.2])
    xs = [cr.tensor(a, requires_grad=True) for a in (d2, ll, lv)]
    ts = [torch.tensor(a, requires_grad=True) for a in (d2, ll, lv)]
    k = G.stationary_kernel(*xs, kind=kind)
    kt = _stationary_ref(torch, *ts, kind)
    np.testing.assert_allclose(k.detach().numpy(), kt.detach().numpy(), rtol=1e-13)
    w = rng.standard_normal(d2.shape)
    (k * cr.tensor(w)).sum().backward()
    (kt * torch.tensor(w)).sum().backward()
    for x, t in zip(xs[1:], ts[1:]):  # d/dd2 is infinite at 0 for nu = 1/2
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-11)
    ok = d2 > 0
    np.testing.assert_allclose(xs[0].grad.numpy()[ok], ts[0].grad.numpy()[ok],
                               rtol=1e-11)
    d2p = cr.tensor(rng.uniform(0.2, 3.0, (3, 4)), requires_grad=True)
    lp = [cr.tensor(a, requires_grad=True) for a in (ll, lv)]
    assert gradcheck(lambda *a: G.stationary_kernel(*a, kind=kind), (d2p, *lp))
    assert gradgradcheck(lambda *a: G.stationary_kernel(*a, kind=kind), (d2p, *lp))


def test_add_to_diagonal_gradients():
    k = cr.randn(3, 3, dtype=cr.float64, requires_grad=True)
    for v in (cr.randn(3, dtype=cr.float64, requires_grad=True),
              cr.randn(1, dtype=cr.float64, requires_grad=True),
              cr.tensor(0.7, dtype=cr.float64, requires_grad=True)):
        out = G.add_to_diagonal(k, v)
        want = k + cr.diag_embed(v.expand(3))
        np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy())
        assert gradcheck(G.add_to_diagonal, (k, v))


def test_gp_log_likelihood_gradient_matches_torch_end_to_end():
    """A fitted model's gradient in its log hyper-parameters, against torch
    computing the same kernel and likelihood densely."""
    from chainrule import gp

    rng = np.random.default_rng(4)
    x, y = rng.uniform(-2, 2, (25, 2)), rng.standard_normal(25)
    model = gp.GPRegression(gp.Matern(2.5, 0.7, 1.3) + gp.White(0.2), noise=0.05)
    lml = model.log_marginal_likelihood(x, y)
    lml.backward()
    ll, lv, lw, ln = (torch.tensor(math.log(v), dtype=torch.float64,
                                   requires_grad=True) for v in (0.7, 1.3, 0.2, 0.05))
    xt = torch.tensor(x)
    r = torch.cdist(xt, xt) / torch.exp(ll)
    s = math.sqrt(5) * r
    K = torch.exp(lv) * (1 + s + s * s / 3) * torch.exp(-s)
    K = K + (torch.exp(lw) + torch.exp(ln)) * torch.eye(25, dtype=torch.float64)
    vt = _torch_lml(K, torch.tensor(y))
    vt.backward()
    assert float(lml) == pytest.approx(vt.item(), abs=1e-10)
    k = model.kernel
    got = [float(p.grad) for p in (k.a.log_lengthscale, k.a.log_variance,
                                   k.b.log_variance, model.log_noise)]
    np.testing.assert_allclose(got, [t.grad.item() for t in (ll, lv, lw, ln)],
                               rtol=1e-8)


def test_errors_name_the_op_and_what_is_valid():
    k = cr.eye(3, dtype=cr.float64)
    with pytest.raises(cr.ShapeError, match=r"gaussian_log_marginal_likelihood: "
                       r"expected K \(n, n\) and y \(n,\)"):
        G.gaussian_log_marginal_likelihood(k, cr.zeros(4, dtype=cr.float64))
    with pytest.raises(cr.DTypeError, match="same floating dtype"):
        G.gaussian_log_marginal_likelihood(k, cr.zeros(3))
    with pytest.raises(cr.LinAlgError, match="not positive definite"):
        G.gaussian_log_marginal_likelihood(-k, cr.zeros(3, dtype=cr.float64))
    with pytest.raises(cr.ShapeError, match="add_to_diagonal: expected K"):
        G.add_to_diagonal(k, cr.zeros(2, dtype=cr.float64))
    with pytest.raises(cr.ShapeError, match="one-element log hyper-parameters"):
        G.stationary_kernel(k, cr.zeros(2, dtype=cr.float64),
                            cr.zeros(1, dtype=cr.float64))
