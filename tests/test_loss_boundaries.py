"""Losses and activations at the edges of their domains, against torch.

A clamp or ``where`` whose discarded branch is infinite (``log 0``,
``exp`` of a large input) turns a zero gradient into ``0 * inf = nan``.
Wherever torch's gradient is finite, chainrule's must be finite and equal.
"""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

TF = torch.nn.functional
EDGES = [-1e4, -100.0, -30.0, -20.0, -1.0, 0.0, 1e-30, 1.0, 20.0, 30.0, 100.0, 1e4]
# Probabilities at and near 0 and 1, with targets that make each side count.
PROBS = [0.0, 1e-30, 1e-13, 1e-7, 0.5, 1 - 1e-7, 1.0, 1.0, 0.0, 0.3, 0.7, 1 - 1e-13]
TARGETS = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.5, 0.2, 1.0]


def _compare(cf, tf, inputs, dtype, grad_args=(0,)):
    arrays = [v if isinstance(v, np.ndarray) else np.asarray(v, dtype=dtype)
              for v in inputs]
    cs = [cr.tensor(a, requires_grad=i in grad_args) for i, a in enumerate(arrays)]
    ts = [torch.tensor(a, requires_grad=i in grad_args) for i, a in enumerate(arrays)]
    out, ref = cf(*cs), tf(*ts)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    for i in grad_args:
        g, rg = cs[i].grad.numpy(), ts[i].grad.numpy()
        finite = np.isfinite(rg)
        assert np.isfinite(g[finite]).all(), (g, rg)
        np.testing.assert_allclose(g[finite], rg[finite], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_gradients_at_zero_and_one_match_torch(dtype, reduction):
    _compare(lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction),
             lambda p, t: TF.binary_cross_entropy(p, t, reduction=reduction),
             [PROBS, TARGETS], dtype, grad_args=(0, 1))


def test_bce_weighted_at_the_boundaries():
    w = np.linspace(0, 1, len(PROBS))
    _compare(lambda p, t: F.binary_cross_entropy(p, t, weight=cr.tensor(w)),
             lambda p, t: TF.binary_cross_entropy(p, t, weight=torch.tensor(w)),
             [PROBS, TARGETS], "float64")


def test_bce_of_saturated_sigmoid_has_zero_gradient():
    # sigmoid(20) is exactly 1 in float32: a correct prediction, loss 0.
    z = cr.tensor([20.0], requires_grad=True)
    loss = F.binary_cross_entropy(cr.sigmoid(z), cr.tensor([1.0]))
    loss.backward()
    assert loss.item() == 0.0
    assert z.grad.tolist() == [0.0]


def test_bce_inside_the_domain_is_twice_differentiable():
    p = cr.tensor([0.2, 0.5, 0.9], dtype=cr.float64, requires_grad=True)
    t = cr.tensor([0.0, 1.0, 0.3], dtype=cr.float64, requires_grad=True)
    f = lambda p, t: F.binary_cross_entropy(p, t)  # noqa: E731
    assert cr.autograd.gradcheck(f, (p, t))
    assert cr.autograd.gradgradcheck(f, (p, t))


def test_trainer_with_bce_after_sigmoid_keeps_finite_weights():
    from chainrule.train import Trainer

    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    with cr.no_grad():
        model[0].weight.fill_(30.0)  # saturates: outputs exactly 0 and 1
    x = cr.tensor([[1.0, 1.0], [-1.0, -1.0], [2.0, 1.0], [-2.0, 0.5]])
    y = cr.tensor([[1.0], [0.0], [1.0], [0.0]])
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.1), loss="bce")
    trainer.fit((x, y), epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(model[0].weight.detach().numpy()).all()


ACTIVATIONS = ["relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish",
               "softplus", "logsigmoid", "softsign", "tanhshrink", "hardtanh",
               "hardsigmoid", "hardswish", "leaky_relu", "hardshrink", "softshrink",
               "sigmoid", "tanh"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradients_at_extremes(name):
    for dtype in ("float32", "float64"):
        _compare(getattr(F, name), getattr(TF, name), [EDGES], dtype)


@pytest.mark.parametrize("name,kw", [
    ("softplus", {"beta": 2.0}), ("softplus", {"beta": 0.5, "threshold": 1.0}),
    ("elu", {"alpha": 0.5}), ("celu", {"alpha": 0.5}),
    ("gelu", {"approximate": "tanh"}),
    ("softmax", {"dim": 0}), ("log_softmax", {"dim": 0}), ("softmin", {"dim": 0}),
    ("glu", {"dim": 0}),
])
def test_activation_options_at_extremes(name, kw):
    for dtype in ("float32", "float64"):
        _compare(lambda x: getattr(F, name)(x, **kw),
                 lambda x: getattr(TF, name)(x, **kw), [EDGES], dtype)


def test_softmax_family_with_minus_infinity():
    row = [[0.0, -float("inf"), 1.0]]
    for name in ("softmax", "log_softmax"):
        _compare(lambda x: getattr(F, name)(x, 1), lambda x: getattr(TF, name)(x, 1),
                 [row], "float32")
    _compare(lambda x, t: F.cross_entropy(x, t), lambda x, t: TF.cross_entropy(x, t),
             [row, np.array([0])], "float32")


LOSSES = [
    ("binary_cross_entropy_with_logits", {}, [EDGES, TARGETS]),
    # torch overflows to inf beyond |x| ~ 88 in float32; chainrule stays finite
    ("soft_margin_loss", {}, [[v / 200 for v in EDGES], [1.0, -1.0] * 6]),
    ("poisson_nll_loss", {}, [[v / 1000 for v in EDGES], [abs(v) for v in TARGETS]]),
    ("poisson_nll_loss", {"log_input": False},
     [[abs(v) for v in EDGES], [3 * abs(v) for v in TARGETS]]),
    ("kl_div", {"reduction": "batchmean"}, [[-v for v in PROBS], TARGETS]),
    ("smooth_l1_loss", {}, [EDGES, [0.0] * 12]),
    ("smooth_l1_loss", {"beta": 0.0}, [EDGES, TARGETS]),
    ("huber_loss", {}, [EDGES, [0.0] * 12]),
    ("hinge_embedding_loss", {}, [EDGES, [1.0, -1.0] * 6]),
    ("normalize", {}, [[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]]),
    ("pairwise_distance", {}, [[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]],
                               [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]]),
    ("cross_entropy", {}, [[[1e4, -1e4, 0.0], [0.0, 0.0, -1e4]], [0, 1]]),
    ("cross_entropy", {"label_smoothing": 0.1},
     [[[1e4, -1e4, 0.0], [0.0, 0.0, -1e4]], [0, 1]]),
    ("multi_margin_loss", {}, [[[1.0, 0.0, 0.0], [0.0, 0.0, -1e4]], [0, 1]]),
]


@pytest.mark.parametrize("name,kw,inputs", LOSSES)
def test_loss_gradients_at_extremes(name, kw, inputs):
    for dtype in ("float32", "float64"):
        ins = [inputs[0]] + [np.array(v, dtype=np.int64 if isinstance(v[0], int)
                                      else dtype) for v in inputs[1:]]
        arrays = [np.array(ins[0], dtype=dtype)] + ins[1:]
        _compare(lambda *xs: getattr(F, name)(*xs, **kw),
                 lambda *xs: getattr(TF, name)(*xs, **kw), arrays, None)


def test_cosine_similarity_of_a_zero_vector():
    a = [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]
    b = [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    _compare(lambda x, y: F.cosine_similarity(x, y),
             lambda x, y: TF.cosine_similarity(x, y), [a, b], "float64",
             grad_args=(0, 1))
