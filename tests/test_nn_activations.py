"""Activations: functional and Module forms against torch, finite differences
in float64, second derivatives against torch, and the non-torch ones against
their formulas."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad  # noqa: F401  (torch_jvp below uses it)

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.autograd import forward_ad as fwAD
from tests.oracle import assert_close, check_against_torch, numeric_grad_check

TF = torch.nn.functional

# (chainrule function, torch function): both called as f(x).
ROWS = {
    "relu": (F.relu, TF.relu),
    "relu6": (F.relu6, TF.relu6),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (F.elu, TF.elu),
    "elu_0.5": (lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5)),
    "selu": (F.selu, TF.selu),
    "celu": (lambda x: F.celu(x, 1.5), lambda x: TF.celu(x, 1.5)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "mish": (F.mish, TF.mish),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "softplus": (F.softplus, TF.softplus),
    "softplus_beta": (lambda x: F.softplus(x, 2.0, 3.0),
                      lambda x: TF.softplus(x, 2.0, 3.0)),
    "softsign": (F.softsign, TF.softsign),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh_range": (lambda x: F.hardtanh(x, -0.5, 2.0),
                       lambda x: TF.hardtanh(x, -0.5, 2.0)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardswish": (F.hardswish, TF.hardswish),
    "hardshrink": (F.hardshrink, TF.hardshrink),
    "softshrink": (F.softshrink, TF.softshrink),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "threshold": (lambda x: F.threshold(x, 0.3, -2.0),
                  lambda x: TF.threshold(x, 0.3, -2.0)),
    "softmax0": (lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0)),
    "softmax1": (lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1)),
    "log_softmax": (lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1)),
    "softmin": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1)),
    "glu": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0)),
}


def _x(dtype, scale=3.0, seed=0):
    # Away from the kinks at 0, +-0.5, +-1, +-3, 6 where one-sided slopes differ.
    x = np.random.default_rng(seed).uniform(-scale, scale, (6, 5))
    for k in (0.0, 0.3, 0.5, 1.0, 3.0, 6.0):
        x[np.abs(np.abs(x) - k) < 1e-3] += 0.01
    return x.astype(dtype)


@pytest.mark.parametrize("name", sorted(ROWS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(name, dtype):
    cf, tf = ROWS[name]
    check_against_torch(cf, tf, [_x(dtype)])
    check_against_torch(cf, tf, [_x(dtype, scale=30.0, seed=1)])  # saturated tails


@pytest.mark.parametrize("name", sorted(ROWS))
def test_finite_differences(name):
    numeric_grad_check(ROWS[name][0], [_x(np.float64)[:4, :4]])


def torch_jvp(fn, x, v):
    """torch's forward-mode derivative of ``fn`` at ``x`` along ``v``."""
    tfw = torch.autograd.forward_ad
    with warnings.catch_warnings():  # torch scripts its jvp rules on first use
        warnings.simplefilter("ignore", DeprecationWarning)
        with tfw.dual_level():
            return tfw.unpack_dual(fn(tfw.make_dual(torch.tensor(x),
                                                    torch.tensor(v)))).tangent


@pytest.mark.parametrize("name", sorted(ROWS))
def test_forward_mode_matches_torch(name):
    cf, tf = ROWS[name]
    x = _x(np.float64)
    v = np.random.default_rng(5).standard_normal(x.shape)
    with fwAD.dual_level():
        out = fwAD.unpack_dual(cf(fwAD.make_dual(cr.tensor(x), cr.tensor(v)))).tangent
    want = torch_jvp(tf, x, v)
    assert_close(out, want, 1e-7, 1e-9)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "mish", "softplus",
                                  "logsigmoid", "elu", "selu", "softmax1",
                                  "log_softmax", "tanh", "sigmoid"])
def test_second_derivative_matches_torch(name):
    cf, tf = ROWS[name]
    x = _x(np.float64)
    v = np.random.default_rng(2).standard_normal(x.shape)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (cg,) = cr.autograd.grad((cf(cx) * cr.tensor(v)).sum(), [cx], create_graph=True)
    (tg,) = torch.autograd.grad((tf(tx) * torch.tensor(v)).sum(), [tx],
                                create_graph=True)
    (cgg,) = cr.autograd.grad((cg * cg).sum(), [cx])
    (tgg,) = torch.autograd.grad((tg * tg).sum(), [tx])
    assert_close(cgg, tgg, 1e-7, 1e-9)


def test_gradients_at_kinks_follow_torch():
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0])
    for name in ["relu", "relu6", "leaky_relu", "elu", "hardtanh", "hardsigmoid",
                 "hardswish", "logsigmoid", "softplus", "selu", "celu", "silu",
                 "hardshrink", "softshrink"]:
        cf, tf = ROWS[name]
        check_against_torch(cf, tf, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable_for_huge_logits(dtype):
    x = _x(dtype) * 1e8
    for dim in (0, 1):
        for cf, tf in ((F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)):
            out = check_against_torch(lambda a: cf(a, dim), lambda a: tf(a, dim), [x],
                                      rtol=1e-5, atol=1e-4)
            assert np.all(np.isfinite(out[0].detach().numpy()))
    big = cr.tensor([[1000.0, 0.0, -1000.0]], dtype=dtype)
    assert_close(F.softmax(big, 1), np.array([[1.0, 0.0, 0.0]], dtype))
    assert_close(F.softplus(cr.tensor([-1000.0, 1000.0])), np.array([0.0, 1000.0]))


def test_softmax_implicit_dim_and_dtype():
    for shape in [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)]:
        x = np.random.default_rng(0).standard_normal(shape)
        with warnings.catch_warnings():  # torch warns that the implicit dim is old
            warnings.simplefilter("ignore")
            check_against_torch(F.softmax, lambda a: TF.softmax(a, dim=None), [x])
            check_against_torch(nn.LogSoftmax(), torch.nn.LogSoftmax(), [x])
    x = cr.randn(3, 4)
    assert F.softmax(x, 1, dtype=cr.float64).dtype == cr.float64
    assert_close(F.softmax(cr.tensor(2.0), 0), np.float32(1.0))


# (chainrule module, torch module) pairs built from the same arguments.
MODULES = [
    ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.1,)), ("ELU", (0.7,)), ("SELU", ()),
    ("CELU", (0.8,)), ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("Mish", ()),
    ("Sigmoid", ()), ("Tanh", ()), ("Softplus", (1.5, 5.0)), ("Softsign", ()),
    ("Hardtanh", (-2.0, 1.5)), ("LogSigmoid", ()), ("Softmax", (1,)),
    ("LogSoftmax", (0,)), ("Softmin", (1,)), ("Hardsigmoid", ()), ("Hardswish", ()),
    ("Threshold", (0.2, 5.0)), ("Hardshrink", (0.4,)), ("Softshrink", (0.4,)),
    ("Tanhshrink", ()), ("GLU", (1,)), ("Softmax2d", ()),
]


@pytest.mark.parametrize("name,args", MODULES)
def test_modules_match_torch(name, args):
    x = _x(np.float32)[:, :4]
    if name == "Softmax2d":
        x = np.stack([x, -x, 2 * x])
    check_against_torch(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_module(dtype):
    for n, shape in [(1, (4, 3)), (3, (4, 3)), (3, (2, 3, 5)), (1, (5,)), (1, ())]:
        t, c = torch.nn.PReLU(n, init=0.1), nn.PReLU(n, init=0.1)
        with torch.no_grad():
            t.weight.copy_(torch.randn(n))
        if dtype == np.float64:
            t, c = t.double(), c.double()
        c.load_state_dict({"weight": t.weight.detach().numpy().copy()})
        x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
        tx, cx = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
        to, co = t(tx), c(cx)
        assert_close(co, to, what="output")
        to.sum().backward(), co.sum().backward()
        assert_close(cx.grad, tx.grad, what="input grad")
        assert_close(c.weight.grad, t.weight.grad, what="weight grad")
    assert_close(nn.PReLU().weight, np.array([0.25], np.float32))
    with pytest.raises(cr.ShapeError, match="prelu: weight has 3 slopes.*4 channels"):
        nn.PReLU(3)(cr.randn(2, 4))
    with pytest.raises(cr.ShapeError, match="prelu: weight has 3 slopes.*1 channels"):
        nn.PReLU(3)(cr.randn(3))


def test_inplace_activations_modify_their_input():
    for name in ["ReLU", "LeakyReLU", "ELU", "SELU", "SiLU", "Hardtanh", "ReLU6",
                 "Hardswish"]:
        x = _x(np.float32)
        cx = cr.tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        ch, th = cx * 1.0, tx * 1.0
        co = getattr(nn, name)(inplace=True)(ch)
        to = getattr(torch.nn, name)(inplace=True)(th)
        assert co is ch
        assert_close(ch, th, what=name)
        co.sum().backward(), to.sum().backward()
        assert_close(cx.grad, tx.grad, what=name)
        assert "inplace=True" in repr(getattr(nn, name)(inplace=True))
    for cf, tf in [(F.relu_, TF.relu_), (F.elu_, TF.elu_),
                   (lambda a: F.leaky_relu_(a, 0.3), lambda a: TF.leaky_relu_(a, 0.3)),
                   (F.hardtanh_, TF.hardtanh_),
                   (lambda a: F.threshold_(a, 0.1, 2.0), lambda a: TF.threshold_(a, 0.1,
                                                                                 2.0))]:
        a, b = cr.tensor(_x(np.float32)), torch.tensor(_x(np.float32))
        assert cf(a) is a
        tf(b)
        assert_close(a, b)


# -- the activations torch lacks, against their formulas (computed in torch) -----------
def test_arctan_arsinh_isru_against_formulas():
    x = _x(np.float64)
    check_against_torch(F.arctan, torch.atan, [x])
    check_against_torch(nn.ArcTan(), torch.atan, [x])
    check_against_torch(F.arsinh, lambda a: torch.log(a + torch.sqrt(a * a + 1)), [x])
    check_against_torch(nn.ArSinh(), torch.asinh, [x])
    for alpha in (1.0, 0.25, 3.0):
        check_against_torch(lambda a: F.isru(a, alpha),
                            lambda a: a / torch.sqrt(1 + alpha * a * a), [x])
        check_against_torch(nn.ISRU(alpha), lambda a: a / torch.sqrt(1 + alpha * a * a),
                            [x])
        numeric_grad_check(lambda a: F.isru(a, alpha), [x[:2]])
    numeric_grad_check(F.arctan, [x[:2]])
    numeric_grad_check(F.arsinh, [x[:2]])
    # Range and limits: isru -> +-1/sqrt(alpha), arctan -> +-pi/2.
    big = cr.tensor([-1e6, 1e6], dtype=cr.float64)
    assert_close(F.isru(big, 4.0), np.array([-0.5, 0.5]), rtol=1e-6)
    assert_close(F.arctan(big), np.array([-math.pi / 2, math.pi / 2]), rtol=1e-6)
    assert repr(nn.ISRU(0.5)) == "ISRU(alpha=0.5)"
    with pytest.raises(cr.ArgumentError, match="alpha must be positive"):
        nn.ISRU(0.0)


def test_heaviside_step_values_and_zero_gradient():
    x = np.array([-2.0, -1e-9, 0.0, 1e-9, 3.0])
    out = check_against_torch(F.heaviside_step,
                              lambda a: torch.heaviside(a, torch.tensor(1.0,
                                                        dtype=a.dtype)).detach(),
                              [x], grads=False)
    assert out[0].dtype == cr.float64
    cx = cr.tensor(x, requires_grad=True)
    y = nn.Heaviside()(cx)
    assert y.requires_grad  # the graph continues, with a zero gradient
    (y * cr.tensor([1.0, 2, 3, 4, 5])).sum().backward()
    np.testing.assert_array_equal(cx.grad.numpy(), np.zeros(5))


def test_perceptron_with_heaviside_learns_and_gelu_errors():
    with pytest.raises(cr.ArgumentError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(cr.randn(2), approximate="fast")
    with pytest.raises(cr.ArgumentError, match="min_val"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(cr.ShapeError, match="glu: .*odd size 5"):
        F.glu(cr.randn(3, 5))
