"""The tape engine: leaves, grad accumulation, graph options, hooks, grad modes."""
import numpy as np
import pytest
import torch

import chainrule as cr
from tests.oracle import assert_close, to_torch


def test_leaf_flags_and_grad_fn_name():
    x = cr.randn(3, requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.requires_grad
    assert y.grad_fn.name() == "MulBackward"
    assert "MulBackward" in repr(y)
    z = cr.randn(3)
    assert z.is_leaf and not (z * 2).requires_grad


def test_grad_accumulates_across_backward_calls():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    assert_close(x.grad, np.array([4.0, 8.0]))


def test_broadcast_gradients_are_summed_to_input_shape():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 1, 3)).astype(np.float32)
    b = rng.standard_normal((5, 1)).astype(np.float32)
    ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    ta, tb = to_torch(ca), to_torch(cb)
    (ca * cb + ca).sum().backward()
    (ta * tb + ta).sum().backward()
    assert_close(ca.grad, ta.grad)
    assert_close(cb.grad, tb.grad)


def test_backward_with_gradient_argument():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 3).backward(cr.tensor([1.0, 0.0, 2.0]))
    assert_close(x.grad, np.array([3.0, 0.0, 6.0]))


def test_autograd_grad_does_not_touch_dot_grad_and_allow_unused():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0], requires_grad=True)
    (g,) = cr.autograd.grad((x ** 3).sum(), x)
    assert_close(g, 3 * np.array([1.0, 4.0]))
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.autograd.grad((x * 2).sum(), [x, y])
    gx, gy = cr.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None


def test_grad_wrt_intermediate_tensor():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    out = (h * 3).sum()
    (gh,) = cr.autograd.grad(out, h)
    assert_close(gh, np.array([3.0, 3.0]))


def test_create_graph_gives_second_derivatives_like_torch():
    x = cr.tensor([0.3, -1.2, 2.0], dtype=cr.float64, requires_grad=True)
    tx = to_torch(x)
    f = lambda m, v: (m.sin(v) * v ** 3).sum()  # noqa: E731
    (g,) = cr.autograd.grad(f(cr, x), x, create_graph=True)
    (tg,) = torch.autograd.grad(f(torch, tx), tx, create_graph=True)
    (gg,) = cr.autograd.grad(g.sum(), x)
    (tgg,) = torch.autograd.grad(tg.sum(), tx)
    assert_close(g, tg, rtol=1e-12)
    assert_close(gg, tgg, rtol=1e-12)


def test_third_derivative():
    x = cr.tensor(0.7, dtype=cr.float64, requires_grad=True)
    y = x ** 4
    (d1,) = cr.autograd.grad(y, x, create_graph=True)
    (d2,) = cr.autograd.grad(d1, x, create_graph=True)
    (d3,) = cr.autograd.grad(d2, x)
    assert d3.item() == pytest.approx(24 * 0.7)


def test_retain_graph_allows_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp().sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, 2 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_no_grad_enable_grad_set_grad_enabled():
    x = cr.ones(2, requires_grad=True)
    with cr.no_grad():
        assert not (x * 2).requires_grad
        with cr.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @cr.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    assert not cr.is_grad_enabled()
    cr.set_grad_enabled(True)

    @cr.set_grad_enabled(False)
    def g(t):
        return t * 2

    assert cr.is_grad_enabled() and not g(x).requires_grad


def test_detach_shares_storage_and_cuts_graph():
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 5.0
    assert y[0].item() == 5.0


def test_retain_grad_and_hooks():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    assert_close(h.grad, np.array([6.0, 12.0]))
    assert seen == [[6.0, 12.0]]
    assert_close(x.grad, np.array([180.0, 360.0]))
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert_close(x.grad, np.array([1.0, 1.0]))


def test_hook_can_replace_gradient_of_intermediate():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    h.register_hook(lambda g: g * 0)
    h.sum().backward()
    assert_close(x.grad, np.zeros(2))


def test_requires_grad_on_integer_tensor_is_rejected():
    with pytest.raises(TypeError, match="floating-point.*int64"):
        cr.tensor([1, 2]).requires_grad_()
    with pytest.raises(TypeError, match="floating-point"):
        cr.tensor([1, 2], requires_grad=True)


def test_backward_on_non_scalar_needs_gradient_and_names_shape():
    x = cr.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\[2, 3\]"):
        (x * 2).backward()


def test_backward_twice_mentions_retain_graph():
    x = cr.ones(3, requires_grad=True)
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True") as e:
        y.backward()
    assert "exp" in str(e.value)


def test_backward_through_tensor_without_grad_fn_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.ones(2).sum().backward()


def test_long_chain_backward_is_iterative():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_diamond_graph_accumulates_both_paths():
    x = cr.tensor(2.0, requires_grad=True)
    a = x * 3
    y = a * a + a.exp()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 6 * 3 + 3 * np.exp(6), rel=1e-6)


def test_leaf_grads_do_not_alias_each_other():
    a = cr.ones(3, requires_grad=True)
    b = cr.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_sum_gradient_is_writable_and_accumulates():
    a = cr.ones(2, 2, requires_grad=True)
    a.sum().backward()
    a.sum().backward()
    assert a.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]


def test_multiple_roots_with_autograd_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    cr.autograd.backward([(x * 2).sum(), (x * x).sum()])
    assert_close(x.grad, np.array([4.0, 6.0]))


def test_chain_rule_through_python_control_flow():
    x = cr.tensor(3.0, requires_grad=True)
    y = x
    while y.item() < 100:
        y = y * y if y.item() > 5 else y + x
    y.backward()
    tx = torch.tensor(3.0, requires_grad=True)
    ty = tx
    while ty.item() < 100:
        ty = ty * ty if ty.item() > 5 else ty + tx
    ty.backward()
    assert x.grad.item() == pytest.approx(tx.grad.item())
