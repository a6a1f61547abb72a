"""nn.init: sample statistics on large tensors against the formulas, the
deterministic initialisers against torch, and every layer's default init."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn import init

N = 400_000  # std of a sample mean ~ 1.6e-3 * std


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


def _check_uniform(t, bound, lo=None):
    lo = -bound if lo is None else lo
    mean, std, mn, mx = _stats(t)
    assert lo <= mn and mx <= bound
    assert mn < lo + 0.01 * (bound - lo) and mx > bound - 0.01 * (bound - lo)
    assert abs(mean - (lo + bound) / 2) < 0.01 * (bound - lo)
    assert abs(std - (bound - lo) / math.sqrt(12)) < 0.01 * (bound - lo)


def _check_normal(t, std_expected, mean_expected=0.0):
    mean, std, _, _ = _stats(t)
    assert abs(mean - mean_expected) < 0.01 * std_expected
    assert abs(std / std_expected - 1) < 0.01


def test_uniform_normal_constant():
    t = cr.empty(N)
    _check_uniform(init.uniform_(t, -2.0, 3.0), 3.0, lo=-2.0)
    _check_normal(init.normal_(t, 1.5, 0.5), 0.5, 1.5)
    assert init.constant_(t, 0.7) is t and np.all(t.numpy() == np.float32(0.7))
    assert np.all(init.zeros_(t).numpy() == 0) and np.all(init.ones_(t).numpy() == 1)


@pytest.mark.parametrize("shape", [(800, 500), (50, 40, 3, 3)])
def test_xavier(shape):
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    t = cr.empty(*shape)
    for gain in (1.0, 2.0):
        _check_uniform(init.xavier_uniform_(t, gain), gain * math.sqrt(6 / (fan_in +
                                                                           fan_out)))
        _check_normal(init.xavier_normal_(t, gain), gain * math.sqrt(2 / (fan_in +
                                                                         fan_out)))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", 0),
                                            ("leaky_relu", 0.2), ("tanh", 0),
                                            ("linear", 0)])
def test_kaiming(mode, nonlinearity, a):
    t = cr.empty(400, 250, 2, 2)
    fan = 250 * 4 if mode == "fan_in" else 400 * 4
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    init.kaiming_uniform_(t, a, mode, nonlinearity)
    _check_uniform(t, gain * math.sqrt(3 / fan))
    init.kaiming_normal_(t, a, mode, nonlinearity)
    _check_normal(t, gain / math.sqrt(fan))


def _truncnorm_mean_std(mean, std, a, b):
    """Mean and std of N(mean, std^2) restricted to [a, b] (textbook formulas)."""
    al, be = (a - mean) / std, (b - mean) / std
    pdf = [math.exp(-v * v / 2) / math.sqrt(2 * math.pi) for v in (al, be)]
    z = 0.5 * (math.erf(be / math.sqrt(2)) - math.erf(al / math.sqrt(2)))
    d = (pdf[0] - pdf[1]) / z
    var = 1 + (al * pdf[0] - be * pdf[1]) / z - d * d
    return mean + std * d, std * math.sqrt(var)


def test_trunc_normal_matches_the_truncated_distribution():
    t = cr.empty(N, dtype=cr.float64)
    for mean, std, a, b in [(0.0, 1.0, -2.0, 2.0), (1.0, 0.5, 0.0, 1.2),
                            (0.0, 0.02, -0.04, 0.04)]:
        init.trunc_normal_(t, mean, std, a, b)
        m, s, mn, mx = _stats(t)
        want_mean, want_std = _truncnorm_mean_std(mean, std, a, b)
        assert a <= mn and mx <= b
        assert abs(m - want_mean) < 0.01 * std
        assert abs(s / want_std - 1) < 0.01


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (12, 4, 3, 3), (20, 20)])
def test_orthogonal(shape):
    t = cr.empty(*shape, dtype=cr.float64)
    init.orthogonal_(t, gain=2.0)
    q = t.numpy().reshape(shape[0], -1) / 2.0
    if q.shape[0] <= q.shape[1]:
        np.testing.assert_allclose(q @ q.T, np.eye(q.shape[0]), atol=1e-10)
    else:
        np.testing.assert_allclose(q.T @ q, np.eye(q.shape[1]), atol=1e-10)


def test_orthogonal_is_haar_distributed():
    # For a Haar-random 4x4 orthogonal matrix each entry has mean 0 and
    # variance 1/4; a biased construction (e.g. positive diagonal) fails this.
    d = np.stack([init.orthogonal_(cr.empty(4, 4, dtype=cr.float64)).numpy()
                  for _ in range(2000)])
    assert np.all(np.abs(d.mean(0)) < 0.05)
    np.testing.assert_allclose(d.var(0), 0.25, atol=0.03)


def test_eye_dirac_and_fans_match_torch():
    for shape in [(3, 5), (5, 3)]:
        c, t = init.eye_(cr.empty(*shape)), torch.nn.init.eye_(torch.empty(*shape))
        np.testing.assert_array_equal(c.numpy(), t.numpy())
    for shape, groups in [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((4, 2, 3, 3, 3), 1),
                          ((2, 4, 5, 5), 1)]:
        c = init.dirac_(cr.empty(*shape), groups)
        t = torch.nn.init.dirac_(torch.empty(*shape), groups)
        np.testing.assert_array_equal(c.numpy(), t.numpy())
    for shape in [(3, 4), (5, 2, 3), (6, 4, 3, 3)]:
        assert init._calculate_fan_in_and_fan_out(cr.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    for args in [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                 ("leaky_relu",), ("leaky_relu", 0.3), ("selu",)]:
        assert init.calculate_gain(*args) == pytest.approx(
            torch.nn.init.calculate_gain(*args))


def test_sparse_zeroes_a_fraction_of_each_column():
    t = init.sparse_(cr.empty(200, 300), 0.25, std=0.5)
    zeros = (t.numpy() == 0).sum(0)
    np.testing.assert_array_equal(zeros, 50)  # ceil(0.25 * 200) per column
    _check_normal(cr.tensor(t.numpy()[t.numpy() != 0]), 0.5)


def test_init_errors():
    with pytest.raises(cr.ShapeError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.empty(5))
    with pytest.raises(cr.ArgumentError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(cr.ArgumentError, match="fan_avg"):
        init.kaiming_uniform_(cr.empty(3, 3), mode="fan_avg")
    with pytest.raises(cr.ShapeError, match="eye_: only 2-d"):
        init.eye_(cr.empty(2, 2, 2))


def test_generator_reproducibility_and_no_autograd_record():
    g = cr.Generator().manual_seed(7)
    p = nn.Parameter(cr.empty(5, 4))
    init.kaiming_uniform_(p, generator=g)
    first = p.detach().numpy().copy()
    g.manual_seed(7)
    init.kaiming_uniform_(p, generator=g)
    np.testing.assert_array_equal(p.detach().numpy(), first)
    assert p.is_leaf and p.requires_grad  # initialising a parameter keeps it a leaf
    for fn in (init.xavier_normal_, init.normal_, init.trunc_normal_,
               init.orthogonal_):
        g.manual_seed(3)
        a = fn(cr.empty(6, 5), generator=g).numpy().copy()
        g.manual_seed(3)
        np.testing.assert_array_equal(fn(cr.empty(6, 5), generator=g).numpy(), a)


def test_default_layer_inits_follow_torch_distributions():
    lin = nn.Linear(500, 800)
    bound = 1 / math.sqrt(500)
    _check_uniform(lin.weight, bound)
    assert np.abs(lin.bias.detach().numpy()).max() <= bound
    bil = nn.Bilinear(100, 30, 40)
    _check_uniform(bil.weight, 1 / math.sqrt(100))
    emb = nn.Embedding(1000, 400, padding_idx=3)
    _check_normal(emb.weight, 1.0)
    np.testing.assert_array_equal(emb.weight.detach().numpy()[3], 0)
    bn = nn.BatchNorm1d(5)
    for name, value in [("weight", 1), ("bias", 0), ("running_mean", 0),
                        ("running_var", 1)]:
        np.testing.assert_array_equal(getattr(bn, name).detach().numpy(), value)
    ln = nn.LayerNorm((3, 4))
    np.testing.assert_array_equal(ln.weight.detach().numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(ln.bias.detach().numpy(), np.zeros((3, 4)))
    # Re-initialising draws again from the same distribution.
    before = lin.weight.detach().numpy().copy()
    lin.reset_parameters()
    assert not np.array_equal(before, lin.weight.detach().numpy())
    _check_uniform(lin.weight, bound)
