"""explain(f, x0): the lectures' two worked examples, walked and checked.

Local derivatives are compared with their closed forms computed by PyTorch
(cos x, 2 sin x, 1/sin² x; diag(exp x), W, 1ᵀ) and the final derivative with
torch.autograd.functional.jacobian.
"""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.errors import ArgumentError


def _np(t):
    return np.asarray(t.tolist(), dtype=np.float64)


def test_log_sin_squared_walk():
    x0 = 1.0
    e = cr.explain(lambda x: cr.log(cr.sin(x) ** 2), x0)
    assert [(r.name, r.expr, r.range) for r in e.rows] == [
        ("a", "sin x", "[-1, 1]"), ("b", "a²", "[0, 1]"), ("y", "log b", "(-∞, 0]")]
    assert [r.formula for r in e.rows] == [{"x": "cos x"}, {"a": "2a"},
                                           {"b": "1/b"}]
    assert [r.local_shape for r in e.rows] == [(1, 1)] * 3
    xt = torch.tensor(x0, dtype=torch.float64)
    want = [torch.cos(xt), 2 * torch.sin(xt), 1 / torch.sin(xt) ** 2]
    for row, w in zip(e.rows, want):
        (jac,) = row.local.values()
        assert abs(jac.item() - w.item()) < 1e-14
    assert [r.value.item() for r in e.rows] == pytest.approx(
        [torch.sin(xt).item(), torch.sin(xt).item() ** 2,
         torch.log(torch.sin(xt) ** 2).item()], rel=1e-14)
    # forward mode: da/dx, db/dx, dy/dx; reverse mode: dy/db, dy/da, dy/dx
    assert [s[0] for s in e.forward_steps] == ["da/dx", "db/dx", "dy/dx"]
    assert [s[0] for s in e.reverse_steps] == ["dy/db", "dy/da", "dy/dx"]
    assert e.forward_steps[1][1] == "∂b/∂a · da/dx"
    assert e.reverse_steps[1][1] == "dy/db · ∂b/∂a"
    assert e.reverse_steps[1][2].item() == pytest.approx(
        (2 * torch.sin(xt) / torch.sin(xt) ** 2).item(), rel=1e-14)
    want_grad = torch.autograd.functional.jacobian(
        lambda t: torch.log(torch.sin(t) ** 2), xt)
    assert e.grad.shape == ()
    assert e.grad.item() == pytest.approx(want_grad.item(), rel=1e-13)  # 2 cot x
    assert e.grad.item() == pytest.approx(2 / np.tan(x0), rel=1e-13)
    assert e.ok and e.fd_error < 1e-8 and e.autodiff_error < 1e-14


def test_sum_of_w_exp_x_walk():
    W = [[1.0, 2.0, 0.5], [3.0, -4.0, 1.0]]
    x0 = [0.5, 1.0, -1.0]
    Wc = cr.tensor(W, dtype=cr.float64)
    e = cr.explain(lambda x: (Wc @ cr.exp(x)).sum(), x0)
    assert [(r.name, r.expr, r.range) for r in e.rows] == [
        ("a", "exp x", "(0, ∞)³"), ("b", "Wa", "ℝ²"), ("y", "Σ b", "ℝ")]
    assert [r.formula for r in e.rows] == [{"x": "diag(exp x)"}, {"a": "W"},
                                           {"b": "1ᵀ"}]
    assert [r.local_shape for r in e.rows] == [(3, 3), (2, 3), (1, 2)]
    xt, Wt = torch.tensor(x0, dtype=torch.float64), torch.tensor(W, dtype=torch.float64)
    want = [torch.diag(torch.exp(xt)), Wt, torch.ones(1, 2, dtype=torch.float64)]
    for row, w in zip(e.rows, want):
        (jac,) = row.local.values()
        np.testing.assert_allclose(_np(jac), w.numpy(), rtol=1e-14)
    # Forward mode carries n = 3 columns; reverse mode m = 1 row: the costs differ.
    assert [s[3] for s in e.forward_steps] == [0, 2 * 3 * 3, 1 * 2 * 3]
    assert [s[3] for s in e.reverse_steps] == [0, 1 * 2 * 3, 1 * 3 * 3]
    np.testing.assert_allclose(_np(e.rows[1].forward), (Wt @ want[0]).numpy(),
                               rtol=1e-14)
    np.testing.assert_allclose(_np(e.reverse_steps[1][2]),
                               torch.ones(1, 2, dtype=torch.float64) @ Wt)
    want_grad = torch.autograd.functional.jacobian(
        lambda t: (Wt @ torch.exp(t)).sum(), xt)
    assert e.grad.shape == (3,)
    np.testing.assert_allclose(_np(e.grad), want_grad.numpy(), rtol=1e-13)
    assert e.ok


def test_dag_and_vector_output_against_torch():
    # x is used twice and y is a vector: both modes sum over paths.
    e = cr.explain(lambda x: x * cr.tanh(x) + x, [0.3, -0.7])
    xt = torch.tensor([0.3, -0.7], dtype=torch.float64)
    want = torch.autograd.functional.jacobian(lambda t: t * torch.tanh(t) + t, xt)
    assert e.grad.shape == (2, 2)
    np.testing.assert_allclose(_np(e.grad), want.numpy(), rtol=1e-13)
    assert e.rows[-1].inputs == ["b", "x"] and e.ok


def test_table_and_html():
    e = cr.explain(lambda x: cr.log(cr.sin(x) ** 2), 1.0)
    text = str(e)
    for piece in ("a = sin x", "[-1, 1]", "∂b/∂a = 2a", "forward mode",
                  "reverse mode", "dy/da    dy/db · ∂b/∂a", "check agrees"):
        assert piece in text
    html = e._repr_html_()
    assert html.count("<table>") == 3 and "a = sin x" in html


def test_errors_name_explain():
    with pytest.raises(ArgumentError, match="explain: f must return a Tensor"):
        cr.explain(lambda x: 3.0, 1.0)
    with pytest.raises(ArgumentError, match="does not depend on x"):
        cr.explain(lambda x: cr.ones(2), 1.0)
