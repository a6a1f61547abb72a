"""Custom ops: ``chainrule.autograd.Function`` against ``torch.autograd.Function``."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn  # noqa: F401  (cr.nn)
from chainrule.autograd import Function
from chainrule.autograd import forward_ad as fwad

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script:DeprecationWarning")
# Read by tests/test_ops_registry.py: these tests compare it with PyTorch.
TESTED_PRIMITIVES = {"custom_function"}


class ExpFn(Function):
    """exp with a saved output, a differentiable backward and a jvp."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y

    @staticmethod
    def jvp(ctx, t):
        (y,) = ctx.saved_tensors
        return t * y


class TorchExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class ScaledMul(Function):
    """(x * y * alpha, x + y): a non-Tensor input and two outputs."""

    @staticmethod
    def forward(ctx, x, alpha, y):
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return x * y * alpha, x + y

    @staticmethod
    def backward(ctx, g1, g2):
        x, y = ctx.saved_tensors
        gx = g1 * y * ctx.alpha + g2 if ctx.needs_input_grad[0] else None
        gy = g1 * x * ctx.alpha + g2 if ctx.needs_input_grad[2] else None
        return gx, None, gy


class TorchScaledMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha, y):
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return x * y * alpha, x + y

    @staticmethod
    def backward(ctx, g1, g2):
        x, y = ctx.saved_tensors
        return g1 * y * ctx.alpha + g2, None, g1 * x * ctx.alpha + g2


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_forward_and_backward_match_torch():
    a = arr(2, 3)
    x = cr.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y, yt = ExpFn.apply(x), TorchExp.apply(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy())
    assert y.grad_fn.name() == "ExpFnBackward"
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_non_tensor_inputs_several_outputs_and_needs_input_grad():
    a, b = arr(3), arr(3, seed=1)
    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b)
    xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b)
    p, s = ScaledMul.apply(x, 2.5, y)
    pt, st = TorchScaledMul.apply(xt, 2.5, yt)
    np.testing.assert_allclose(p.detach().numpy(), pt.detach().numpy())
    (p.sum() + (s * s).sum()).backward()
    (pt.sum() + (st * st).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    assert y.grad is None


def test_needs_input_grad_is_per_argument():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x, k, y):
            seen["needs"] = ctx.needs_input_grad
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g, None, g

    Probe.apply(cr.tensor([1.0], requires_grad=True), 3, cr.tensor([2.0]))
    assert seen["needs"] == (True, False, False)
    with cr.no_grad():
        Probe.apply(cr.tensor([1.0], requires_grad=True), 3, cr.tensor([2.0]))
    assert seen["needs"] == (False, False, False)


def test_double_backward_through_a_differentiable_backward():
    a = arr(4)
    x = cr.tensor(a, requires_grad=True)
    (g,) = cr.autograd.grad(ExpFn.apply(x).sum(), x, create_graph=True)
    (gg,) = cr.autograd.grad((g * g).sum(), x)
    xt = torch.tensor(a, requires_grad=True)
    (gt,) = torch.autograd.grad(TorchExp.apply(xt).sum(), xt, create_graph=True)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), xt)
    np.testing.assert_allclose(gg.numpy(), ggt.numpy())


def test_jvp_forward_mode_and_transforms():
    x, v = cr.tensor(arr(3)), cr.tensor(arr(3, seed=2))
    with fwad.dual_level():
        t = fwad.unpack_dual(ExpFn.apply(fwad.make_dual(x, v))).tangent
    np.testing.assert_allclose(t.numpy(), np.exp(x.numpy()) * v.numpy())
    h = cr.func.hessian(lambda z: ExpFn.apply(z).sum())(x)
    np.testing.assert_allclose(h.numpy(), np.diag(np.exp(x.numpy())))
    hr = cr.func.jacrev(cr.func.jacrev(lambda z: ExpFn.apply(z).sum()))(x)
    np.testing.assert_allclose(hr.numpy(), h.numpy())


def test_setup_context_style():
    class Square(Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = cr.tensor([1.5, -2.0], requires_grad=True)
    Square.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -4.0])


def test_mark_non_differentiable_outputs():
    class SortFn(Function):
        @staticmethod
        def forward(ctx, x):
            idx = cr.argsort(x)
            vals = x[idx]
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            ctx.n = x.shape[0]
            return vals, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            (idx,) = ctx.saved_tensors
            out = cr.zeros(ctx.n, dtype=g.dtype)
            return cr.index_put(out, (idx,), g)

    x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    vals, idx = SortFn.apply(x)
    assert vals.requires_grad and not idx.requires_grad
    (vals * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_errors_name_the_function_and_the_problem():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(cr.AutogradError, match=r"TooFew.backward returned 1 "
                                               r"gradient\(s\), but forward took 2"):
        TooFew.apply(x, x).sum().backward()

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return cr.ones(5)

    x2 = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(cr.ShapeError, match=r"WrongShape.backward.*shape \[5\].*"
                                            r"input 0 has shape \[2\]"):
        WrongShape.apply(x2).sum().backward()

    class GradForInt(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(cr.AutogradError, match="input 1 is not a Tensor"):
        GradForInt.apply(x, 3).sum().backward()
    with pytest.raises(cr.AutogradError, match="use the static form TooFew.apply"):
        TooFew()(x, x)
    with fwad.dual_level():
        with pytest.raises(cr.AutogradError, match="WrongShape: forward-mode AD "
                                                   "needs a jvp"):
            WrongShape.apply(fwad.make_dual(x, cr.ones(1)))


def test_modifying_a_saved_tensor_in_place_is_caught():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = ExpFn.apply(h)
    y.mul_(2.0)  # y is the saved output
    with pytest.raises(cr.AutogradError, match="modified by an inplace operation"):
        y.sum().backward()


def test_forward_runs_without_recording():
    seen = {}

    class Look(Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            seen["rg"] = y.requires_grad
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    Look.apply(cr.tensor([1.0], requires_grad=True))
    assert seen["rg"] is False


class StraightThroughSign(Function):
    """sign(x) forward, identity gradient where |x| <= 1 (straight-through)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        one = cr.ones_like(x)
        return cr.where(x >= 0, one, -one)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1.0)


class BinaryNet(cr.nn.Module):
    """A hidden layer of sign units (so only the estimator gives gradients)."""

    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.w1 = cr.nn.Parameter(cr.tensor(rng.standard_normal((2, 16))))
        self.b1 = cr.nn.Parameter(cr.tensor(rng.uniform(-0.5, 0.5, 16)))
        self.w2 = cr.nn.Parameter(cr.tensor(rng.standard_normal((16, 1)) * 0.1))
        self.b2 = cr.nn.Parameter(cr.zeros(1, dtype=cr.float64))

    def forward(self, x):
        return StraightThroughSign.apply(x @ self.w1 + self.b1) @ self.w2 + self.b2


def test_straight_through_estimator_trains_a_model():
    # Points inside a circle vs outside: not linearly separable.
    rng = np.random.default_rng(1)
    pts = rng.uniform(-1, 1, (128, 2))
    labels = ((pts ** 2).sum(1) < 0.5).astype(np.float64)
    x, y = cr.tensor(pts), cr.tensor(labels[:, None])
    model = BinaryNet()

    def loss_fn():
        logits = model(x)
        return (cr.log1p(cr.exp(-logits.abs())) + logits.relu() - logits * y).mean()

    first = loss_fn().item()
    for _ in range(300):
        model.zero_grad()
        loss = loss_fn()
        loss.backward()
        with cr.no_grad():
            for p in model.parameters():
                p -= 1.0 * p.grad
    # Without the estimator sign() would pass no gradient to w1 at all.
    assert model.w1.grad.abs().sum().item() > 0
    acc = ((model(x) > 0).double() == y).double().mean().item()
    assert loss.item() < 0.6 * first and acc >= 0.8, (first, loss.item(), acc)
