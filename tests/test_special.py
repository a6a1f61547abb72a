"""Special functions and gamma/Poisson draws (``chainrule/ops/special.py``).

The op-table rows (``tests/op_db_special.py``) check values and gradients
against PyTorch and by finite differences; here: the NumPy fallbacks against
SciPy, the implicit-reparameterisation gradient of gamma draws, and errors.
"""
import numpy as np
import pytest
import scipy.special as sp
import torch

import chainrule as cr
from chainrule.ops import special
from tests.jvp_samples import Const, U, S

NON_DIFFERENTIABLE_PRIMITIVES = {"standard_gamma_grad", "poisson"}
TESTED_PRIMITIVES = {"standard_gamma"}


def _gamma_call(prim, a):
    # a fresh generator per call: forward and reverse mode see the same draw
    return cr.ops.apply(prim, a, gen=np.random.default_rng(0))


JVP_SAMPLES = {
    "lgamma": S(U(0.5, 3.0, (2, 3))),
    "digamma": S(U(0.5, 3.0, (2, 3))),
    "polygamma": S(U(0.5, 3.0, (2, 3)), n=1),
    "erfinv": S(U(-0.8, 0.8, (2, 3))),
    # differentiable in x only, as in PyTorch: the shape a is a constant
    "igamma": S(Const(np.array([0.7, 2.5, 4.0])), U(0.5, 3.0, (2, 3))),
    # the implicit gradient is not the derivative of NumPy's sampler: no FD
    "standard_gamma": S(U(0.5, 3.0, (2, 3)), call=_gamma_call, fd=False),
}

X = np.concatenate([np.linspace(-4.7, -0.2, 9), np.linspace(0.05, 40, 25)])


@np.errstate(all="ignore")  # (the primitives run them quietly, as PyTorch is)
def test_fallbacks_match_scipy():
    assert np.allclose(special._lgamma_np(X), sp.gammaln(X), rtol=1e-13, atol=1e-13)
    for n in range(4):
        ref = sp.polygamma(n, X)
        assert np.allclose(special._polygamma_np(n, X), ref, rtol=1e-12, atol=1e-13)
    y = np.linspace(-0.999, 0.999, 41)
    assert np.allclose(special._erfinv_np(y), sp.erfinv(y), rtol=1e-12, atol=1e-14)
    assert np.isinf(special._lgamma_np(np.array([0.0, -2.0]))).all()
    assert np.isnan(special._erfinv_np(np.array([1.5]))).all()


@pytest.mark.parametrize("a", [0.2, 1.0, 3.5, 50.0])
def test_standard_gamma_grad_is_the_implicit_derivative(a):
    """dz/da = -(dF/da) / p(z): against central differences of SciPy's
    regularised incomplete gamma, and PyTorch's (approximate) rule."""
    z = np.random.default_rng(1).gamma(a, size=200)
    alpha = np.full(200, a)
    ours = cr.standard_gamma_grad(cr.tensor(alpha), cr.tensor(z)).numpy()
    h = 1e-6 * a
    dF = (sp.gammainc(a + h, z) - sp.gammainc(a - h, z)) / (2 * h)
    pdf = np.exp((a - 1) * np.log(z) - z - sp.gammaln(a))
    assert np.allclose(ours, -dF / pdf, rtol=1e-6)
    ref = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(z)).numpy()
    assert np.allclose(ours, ref, rtol=2e-3)


def test_standard_gamma_draws_and_gradient():
    """Moments of the draws; E[dz/da] = dE[z]/da = 1 and the gradient flows."""
    cr.manual_seed(0)
    a = cr.full((20000,), 2.5, dtype=cr.float64, requires_grad=True)
    z = cr.standard_gamma(a)
    zn = z.detach().numpy()
    assert abs(zn.mean() - 2.5) < 0.05 and abs(zn.var() - 2.5) < 0.15
    z.sum().backward()
    assert abs(a.grad.numpy().mean() - 1.0) < 0.02
    assert z.dtype == cr.float64
    assert cr.standard_gamma(cr.tensor([0.5, 1.5])).dtype == cr.float32


def test_poisson_moments_and_errors():
    cr.manual_seed(0)
    k = cr.poisson(cr.full((20000,), 3.0)).numpy()
    assert abs(k.mean() - 3.0) < 0.05 and abs(k.var() - 3.0) < 0.15
    assert (k == np.round(k)).all()
    with pytest.raises(cr.DTypeError, match="poisson"):
        cr.poisson(cr.tensor([1, 2]))


def test_polygamma_errors():
    with pytest.raises(cr.ArgumentError, match="polygamma.*negative"):
        cr.polygamma(-1, cr.tensor([1.0]))
    with pytest.raises(cr.DTypeError, match="polygamma"):
        cr.polygamma(1.5, cr.tensor([1.0]))


def test_int_inputs_give_floats():
    out = cr.lgamma(cr.tensor([1, 2, 5]))
    ref = torch.lgamma(torch.tensor([1, 2, 5]))
    assert out.dtype == cr.float32
    assert np.allclose(out.numpy(), ref.numpy())
