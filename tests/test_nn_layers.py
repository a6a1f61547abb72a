"""Dense, normalisation, dropout and embedding layers against torch.nn.

Each torch module's state dict is loaded into the chainrule module of the
same name; outputs, input gradients and every parameter's gradient must
agree, in train and eval mode, in float32 and float64.
"""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from tests.oracle import assert_close, check_against_torch

DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return (1e-5, 1e-5) if dtype == np.float32 else (1e-9, 1e-10)


def _pair(name, *args, dtype=np.float32, **kwargs):
    """torch.nn.<name> and nn.<name>, the latter loaded from the former."""
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(*args, **kwargs)
    c = getattr(nn, name)(*args, **kwargs)
    if dtype == np.float64:
        t, c = t.double(), c.double()
    c.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    return t, c


def compare(t, c, inputs, dtype, train=True, steps=1, grad_inputs=True):
    """Run both modules ``steps`` times; compare outputs, gradients and buffers."""
    rtol, atol = _tol(dtype)
    t.train(train), c.train(train)
    rng = np.random.default_rng(1)
    for _ in range(steps):
        tx = [torch.tensor(x, requires_grad=grad_inputs and x.dtype.kind == "f")
              for x in inputs]
        cx = [cr.tensor(x, requires_grad=grad_inputs and x.dtype.kind == "f")
              for x in inputs]
        to, co = t(*tx), c(*cx)
        assert_close(co, to, rtol, atol, what="output")
        w = rng.standard_normal(to.shape).astype(dtype)
        (to * torch.from_numpy(w)).sum().backward()
        (co * cr.tensor(w)).sum().backward()
        for a, b in zip(cx, tx):
            if b.requires_grad:
                assert_close(a.grad, b.grad, rtol, atol, what="input grad")
        tp = dict(t.named_parameters())
        for k, p in c.named_parameters():
            if tp[k].grad is None:
                assert p.grad is None or not np.any(p.grad.numpy()), k
            else:
                assert_close(p.grad, tp[k].grad, rtol, atol, what=f"grad of {k}")
        t.zero_grad(), c.zero_grad()
    tb = dict(t.named_buffers())
    for k, b in c.named_buffers():
        assert_close(b, tb[k], rtol, atol, what=f"buffer {k}")


def _x(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- Linear / Bilinear ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear(dtype, bias, shape):
    t, c = _pair("Linear", 4, 3, bias=bias, dtype=dtype)
    compare(t, c, [_x(*shape, dtype=dtype)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bilinear(dtype):
    for bias in (True, False):
        t, c = _pair("Bilinear", 3, 4, 2, bias=bias, dtype=dtype)
        compare(t, c, [_x(5, 3, dtype=dtype), _x(5, 4, dtype=dtype, seed=1)], dtype)


def test_functional_linear_and_bilinear():
    x, w, b = _x(6, 4, dtype=np.float64), _x(3, 4, dtype=np.float64, seed=1), _x(3)
    check_against_torch(F.linear, torch.nn.functional.linear, [x, w, b.astype(x.dtype)])
    check_against_torch(F.linear, torch.nn.functional.linear, [x, w])
    x2, wb = _x(6, 5, dtype=np.float64, seed=2), _x(3, 4, 5, dtype=np.float64, seed=3)
    check_against_torch(F.bilinear, torch.nn.functional.bilinear, [x, x2, wb])


def test_linear_errors():
    with pytest.raises(cr.ShapeError, match=r"in_features=4.*\[3, 2\].*2 features"):
        nn.Linear(4, 2)(cr.randn(3, 2))
    with pytest.raises(cr.ShapeError, match=r"linear: .*\[5, 3\].*expects 4"):
        F.linear(cr.randn(5, 3), cr.randn(2, 4))
    with pytest.raises(cr.DTypeError,
                       match="input is float64, the layer.s weight is float32"):
        nn.Linear(4, 2)(cr.randn(3, 4, dtype=cr.float64))
    with pytest.raises(cr.ShapeError, match="bilinear"):
        nn.Bilinear(2, 3, 4)(cr.randn(5, 2), cr.randn(5, 2))


# -- Dropout ------------------------------------------------------------------------
def test_dropout_statistics_and_eval_identity():
    x = cr.ones(200, 500)
    for p in (0.1, 0.5, 0.8):
        d = nn.Dropout(p)
        y = d(x).numpy()
        kept = y != 0
        assert abs(1 - kept.mean() - p) < 0.01  # 1e5 draws: std of the mean ~0.0016
        np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
        d.eval()
        assert d(x) is x or np.array_equal(d(x).numpy(), x.numpy())
    assert not np.any(F.dropout(x, 1.0).numpy())
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).numpy(), x.numpy())


def test_dropout_gradient_is_the_mask_and_seed_reproduces():
    x = cr.randn(50, 40, requires_grad=True)
    cr.manual_seed(3)
    y = F.dropout(x, 0.3)
    y.sum().backward()
    scale = np.where(y.detach().numpy() != 0, 1 / 0.7, 0.0)
    np.testing.assert_allclose(x.grad.numpy(), scale, rtol=1e-6)
    cr.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.3).detach().numpy(),
                                  y.detach().numpy())
    g = cr.Generator().manual_seed(5)
    a = F.dropout(x, 0.5, generator=g).detach().numpy()
    g.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.5, generator=g).detach().numpy(), a)


def test_dropout_inplace_and_errors():
    x = cr.ones(10, 10)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}
    with pytest.raises(cr.ArgumentError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(cr.ArgumentError, match="between 0 and 1"):
        F.dropout(x, -0.1)


def test_dropout2d_zeroes_whole_channels():
    x = cr.ones(40, 50, 3, 3)
    y = nn.Dropout2d(0.4)(x).numpy()
    per_channel = y.reshape(40, 50, 9)
    # Each channel is all-zero or all 1/(1-p).
    assert np.all((per_channel == 0).all(-1) | (per_channel == 1 / 0.6).all(-1))
    frac = (per_channel[..., 0] == 0).mean()
    assert abs(frac - 0.4) < 0.05
    # 3-d input: (N, C, L) channels, as torch reads it.
    y3 = F.dropout2d(cr.ones(30, 40, 5), 0.5).numpy()
    assert np.all((y3 == 0).all(-1) | (y3 == 2).all(-1))
    y1 = F.dropout1d(cr.ones(30, 40, 5), 0.5).numpy()
    assert np.all((y1 == 0).all(-1) | (y1 == 2).all(-1))
    d = nn.Dropout2d(0.4).eval()
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    with pytest.raises(cr.ShapeError, match="dropout2d"):
        F.dropout2d(cr.ones(3), 0.5)
    # (a 2-d input warns and drops element-wise, as PyTorch: see
    # test_dropout_deprecated.py)


# -- BatchNorm ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [
    {}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3}, {"affine": False},
    {"track_running_stats": False}, {"bias": False},
])
def test_batchnorm1d(dtype, kw):
    for shape in [(8, 3), (4, 3, 5)]:
        t, c = _pair("BatchNorm1d", 3, dtype=dtype, **kw)
        compare(t, c, [_x(*shape, dtype=dtype) * 2 + 1], dtype, train=True, steps=3)
        compare(t, c, [_x(*shape, dtype=dtype, seed=4)], dtype, train=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"affine": False},
                                {"track_running_stats": False}])
def test_batchnorm2d(dtype, kw):
    t, c = _pair("BatchNorm2d", 4, dtype=dtype, **kw)
    compare(t, c, [_x(3, 4, 5, 6, dtype=dtype) * 3 - 1], dtype, train=True, steps=3)
    compare(t, c, [_x(2, 4, 5, 6, dtype=dtype, seed=7)], dtype, train=False)


def test_batchnorm_running_var_is_unbiased_and_counts_batches():
    bn = nn.BatchNorm1d(2, momentum=1.0)
    x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]], np.float32)
    bn(cr.tensor(x))
    assert_close(bn.running_mean, x.mean(0))
    assert_close(bn.running_var, x.var(0, ddof=1))
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    bn(cr.tensor(x))
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_errors():
    with pytest.raises(cr.ShapeError, match=r"more than 1 value per channel.*\[1, 3\]"):
        nn.BatchNorm1d(3)(cr.randn(1, 3))
    with pytest.raises(cr.ShapeError, match=r"BatchNorm2d: expected 4D input, got 3D"):
        nn.BatchNorm2d(3)(cr.randn(2, 3, 4))
    with pytest.raises(cr.ShapeError, match=r"expected 3 channels"):
        nn.BatchNorm1d(3)(cr.randn(4, 5))
    nn.BatchNorm1d(3).eval()(cr.randn(1, 3))  # eval: one sample is fine


def test_functional_batch_norm():
    x = _x(6, 3, 4, dtype=np.float64)
    rm, rv = _x(3, dtype=np.float64, seed=1), np.abs(_x(3, dtype=np.float64, seed=2))
    w, b = _x(3, dtype=np.float64, seed=3), _x(3, dtype=np.float64, seed=4)
    check_against_torch(
        lambda a, ww, bb: F.batch_norm(a, cr.tensor(rm), cr.tensor(rv), ww, bb),
        lambda a, ww, bb: torch.nn.functional.batch_norm(
            a, torch.tensor(rm), torch.tensor(rv), ww, bb), [x, w, b])
    check_against_torch(
        lambda a: F.batch_norm(a, None, None, training=True),
        lambda a: torch.nn.functional.batch_norm(a, None, None, training=True), [x])


# -- InstanceNorm ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True,
                                 "momentum": 0.3}])
def test_instancenorm(dtype, kw):
    for name, shape in [("InstanceNorm1d", (3, 4, 5)), ("InstanceNorm2d", (2, 4, 3, 5)),
                        ("InstanceNorm1d", (4, 6))]:
        t, c = _pair(name, 4, dtype=dtype, **kw)
        compare(t, c, [_x(*shape, dtype=dtype) * 2 + 1], dtype, train=True, steps=2)
        compare(t, c, [_x(*shape, dtype=dtype, seed=3)], dtype, train=False)
    with pytest.raises(cr.ShapeError, match="InstanceNorm2d: expected 3D"):
        nn.InstanceNorm2d(4)(cr.randn(2, 4))


# -- LayerNorm, GroupNorm, RMSNorm -----------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", [
    (4, {}), ((3, 4), {}), (4, {"elementwise_affine": False}), (4, {"bias": False}),
    ((3, 4), {"eps": 1e-2}),
])
def test_layernorm(dtype, shape, kw):
    t, c = _pair("LayerNorm", shape, dtype=dtype, **kw)
    with torch.no_grad():  # non-trivial affine parameters
        for p in t.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype))
    c.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    compare(t, c, [_x(2, 3, 4, dtype=dtype) * 4 + 2], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("groups,kw", [(1, {}), (2, {}), (6, {}),
                                       (3, {"affine": False}), (2, {"eps": 1e-3})])
def test_groupnorm(dtype, groups, kw):
    t, c = _pair("GroupNorm", groups, 6, dtype=dtype, **kw)
    with torch.no_grad():
        for p in t.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype))
    c.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    compare(t, c, [_x(3, 6, 4, 2, dtype=dtype)], dtype)
    if groups < 6:  # a (N, C) input with one channel per group normalises to 0
        compare(t, c, [_x(3, 6, dtype=dtype)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rmsnorm(dtype):
    for kw in ({}, {"eps": 1e-3}, {"elementwise_affine": False}):
        t, c = _pair("RMSNorm", (3, 4), dtype=dtype, **kw)
        compare(t, c, [_x(2, 3, 4, dtype=dtype)], dtype)


def test_norm_errors():
    with pytest.raises(cr.ShapeError, match=r"layer_norm: .*\[2, 5\].*\[4\]"):
        nn.LayerNorm(4)(cr.randn(2, 5))
    with pytest.raises(cr.ArgumentError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(cr.ShapeError, match=r"GroupNorm: expected input of shape"):
        nn.GroupNorm(2, 6)(cr.randn(2, 4, 3))


# -- Embedding ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding(dtype, padding_idx):
    t, c = _pair("Embedding", 6, 4, padding_idx=padding_idx, dtype=dtype)
    ids = np.array([[0, 3, 5, 3], [1, 0, 2, 5]], np.int64)
    compare(t, c, [ids], dtype, grad_inputs=False)
    compare(t, c, [ids[0, 1:2].reshape(())], dtype, grad_inputs=False)


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    e = nn.Embedding(5, 3, padding_idx=2)
    np.testing.assert_array_equal(e.weight.detach().numpy()[2], 0)
    out = e(cr.tensor([2, 2, 1]))
    (out * cr.randn(3, 3)).sum().backward()
    np.testing.assert_array_equal(e.weight.grad.numpy()[2], 0)
    assert np.any(e.weight.grad.numpy()[1])


def test_embedding_max_norm_renormalises_like_torch():
    t, c = _pair("Embedding", 6, 4, max_norm=1.0)
    with torch.no_grad():
        t.weight.mul_(3)
    c.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    ids = np.array([1, 4, 4, 0], np.int64)
    compare(t, c, [ids], np.float32, grad_inputs=False)
    assert_close(c.weight, t.weight)  # looked-up rows renormalised in place


def test_embedding_from_pretrained_and_errors():
    w = cr.randn(4, 2)
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and e(cr.tensor([3])).shape == (1, 2)
    with pytest.raises(cr.IndexOutOfRange, match="index 7 is out of range for 4"):
        e(cr.tensor([1, 7]))
    with pytest.raises(cr.DTypeError, match="integer"):
        e(cr.tensor([1.0]))
    with pytest.raises(cr.ArgumentError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)
    check_against_torch(
        lambda ww: F.embedding(cr.tensor([[1, 2], [0, 1]]), ww, padding_idx=1),
        lambda ww: torch.nn.functional.embedding(torch.tensor([[1, 2], [0, 1]]), ww,
                                                 padding_idx=1), [_x(3, 5)])


# -- distances and normalize -----------------------------------------------------------
def test_normalize_cosine_similarity_pairwise_distance():
    a, b = _x(5, 4, dtype=np.float64), _x(5, 4, dtype=np.float64, seed=1)
    tf = torch.nn.functional
    for p in (1, 2, 3):
        for dim in (0, 1, -1):
            check_against_torch(lambda x: F.normalize(x, p, dim),
                                lambda x: tf.normalize(x, p, dim), [a])
    check_against_torch(lambda x: F.normalize(x * 0), lambda x: tf.normalize(x * 0),
                        [a])
    for dim in (0, 1):
        check_against_torch(lambda x, y: F.cosine_similarity(x, y, dim),
                            lambda x, y: tf.cosine_similarity(x, y, dim), [a, b])
    check_against_torch(F.cosine_similarity, tf.cosine_similarity, [a, b[:1]])
    for p in (1.0, 2.0, 3.0):
        for keepdim in (False, True):
            check_against_torch(
                lambda x, y: F.pairwise_distance(x, y, p, 1e-6, keepdim),
                lambda x, y: tf.pairwise_distance(x, y, p, 1e-6, keepdim), [a, b])
    check_against_torch(F.pairwise_distance, tf.pairwise_distance, [a[0], b[0]])
    c1, c2 = nn.CosineSimilarity(dim=0), torch.nn.CosineSimilarity(dim=0)
    check_against_torch(c1, c2, [a, b])
    check_against_torch(nn.PairwiseDistance(p=1.0), torch.nn.PairwiseDistance(p=1.0),
                        [a, b])


@pytest.mark.parametrize("call,err,pattern", [
    (lambda: F.dropout1d(cr.ones(2, 3, 4, 5)), cr.ShapeError,
     r"dropout1d: expected a 2-d \(unbatched\) or 3-d"),
    (lambda: F.instance_norm(cr.ones(2, 3)), cr.ShapeError,
     "at least one spatial dim"),
    (lambda: F.instance_norm(cr.ones(2, 3, 1)), cr.ShapeError,
     "more than 1 spatial element"),
    (lambda: nn.InstanceNorm1d(3, affine=True)(cr.ones(2, 4, 5)), cr.ShapeError,
     "expected 3 channels in dim 1"),
    (lambda: F.rms_norm(cr.ones(2, 3), (4,)), cr.ShapeError,
     r"rms_norm: .*\[2, 3\].*\[4\]"),
    (lambda: F.batch_norm(cr.ones(4, 3), cr.zeros(2), cr.ones(2)), cr.ShapeError,
     r"running_mean has shape \[2\], expected \[3\]"),
    (lambda: F.group_norm(cr.ones(2, 6, 3), 4), cr.ShapeError,
     "not divisible into 4 groups"),
    (lambda: nn.Embedding(3, 2, _weight=cr.ones(2, 2)), cr.ShapeError,
     r"_weight has shape \[2, 2\], expected \[3, 2\]"),
    (lambda: nn.Embedding.from_pretrained(cr.ones(3)), cr.ShapeError,
     "embeddings must be 2-d"),
    (lambda: nn.Softmax2d()(cr.ones(2, 3)), cr.ShapeError, "Softmax2d: expected"),
])
def test_layer_error_messages(call, err, pattern):
    with pytest.raises(err, match=pattern):
        call()
