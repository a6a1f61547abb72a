"""Promoted primitives (ops/fused.py) equal the composites they replace.

For each: forward values, first-order gradients (the fast NumPy backward),
second-order gradients (the create_graph path) and forward-mode tangents
are compared with the same function written in ordinary ops, in float64.
"""
import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import conv, fused
from tests.jvp_samples import Const, S

TESTED_PRIMITIVES = {"linear", "softmax", "log_softmax", "layer_norm",
                     "layer_norm_backward", "lstm_seq", "lstm_seq_backward", "nll",
                     "nll_grad", "conv2d", "conv2d_backward"}
NON_DIFFERENTIABLE_PRIMITIVES = {"layer_norm_backward", "lstm_seq_backward",
                                 "conv2d_backward"}
GEOM = dict(kernel=(3, 2), dilation=(1, 2), padding=(1, 0, 2, 1), stride=(2, 1),
            windows=(2, 5), size=(5, 4))
JVP_SAMPLES = {
    "linear": S((4, 3), (2, 3), (2,)),
    "softmax": S((3, 5), dim=1),
    "log_softmax": S((3, 5), dim=0),
    "layer_norm": S((2, 3, 4), (3, 4), (3, 4), k=2, eps=1e-5),
    # Outputs 3 and 4 are residuals for the backward, not results: leave them out.
    "lstm_seq": S((3, 2, 8), (8, 2), (2, 2), (2, 2),
                  call=lambda prim, *a: prim(*a, reverse=True)[:3]),
    "nll": S((4, 3), Const(np.array([2, 0, -100, 1])), ignore_index=-100,
             reduction="mean"),
    "nll_grad": S((), Const(np.array([2, 0, 1])), classes=3, ignore_index=-100,
                  reduction="sum"),
    "conv2d": S((2, 3, 5, 4), (4, 3, 3, 2), (4,),
                call=lambda prim, *a: prim(*a, **GEOM)[0]),
}
TARGET = np.array([0, 3, -100, 2, 1])


def _softmax(x, dim):
    e = (x - x.amax(dim, keepdim=True).detach()).exp()
    return e / e.sum(dim, keepdim=True)


def _log_softmax(x, dim):
    s = x - x.amax(dim, keepdim=True).detach()
    return s - s.exp().sum(dim, keepdim=True).log()


def _nll(logp, reduction):
    t = cr.tensor(np.where(TARGET < 0, 0, TARGET))
    keep = cr.tensor((TARGET != -100).astype(np.float64))
    per = -logp.gather(1, t.reshape(-1, 1)).reshape(-1) * keep
    return per.sum() / keep.sum() if reduction == "mean" else per


MASK = np.array([[0, -np.inf, 0, 0], [-np.inf] * 4, [0, 0, 0, -np.inf]])


def _masked_softmax(x):
    top = x.detach().amax(1, keepdim=True)
    e = (x - cr.where(top.isfinite(), top, 0.0)).exp()
    total = e.sum(1, keepdim=True)
    return e / cr.where(total > 0, total, 1.0)


CASES = {
    "linear": (lambda x, w, b: fused.linear(x, w, b), lambda x, w, b: x @ w.T + b,
               [(5, 3), (4, 3), (4,)]),
    "linear_nobias": (lambda x, w: fused.linear(x, w), lambda x, w: x @ w.T,
                      [(5, 3), (4, 3)]),
    # One example (as under vmap): its own vjp (outer product, vector @ matrix).
    "linear_1d": (lambda x, w, b: fused.linear(x, w, b), lambda x, w, b: x @ w.T + b,
                  [(3,), (4, 3), (4,)]),
    "linear_1d_nobias": (lambda x, w: fused.linear(x, w), lambda x, w: x @ w.T,
                         [(3,), (4, 3)]),
    "softmax": (lambda x: fused.softmax(x, 1), lambda x: _softmax(x, 1), [(3, 6)]),
    "log_softmax": (lambda x: fused.log_softmax(x, 0), lambda x: _log_softmax(x, 0),
                    [(4, 3)]),
    "layer_norm": (lambda x, w, b: fused.layer_norm(x, w, b, 1, 1e-5),
                   lambda x, w, b: fused.layer_norm_composite(x, w, b, k=1, eps=1e-5),
                   [(3, 4, 5), (5,), (5,)]),
    "layer_norm_2d_noaffine": (
        lambda x: fused.layer_norm(x, None, None, 2, 1e-5),
        lambda x: fused.layer_norm_composite(x, k=2, eps=1e-5), [(3, 4, 5)]),
    # cross-entropy: nll is linear, so compose it with log_softmax for a
    # non-zero second derivative.
    "nll_mean": (lambda x: fused.nll_loss(fused.log_softmax(x, 1), cr.tensor(TARGET)),
                 lambda x: _nll(_log_softmax(x, 1), "mean"), [(5, 4)]),
    "nll_none": (lambda x: fused.nll_loss(fused.log_softmax(x, 1), cr.tensor(TARGET),
                                          reduction="none"),
                 lambda x: _nll(_log_softmax(x, 1), "none"), [(5, 4)]),
    "softmax_masked": (
        lambda x: fused.softmax(x + cr.tensor(MASK), 1, masked=True),
        lambda x: _masked_softmax(x + cr.tensor(MASK)), [(3, 4)]),
    "conv2d": (lambda x, w, b: conv.conv2d(x, w, b, **GEOM),
               lambda x, w, b: conv.conv2d_composite(x, w, b, **GEOM)[0],
               [(2, 3, 5, 4), (4, 3, 3, 2), (4,)]),
    "conv2d_nobias": (lambda x, w: conv.conv2d(x, w, **GEOM),
                      lambda x, w: conv.conv2d_composite(x, w, **GEOM)[0],
                      [(2, 3, 5, 4), (4, 3, 3, 2)]),
    "lstm": (lambda *a: fused.lstm_seq(*a),
             lambda *a: fused.lstm_seq_composite(*a, reverse=False),
             [(4, 3, 8), (8, 2), (3, 2), (3, 2)]),
    "lstm_reverse": (lambda *a: fused.lstm_seq(*a, reverse=True),
                     lambda *a: fused.lstm_seq_composite(*a, reverse=True),
                     [(4, 3, 8), (8, 2), (3, 2), (3, 2)]),
    # one example without the N dim (what LSTMCell runs on a 1-D input)
    "lstm_unbatched": (lambda *a: fused.lstm_seq(*a),
                       lambda *a: fused.lstm_seq_composite(*a, reverse=False),
                       [(4, 8), (8, 2), (2,), (2,)]),
    "lstm_unbatched_reverse": (lambda *a: fused.lstm_seq(*a, reverse=True),
                               lambda *a: fused.lstm_seq_composite(*a, reverse=True),
                               [(4, 8), (8, 2), (2,), (2,)]),
}


def _inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    return ([cr.tensor(a, requires_grad=True) for a in arrays],
            [cr.tensor(a, requires_grad=True) for a in arrays])


def _flat(out):
    return list(out) if isinstance(out, tuple) else [out]


def _weighted(outs, seed):
    rng = np.random.default_rng(seed + 1)
    return sum((o * cr.tensor(rng.standard_normal(o.shape))).sum() for o in outs)


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol,
                               atol=tol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_equals_composite(name):
    prim, comp, shapes = CASES[name]
    a, b = _inputs(shapes, 0)
    pa, pb = _flat(prim(*a)), _flat(comp(*b))
    for x, y in zip(pa, pb):
        _close(x, y)
    la, lb = _weighted(pa, 0), _weighted(pb, 0)
    ga = cr.autograd.grad(la, a, create_graph=False)
    gb = cr.autograd.grad(lb, b, create_graph=False)
    for x, y in zip(ga, gb):
        _close(x, y)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_second_order_equals_composite(name):
    prim, comp, shapes = CASES[name]
    a, b = _inputs(shapes, 1)
    ga = cr.autograd.grad(_weighted(_flat(prim(*a)), 1), a, create_graph=True)
    gb = cr.autograd.grad(_weighted(_flat(comp(*b)), 1), b, create_graph=True)
    opts = dict(allow_unused=True, materialize_grads=True)
    ha = cr.autograd.grad(_weighted(ga, 2), a, **opts)
    hb = cr.autograd.grad(_weighted(gb, 2), b, **opts)
    for x, y in zip(ha, hb):
        _close(x, y, 1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_forward_mode_equals_composite(name):
    prim, comp, shapes = CASES[name]
    a, _ = _inputs(shapes, 2)
    primals = tuple(x.detach() for x in a)
    rng = np.random.default_rng(3)
    tangents = tuple(cr.tensor(rng.standard_normal(x.shape)) for x in primals)
    _, ta = cr.func.jvp(lambda *xs: tuple(_flat(prim(*xs))), primals, tangents)
    _, tb = cr.func.jvp(lambda *xs: tuple(_flat(comp(*xs))), primals, tangents)
    for x, y in zip(ta, tb):
        _close(x, y)


def test_lstm_module_uses_fused_sequence_and_matches_step_composite():
    cr.manual_seed(0)
    m = cr.nn.LSTM(3, 5, batch_first=True, dtype=cr.float64)
    x = cr.randn(2, 6, 3, dtype=cr.float64)
    out, (h, c) = m(x)
    w_ih, w_hh = m.weight_ih_l0, m.weight_hh_l0
    xg = (x.transpose(0, 1) @ w_ih.T + m.bias_ih_l0 + m.bias_hh_l0)
    ref, rh, rc = fused.lstm_seq_composite(xg, w_hh, cr.zeros(2, 5, dtype=cr.float64),
                                           cr.zeros(2, 5, dtype=cr.float64), False)
    _close(out, ref.transpose(0, 1))
    _close(h[0], rh)
    _close(c[0], rc)


# The second-order test above compares with the composite that the fused vjp itself
# differentiates under create_graph, so for these three it cannot fail.  Here the
# Hessian-vector product from double backward is checked instead against central
# differences of the first-order gradient, which comes from the NumPy backward
# kernel: two independent computations.
SECOND_ORDER_FD = ["layer_norm", "layer_norm_2d_noaffine", "conv2d", "lstm",
                   "lstm_reverse", "lstm_unbatched"]


@pytest.mark.parametrize("name", SECOND_ORDER_FD)
def test_fused_second_order_against_finite_differences(name):
    prim, _, shapes = CASES[name]
    rng = np.random.default_rng(7)
    base = [rng.standard_normal(s) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]

    def first_grad(arrays, create_graph=False):
        xs = [cr.tensor(a, requires_grad=True) for a in arrays]
        gs = cr.autograd.grad(_weighted(_flat(prim(*xs)), 4), xs,
                              create_graph=create_graph)
        return xs, gs

    xs, gs = first_grad(base, create_graph=True)
    hvp = cr.autograd.grad(sum((g * cr.tensor(v)).sum() for g, v in zip(gs, vs)), xs,
                           allow_unused=True, materialize_grads=True)
    eps = 1e-5
    _, plus = first_grad([a + eps * v for a, v in zip(base, vs)])
    _, minus = first_grad([a - eps * v for a, v in zip(base, vs)])
    # d/de <grad f(x + e v), v> ... per input: (grad_i(x + e v) - grad_i(x - e v)) / 2e
    # is the i-th block of H v; the double-backward HVP above is H v as well (H is
    # symmetric), so the two must agree block by block.
    for i, (p, m, h) in enumerate(zip(plus, minus, hvp)):
        fd = (p.numpy() - m.numpy()) / (2 * eps)
        np.testing.assert_allclose(h.numpy(), fd, rtol=1e-6, atol=1e-7,
                                   err_msg=f"{name}: Hessian-vector block {i}")
