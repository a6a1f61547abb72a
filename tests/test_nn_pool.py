"""Pooling layers against PyTorch (values, indices, gradients), tie and NaN
rules, finite differences for the pooling primitives, and error messages."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from tests._window_compare import (
    compare_double_backward, compare_fn, compare_jvp, compare_layer,
)
from tests.jvp_samples import S
from tests.oracle import numeric_grad_check

DTYPES = [np.float32, np.float64]
# Read by test_ops_registry.py: the oracle tests here cover these primitives.
TESTED_PRIMITIVES = {"pool_gather", "pool_scatter", "max_pool"}
NON_DIFFERENTIABLE_PRIMITIVES = {"adaptive_max_pool_indices"}
JVP_SAMPLES = {
    "max_pool": S((2, 3, 5, 4), call=lambda prim, x: prim(
        x, kernel=(2, 2), dilation=(1, 1), padding=(1, 0, 0, 0), stride=(2, 2),
        windows=(3, 2), size=(5, 4))[0]),
}
rng = np.random.default_rng(0)


def _x(*shape):
    return rng.standard_normal(shape)


def _pair(cls_name, *args, **kwargs):
    return getattr(nn, cls_name)(*args, **kwargs), getattr(torch.nn, cls_name)(*args,
                                                                               **kwargs)


MAXPOOL2D = [
    ((2,), {}, (2, 3, 8, 8)),
    ((3,), dict(stride=2, padding=1), (2, 3, 9, 11)),
    (((3, 2),), dict(stride=(2, 3), padding=(1, 1), dilation=(2, 1)), (2, 2, 11, 10)),
    ((3,), dict(stride=2, ceil_mode=True), (2, 2, 10, 8)),
    ((2,), dict(stride=1, padding=1, ceil_mode=True, return_indices=True),
     (2, 3, 5, 6)),
    ((4,), dict(stride=3, padding=2, dilation=2, ceil_mode=True, return_indices=True),
     (1, 2, 13, 12)),
    ((2,), dict(return_indices=True), (3, 7, 9)),  # unbatched, odd size
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,kwargs,shape", MAXPOOL2D)
def test_maxpool2d_matches_torch(args, kwargs, shape, dtype):
    m, tm = _pair("MaxPool2d", *args, **kwargs)
    compare_layer(m, tm, _x(*shape), dtype)


MAXPOOL1D = [
    ((2,), {}, (2, 3, 9)),
    ((3,), dict(stride=2, padding=1, return_indices=True), (2, 3, 10)),
    ((3,), dict(stride=2, dilation=2, ceil_mode=True, return_indices=True), (2, 2, 12)),
    ((2,), dict(return_indices=True), (3, 7)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,kwargs,shape", MAXPOOL1D)
def test_maxpool1d_matches_torch(args, kwargs, shape, dtype):
    m, tm = _pair("MaxPool1d", *args, **kwargs)
    compare_layer(m, tm, _x(*shape), dtype)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1,
                                                              padding=1)])
def test_maxpool_ties_pick_the_first_maximum(kwargs):
    # Many equal values per window: indices and the gradient's destination must
    # follow PyTorch's first-maximum rule, also with overlapping windows.
    x = rng.integers(0, 2, (2, 3, 6, 6)).astype(np.float64)
    m, tm = nn.MaxPool2d(return_indices=True, **kwargs), torch.nn.MaxPool2d(
        return_indices=True, **kwargs)
    compare_layer(m, tm, x, np.float64)


def test_maxpool_nan_and_infinities():
    x = _x(1, 2, 6, 6)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 4, 5] = np.nan
    x[0, 1, :2, :2] = -np.inf  # a whole window of -inf next to the padding
    x[0, 1, 4, 4] = np.inf
    kw = dict(kernel_size=3, stride=2, padding=1, return_indices=True)
    out, idx = F.max_pool2d(cr.tensor(x), **kw)
    tout, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), **kw)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_array_equal(out.numpy(), tout.numpy())  # NaN equal NaN here
    out, idx = F.max_pool2d(cr.tensor(x), 2, return_indices=True)
    tout, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


AVGPOOL2D = [
    ((2,), {}, (2, 3, 8, 6)),
    ((3,), dict(stride=2, padding=1), (2, 3, 9, 10)),
    ((3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 10, 9)),
    ((3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     (2, 3, 10, 9)),
    (((2, 4),), dict(stride=(1, 3), padding=(1, 2), count_include_pad=False),
     (2, 2, 7, 11)),
    ((2,), dict(divisor_override=3), (2, 2, 7, 7)),
    ((3,), dict(stride=2, ceil_mode=True, divisor_override=2), (4, 8, 7)),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,kwargs,shape", AVGPOOL2D)
def test_avgpool2d_matches_torch(args, kwargs, shape, dtype):
    m, tm = _pair("AvgPool2d", *args, **kwargs)
    compare_layer(m, tm, _x(*shape), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,kwargs,shape", [
    ((3,), {}, (2, 3, 10)),
    ((4,), dict(stride=3, padding=2, ceil_mode=True, count_include_pad=False),
     (2, 3, 11)),
    ((2,), dict(stride=1, padding=1), (3, 6)),
])
def test_avgpool1d_matches_torch(args, kwargs, shape, dtype):
    m, tm = _pair("AvgPool1d", *args, **kwargs)
    compare_layer(m, tm, _x(*shape), dtype)


ADAPTIVE2D = [
    ((3, 4), (2, 3, 9, 10)),
    (5, (2, 3, 7, 7)),
    ((1, 1), (2, 3, 5, 6)),
    ((None, 2), (2, 3, 5, 7)),
    ((8, 9), (2, 2, 5, 6)),  # larger than the input: windows overlap
    ((3, 2), (3, 7, 5)),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size,shape", ADAPTIVE2D)
def test_adaptive_avg_pool2d_matches_torch(size, shape, dtype):
    compare_layer(*_pair("AdaptiveAvgPool2d", size), _x(*shape), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size,shape", ADAPTIVE2D)
def test_adaptive_max_pool2d_matches_torch(size, shape, dtype):
    compare_layer(*_pair("AdaptiveMaxPool2d", size, return_indices=True), _x(*shape),
                  dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size,shape", [(4, (2, 3, 11)), (1, (2, 3, 5)), (7, (3, 4))])
def test_adaptive_pool1d_matches_torch(size, shape, dtype):
    compare_layer(*_pair("AdaptiveAvgPool1d", size), _x(*shape), dtype)
    compare_layer(*_pair("AdaptiveMaxPool1d", size, return_indices=True), _x(*shape),
                  dtype)


def test_functional_forms_match_torch():
    tf = torch.nn.functional
    x = _x(2, 3, 9, 8)
    for fn, tfn in [
        (lambda a: F.max_pool2d(a, 3, 2, 1), lambda a: tf.max_pool2d(a, 3, 2, 1)),
        (lambda a: F.max_pool2d_with_indices(a, 2)[0],
         lambda a: tf.max_pool2d_with_indices(a, 2)[0]),
        (lambda a: F.avg_pool2d(a, 3, 2, 1, True, False),
         lambda a: tf.avg_pool2d(a, 3, 2, 1, True, False)),
        (lambda a: F.adaptive_avg_pool2d(a, (2, 5)), lambda a: tf.adaptive_avg_pool2d(
            a, (2, 5))),
        (lambda a: F.adaptive_max_pool2d(a, 3), lambda a: tf.adaptive_max_pool2d(a, 3)),
        (lambda a: F.max_pool1d(a[0], 2), lambda a: tf.max_pool1d(a[0], 2)),
        (lambda a: F.avg_pool1d(a[0], 3, 1, 1), lambda a: tf.avg_pool1d(a[0], 3, 1, 1)),
        (lambda a: F.adaptive_avg_pool1d(a[0], 3), lambda a: tf.adaptive_avg_pool1d(
            a[0], 3)),
        (lambda a: F.adaptive_max_pool1d(a[0], 3), lambda a: tf.adaptive_max_pool1d(
            a[0], 3)),
    ]:
        compare_fn(fn, tfn, [x], np.float64)


# -- primitives: finite differences, forward mode, second order ------------------------
def test_pool_gather_scatter_finite_differences():
    from chainrule.ops import conv as W

    idx = cr.tensor(rng.integers(0, 12, (2, 3, 2, 2)))
    numeric_grad_check(lambda x: W.pool_gather(x, idx), [_x(2, 3, 3, 4)])
    numeric_grad_check(lambda g: W.pool_scatter(g, idx, (3, 4)), [_x(2, 3, 2, 2)])


def test_max_pool_finite_differences():
    # Distinct values keep the argmax fixed under the small perturbations.
    x = rng.permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 7.0
    numeric_grad_check(lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True), [x])
    numeric_grad_check(lambda a: F.avg_pool2d(a, 3, 2, 1, True, False), [x])
    numeric_grad_check(lambda a: F.adaptive_max_pool2d(a, (2, 4)), [x])
    numeric_grad_check(lambda a: F.adaptive_avg_pool2d(a, (4, 4)), [x])


def test_pooling_jvp_matches_torch():
    tf = torch.nn.functional
    x = [_x(2, 3, 7, 6)]
    compare_jvp(lambda a: F.max_pool2d(a, 3, 2, 1), lambda a: tf.max_pool2d(a, 3, 2, 1),
                x)
    compare_jvp(lambda a: F.avg_pool2d(a, 2, 1, 1, count_include_pad=False),
                lambda a: tf.avg_pool2d(a, 2, 1, 1, count_include_pad=False), x)
    compare_jvp(lambda a: F.adaptive_max_pool2d(a, 4),
                lambda a: tf.adaptive_max_pool2d(a, 4), x)


def test_pooling_double_backward_matches_torch():
    tf = torch.nn.functional
    x = [_x(2, 2, 6, 7)]
    compare_double_backward(lambda a: F.max_pool2d(a, 2, 1) ** 3,
                            lambda a: tf.max_pool2d(a, 2, 1) ** 3, x)
    compare_double_backward(lambda a: F.avg_pool2d(a, 3, 2, 1) ** 3,
                            lambda a: tf.avg_pool2d(a, 3, 2, 1) ** 3, x)


def test_inplace_on_pooled_output_keeps_gradient():
    # The pooled values are not saved for backward, so a ReLU(inplace) after
    # the pool (as in many CNNs) is allowed, as in PyTorch.
    x = cr.tensor(_x(1, 2, 4, 4), requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.relu_()
    y.sum().backward()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2).relu_().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


# -- repr and errors -------------------------------------------------------------------
@pytest.mark.parametrize("name,args,kwargs", [
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("MaxPool1d", (2,), {}),
    ("AvgPool2d", ((2, 3),), dict(padding=1)),
    ("AvgPool1d", (3,), dict(stride=2)),
    ("AdaptiveAvgPool2d", ((3, None),), {}),
    ("AdaptiveMaxPool1d", (4,), {}),
])
def test_repr_matches_torch(name, args, kwargs):
    m, tm = _pair(name, *args, **kwargs)
    assert repr(m) == repr(tm)
    assert m.state_dict() == {} and len(tm.state_dict()) == 0


def test_errors():
    x = cr.randn(1, 2, 6, 6)
    with pytest.raises(cr.ArgumentError,
                       match=r"max_pool2d: pad should be at most half of kernel "
                             r"size.*padding=\(2, 2\)"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(cr.ShapeError, match=r"max_pool2d: given input size \(2x6x6\).*"
                                            r"too small"):
        F.max_pool2d(x, 4, dilation=2)
    with pytest.raises(cr.ShapeError, match=r"avg_pool1d: expected a 2-D \(unbatched\) "
                                            r"or 3-D"):
        F.avg_pool1d(x, 2)
    with pytest.raises(cr.ArgumentError, match="stride must be greater than zero"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(cr.ArgumentError, match="output_size must be an int or a tuple "
                                               "of 2"):
        F.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(cr.ArgumentError, match="output_size must be positive"):
        F.adaptive_max_pool2d(x, 0)
    with pytest.raises(cr.DTypeError, match="floating-point input"):
        F.max_pool2d(cr.ones(1, 1, 4, 4, dtype=cr.int64), 2)
    model = nn.Sequential(nn.Identity(), nn.MaxPool2d(5))
    with pytest.raises(cr.ShapeError, match=r"in 1 \(MaxPool2d\): max_pool2d"):
        model(cr.randn(1, 1, 3, 3))
