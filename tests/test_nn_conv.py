"""Convolution layers and F.conv*/unfold/fold against PyTorch, plus finite
differences for the unfold and fold primitives."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from tests._window_compare import (
    compare_double_backward, compare_fn, compare_jvp, compare_layer,
)
from tests.oracle import numeric_grad_check

# PyTorch warns that it copies the input for 'same' with even kernels.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
DTYPES = [np.float32, np.float64]
TESTED_PRIMITIVES = {"unfold", "fold"}  # read by test_ops_registry.py
rng = np.random.default_rng(0)


def _x(*shape):
    return rng.standard_normal(shape)


def _pair(cls_name, *args, **kwargs):
    torch.manual_seed(0)
    return getattr(nn, cls_name)(*args, **kwargs), getattr(torch.nn, cls_name)(*args,
                                                                               **kwargs)


CONV2D = [
    ((3, 8, 3), {}, (2, 3, 10, 9)),
    ((3, 4, 3), dict(stride=2, padding=1), (2, 3, 11, 8)),
    ((2, 4, (3, 5)), dict(stride=(2, 1), padding=(2, 1)), (2, 2, 9, 12)),
    ((3, 5, 4), dict(padding="same", dilation=2), (2, 3, 11, 10)),
    ((3, 5, 2), dict(padding="same"), (1, 3, 7, 6)),
    ((3, 5, 3), dict(padding="valid", dilation=(2, 1)), (2, 3, 9, 9)),
    ((4, 6, 3), dict(groups=2, padding=1), (2, 4, 7, 8)),
    ((4, 4, 3), dict(groups=4, stride=2, bias=False), (2, 4, 9, 9)),
    ((6, 3, 1), dict(groups=3), (2, 6, 5, 4)),
    ((3, 4, 1), {}, (2, 3, 5, 6)),
    ((3, 4, 3), dict(padding=2, padding_mode="reflect"), (2, 3, 7, 8)),
    ((3, 4, 3), dict(padding=(1, 2), padding_mode="replicate"), (2, 3, 6, 7)),
    ((3, 4, 3), dict(padding="same", padding_mode="circular"), (2, 3, 6, 5)),
    ((3, 4, 3), dict(stride=3, padding=1), (3, 7, 7)),  # unbatched input
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,kwargs,shape", CONV2D)
def test_conv2d_matches_torch(args, kwargs, shape, dtype):
    m, tm = _pair("Conv2d", *args, **kwargs)
    compare_layer(m, tm, _x(*shape), dtype)


CONV1D = [
    ((3, 5, 3), {}, (2, 3, 11)),
    ((3, 4, 4), dict(stride=3, padding=2, dilation=2), (2, 3, 17)),
    ((4, 6, 2), dict(padding="same", groups=2), (2, 4, 9)),
    ((2, 3, 5), dict(padding=2, padding_mode="circular", bias=False), (2, 2, 8)),
    ((3, 4, 3), {}, (3, 10)),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,kwargs,shape", CONV1D)
def test_conv1d_matches_torch(args, kwargs, shape, dtype):
    m, tm = _pair("Conv1d", *args, **kwargs)
    compare_layer(m, tm, _x(*shape), dtype)


CONVT2D = [
    ((3, 4, 3), {}, (2, 3, 5, 6)),
    ((3, 4, 3), dict(stride=2, padding=1, output_padding=1), (2, 3, 5, 4)),
    ((4, 6, (2, 3)), dict(stride=(2, 3), groups=2, bias=False), (2, 4, 3, 4)),
    ((2, 3, 3), dict(dilation=2, padding=2, output_padding=1, stride=2), (2, 2, 4, 4)),
    ((2, 3, 3), dict(dilation=3, stride=2, output_padding=2), (1, 2, 3, 3)),
    ((3, 2, 4), dict(stride=2, padding=1), (3, 4, 5)),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args,kwargs,shape", CONVT2D)
def test_conv_transpose2d_matches_torch(args, kwargs, shape, dtype):
    m, tm = _pair("ConvTranspose2d", *args, **kwargs)
    compare_layer(m, tm, _x(*shape), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_transpose1d_matches_torch(dtype):
    m, tm = _pair("ConvTranspose1d", 3, 4, 3, stride=2, padding=1, output_padding=1,
                  groups=1)
    compare_layer(m, tm, _x(2, 3, 7), dtype)
    m, tm = _pair("ConvTranspose1d", 4, 2, 2, stride=3, groups=2, dilation=2)
    compare_layer(m, tm, _x(2, 4, 5), dtype)


def test_conv_transpose2d_output_size():
    m, tm = _pair("ConvTranspose2d", 2, 3, 3, stride=2, padding=1)
    for size in [(9, 11), (10, 12), [2, 3, 10, 11]]:
        out = compare_layer(m, tm, _x(2, 2, 5, 6), np.float64,
                            call=lambda mod, x: mod(x, output_size=size))
        assert out[0].shape[-2:] == tuple(size[-2:])
    with pytest.raises(cr.ArgumentError,
                       match=r"output size of \(12, 11\).*valid sizes"):
        m(cr.randn(2, 2, 5, 6, dtype=cr.float64), output_size=(12, 11))


def test_benchmark_cnn_matches_torch():
    """The small CNN of the speed benchmark, end to end, float32."""
    def build(mod):
        return mod.Sequential(mod.Conv2d(1, 8, 3, padding=1), mod.ReLU(),
                              mod.MaxPool2d(2), mod.Conv2d(8, 16, 3, padding=1),
                              mod.ReLU(), mod.MaxPool2d(2), mod.Flatten(),
                              mod.Linear(16 * 7 * 7, 10))
    torch.manual_seed(0)
    m, tm = build(nn), build(torch.nn)
    compare_layer(m, tm, _x(4, 1, 28, 28), np.float32)


# -- functional ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_conv_matches_torch(dtype):
    x, w, b = _x(2, 4, 8, 7), _x(6, 2, 3, 2), _x(6)
    compare_fn(lambda *a: F.conv2d(*a, stride=(2, 1), padding=(1, 0), groups=2),
               lambda *a: torch.nn.functional.conv2d(*a, stride=(2, 1), padding=(1, 0),
                                                     groups=2), [x, w, b], dtype)
    compare_fn(lambda *a: F.conv1d(*a, padding="same", dilation=3),
               lambda *a: torch.nn.functional.conv1d(*a, padding="same", dilation=3),
               [_x(2, 3, 10), _x(5, 3, 4)], dtype)
    compare_fn(lambda *a: F.conv_transpose2d(*a, stride=2, groups=2, output_padding=1),
               lambda *a: torch.nn.functional.conv_transpose2d(
                   *a, stride=2, groups=2, output_padding=1),
               [_x(2, 4, 3, 5), _x(4, 3, 3, 3), _x(6)], dtype)
    compare_fn(lambda *a: F.conv_transpose1d(*a, stride=2, padding=1),
               lambda *a: torch.nn.functional.conv_transpose1d(*a, stride=2, padding=1),
               [_x(2, 3, 6), _x(3, 2, 4)], dtype)


UNFOLD = [
    dict(kernel_size=3),
    dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
    dict(kernel_size=2, stride=2),
    dict(kernel_size=(3, 1), padding=(0, 2), stride=3),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", UNFOLD)
def test_unfold_fold_match_torch(kw, dtype):
    x = _x(2, 3, 7, 8)
    compare_fn(lambda a: F.unfold(a, **kw),
               lambda a: torch.nn.functional.unfold(a, **kw), [x], dtype)
    cols = torch.nn.functional.unfold(torch.tensor(x), **kw).numpy()
    compare_fn(lambda a: F.fold(a, (7, 8), **kw),
               lambda a: torch.nn.functional.fold(a, (7, 8), **kw), [cols], dtype)
    compare_fn(lambda a: F.fold(a, (7, 8), **kw),
               lambda a: torch.nn.functional.fold(a, (7, 8), **kw), [cols[0]], dtype)


# -- finite differences, forward mode and second order ---------------------------------
def _geom(x_shape, k=(2, 3), d=(1, 2), p=(1, 0, 2, 1), s=(2, 1)):
    from chainrule.ops.conv import out_len

    h, w = x_shape[2:]
    win = (out_len(h, k[0], d[0], p[0], p[1], s[0]), out_len(w, k[1], d[1], p[2], p[3],
                                                            s[1]))
    return dict(kernel=k, dilation=d, padding=p, stride=s, windows=win, size=(h, w))


def test_unfold_fold_primitives_finite_differences():
    from chainrule.ops import conv as W

    g = _geom((2, 2, 5, 6))
    numeric_grad_check(lambda x: W.unfold(x, **g), [_x(2, 2, 5, 6)])
    oh, ow = g["windows"]
    numeric_grad_check(lambda c: W.fold(c, **g), [_x(2, 2 * 6, oh * ow)])


def test_unfold_fold_are_adjoint():
    from chainrule.ops import conv as W

    g = _geom((2, 3, 7, 6))
    x, c = _x(2, 3, 7, 6), _x(2, 18, np.prod(g["windows"]))
    lhs = (W.unfold(cr.tensor(x), **g) * cr.tensor(c)).sum().item()
    rhs = (cr.tensor(x) * W.fold(cr.tensor(c), **g)).sum().item()
    assert math.isclose(lhs, rhs, rel_tol=1e-12)


def test_conv_jvp_matches_torch():
    compare_jvp(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride=2,
                                                           padding=1, groups=2),
                [_x(2, 4, 6, 5), _x(4, 2, 3, 3), _x(4)])
    compare_jvp(lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1),
                lambda x, w: torch.nn.functional.conv_transpose2d(x, w, stride=2,
                                                                  output_padding=1),
                [_x(2, 3, 4, 3), _x(3, 2, 3, 2)])
    compare_jvp(lambda x: F.fold(x, (5, 6), 2, padding=1),
                lambda x: torch.nn.functional.fold(x, (5, 6), 2, padding=1),
                [_x(2, 12, 42)])


def test_conv_double_backward_matches_torch():
    # d/dx of the input gradient involves w twice: unfold, matmul and fold
    # all appear in the second-order graph.
    compare_double_backward(
        lambda x, w: F.conv2d(x, w, padding=1, stride=(1, 2)) ** 2,
        lambda x, w: torch.nn.functional.conv2d(x, w, padding=1, stride=(1, 2)) ** 2,
        [_x(2, 3, 5, 6), _x(4, 3, 3, 2)])
    compare_double_backward(
        lambda x, w: F.conv_transpose2d(x, w, stride=2) ** 2,
        lambda x, w: torch.nn.functional.conv_transpose2d(x, w, stride=2) ** 2,
        [_x(1, 2, 3, 4), _x(2, 3, 2, 2)])


# -- layout, init and repr -------------------------------------------------------------
LAYERS = [
    ("Conv1d", (3, 6, 4), dict(stride=2, groups=3, bias=False)),
    ("Conv2d", (4, 6, (3, 2)), dict(padding="same", dilation=2, groups=2,
                                    padding_mode="reflect")),
    ("Conv2d", (4, 6, 3), dict(stride=2, padding=1)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, output_padding=1)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1,
                                        groups=2, dilation=2)),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS)
def test_layout_and_repr_match_torch(name, args, kwargs):
    m, tm = _pair(name, *args, **kwargs)
    assert repr(m) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                 "dilation", "groups", "output_padding", "transposed", "padding_mode"):
        assert getattr(m, attr) == getattr(tm, attr), attr


@pytest.mark.parametrize("name,args,fan_in", [
    ("Conv2d", (16, 32, 5), 16 * 25),
    ("Conv2d", (16, 32, 5, 1, 0, 1, 4), 4 * 25),
    ("ConvTranspose2d", (16, 32, 5), 32 * 25),
    ("Conv1d", (20, 400, 7), 20 * 7),
])
def test_default_init_distribution(name, args, fan_in):
    m = getattr(nn, name)(*args)
    bound = 1 / math.sqrt(fan_in)
    for p, near in ((m.weight, 0.95), (m.bias, 0.5)):  # the bias has few samples
        v = p.detach().numpy()
        assert v.dtype == np.float32
        assert v.min() >= -bound and v.max() <= bound
        assert v.max() > near * bound and v.min() < -near * bound
    w = m.weight.detach().numpy()
    assert abs(w.mean()) < 0.05 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound / math.sqrt(3)


def test_dtype_argument_and_casting():
    m = nn.Conv2d(2, 3, 3, dtype=cr.float64)
    assert m.weight.dtype == cr.float64 and m.bias.dtype == cr.float64
    assert m(cr.randn(1, 2, 4, 4, dtype=cr.float64)).dtype == cr.float64


# -- errors ----------------------------------------------------------------------------
def test_wrong_channel_count_names_layer_and_counts():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 3))
    with pytest.raises(cr.ShapeError) as e:
        model(cr.randn(2, 5, 10, 10))
    msg = str(e.value)
    assert "in 0 (Conv2d)" in msg
    assert "Conv2d(3, 8, kernel_size=(3, 3)" in msg
    assert "to have 3 channels" in msg and "got 5 channels" in msg
    assert isinstance(e.value, RuntimeError)
    with pytest.raises(cr.ShapeError, match=r"to have 4 channels.*got 3 channels"):
        nn.Conv1d(4, 2, 3, groups=2)(cr.randn(1, 3, 8))
    with pytest.raises(cr.ShapeError, match=r"ConvTranspose2d.*to have 2 channels.*"
                                            r"got 3 channels"):
        nn.ConvTranspose2d(2, 4, 3)(cr.randn(1, 3, 4, 4))


def test_kernel_larger_than_padded_input():
    with pytest.raises(cr.ShapeError, match=r"padded input size per channel: \(4 x 6\)"
                                            r".*Kernel size: \(5 x 5\)"):
        nn.Conv2d(1, 1, 5, padding=(1, 2))(cr.randn(1, 1, 2, 2))
    with pytest.raises(cr.ShapeError, match=r"Kernel size: \(1 x 5\)"):
        F.conv1d(cr.randn(1, 1, 4), cr.randn(1, 1, 3), dilation=2)


def test_bad_arguments():
    with pytest.raises(cr.ArgumentError, match="not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(cr.ArgumentError, match="invalid padding string 'full'"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(cr.ArgumentError, match=r"in_channels \(3\) must be divisible "
                                               r"by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(cr.ArgumentError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(cr.ArgumentError, match="stride must be positive"):
        F.conv2d(cr.randn(1, 1, 4, 4), cr.randn(1, 1, 2, 2), stride=0)
    with pytest.raises(cr.ArgumentError, match="padding must be an int or a tuple"):
        F.conv2d(cr.randn(1, 1, 4, 4), cr.randn(1, 1, 2, 2), padding=(1, 2, 3))
    with pytest.raises(cr.ArgumentError, match="output padding must be smaller"):
        F.conv_transpose2d(cr.randn(1, 1, 4, 4), cr.randn(1, 1, 2, 2), stride=2,
                           output_padding=2)


def test_bad_shapes_and_dtypes():
    with pytest.raises(cr.ShapeError, match=r"conv2d: expected a 3-D \(unbatched\) or "
                                            r"4-D \(batched\) input.*\[4, 4\]"):
        F.conv2d(cr.randn(4, 4), cr.randn(1, 1, 2, 2))
    with pytest.raises(cr.ShapeError, match="weight must be 4-D"):
        F.conv2d(cr.randn(1, 1, 4, 4), cr.randn(1, 2, 2))
    with pytest.raises(cr.DTypeError, match=r"same dtype.*input float32, weight "
                                            r"float64"):
        F.conv2d(cr.randn(1, 1, 4, 4), cr.randn(1, 1, 2, 2, dtype=cr.float64))
    with pytest.raises(cr.DTypeError, match="floating-point input"):
        F.conv2d(cr.ones(1, 1, 4, 4, dtype=cr.int64), cr.randn(1, 1, 2, 2))
    with pytest.raises(cr.DTypeError, match="bias must be a Tensor or None, got list"):
        F.conv2d(cr.randn(1, 1, 4, 4), cr.randn(2, 1, 2, 2), [0.0, 1.0])
    with pytest.raises(cr.ShapeError, match=r"expected bias of shape \[2\]"):
        F.conv2d(cr.randn(1, 1, 4, 4), cr.randn(2, 1, 2, 2), cr.randn(3))
    with pytest.raises(cr.ShapeError, match=r"fold: .*expected size of input.s "
                                            r"dimension 2 to match.*3 \* 3 = 9"):
        F.fold(cr.randn(1, 4, 10), (4, 4), 2)
    with pytest.raises(cr.ShapeError, match="divisible by the product of kernel_size"):
        F.fold(cr.randn(1, 5, 9), (4, 4), 2)
