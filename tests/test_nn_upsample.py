"""F.interpolate and the Upsample layers against PyTorch."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from tests._window_compare import compare_double_backward, compare_fn, compare_layer

DTYPES = [np.float32, np.float64]
rng = np.random.default_rng(0)


def _x(*shape):
    return rng.standard_normal(shape)


CASES = [
    (dict(scale_factor=2), (2, 3, 5, 4)),
    (dict(scale_factor=3), (2, 2, 3, 5)),
    (dict(scale_factor=1.7), (2, 2, 5, 7)),
    (dict(scale_factor=(0.5, 2.5)), (2, 2, 9, 4)),
    (dict(scale_factor=1.3, recompute_scale_factor=True), (1, 2, 10, 7)),
    (dict(size=(7, 13)), (2, 3, 5, 4)),
    (dict(size=4), (2, 3, 9, 5)),
    (dict(scale_factor=2), (2, 3, 7)),
    (dict(size=11), (2, 3, 4)),
    (dict(scale_factor=(2, 1.5, 3)), (1, 2, 2, 3, 2)),
    (dict(scale_factor=1.7, mode="nearest-exact"), (2, 2, 5, 7)),
    (dict(size=(3, 11), mode="nearest-exact"), (2, 2, 8, 4)),
    (dict(scale_factor=1.6, mode="bilinear"), (2, 2, 5, 7)),
    (dict(scale_factor=2, mode="bilinear", align_corners=False), (2, 2, 4, 3)),
    (dict(size=(9, 4), mode="bilinear", align_corners=True), (2, 2, 5, 7)),
    (dict(size=(1, 6), mode="bilinear", align_corners=True), (2, 2, 5, 3)),
    (dict(scale_factor=0.6, mode="bilinear"), (2, 2, 10, 9)),
    (dict(scale_factor=2.5, mode="linear"), (2, 3, 6)),
    (dict(size=10, mode="linear", align_corners=True), (2, 3, 6)),
    (dict(size=(3, 4), mode="area"), (2, 2, 9, 7)),
    (dict(scale_factor=0.5, mode="area"), (2, 3, 8)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs,shape", CASES)
def test_interpolate_matches_torch(kwargs, shape, dtype):
    compare_fn(lambda a: F.interpolate(a, **kwargs),
               lambda a: torch.nn.functional.interpolate(a, **kwargs), [_x(*shape)],
               dtype)


def test_nearest_index_formula_on_awkward_ratios():
    # Sizes where float32 rounding of i * in/out decides the source pixel.
    for n_in, n_out in [(3, 10), (7, 23), (10, 3), (13, 29), (100, 33), (33, 100)]:
        x = np.arange(n_in, dtype=np.float64).reshape(1, 1, n_in)
        got = F.interpolate(cr.tensor(x), size=n_out).numpy()
        want = torch.nn.functional.interpolate(torch.tensor(x), size=n_out).numpy()
        np.testing.assert_array_equal(got, want)
        got = F.interpolate(cr.tensor(x), scale_factor=n_out / n_in).numpy()
        want = torch.nn.functional.interpolate(torch.tensor(x),
                                               scale_factor=n_out / n_in).numpy()
        np.testing.assert_array_equal(got, want)


def test_nearest_on_integer_input():
    x = rng.integers(0, 9, (1, 2, 3, 4))
    got = F.interpolate(cr.tensor(x), scale_factor=2)
    want = torch.nn.functional.interpolate(torch.tensor(x).double(), scale_factor=2)
    assert got.dtype == cr.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Upsample", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", (), dict(size=(5, 9), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=1.5, mode="bilinear", align_corners=True),
     (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=3, mode="linear"), (2, 3, 4)),
    ("UpsamplingNearest2d", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", (), dict(size=(7, 3)), (2, 3, 4, 5)),
])
def test_upsample_layers_match_torch(name, args, kwargs, shape, dtype):
    m, tm = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(m) == repr(tm)
    compare_layer(m, tm, _x(*shape), dtype)


def test_upsample_inside_a_model():
    def build(mod):
        return mod.Sequential(mod.Conv2d(2, 4, 3, padding=1), mod.Upsample(
            scale_factor=2, mode="bilinear"), mod.Conv2d(4, 1, 3))
    torch.manual_seed(0)
    compare_layer(build(nn), build(torch.nn), _x(2, 2, 5, 6), np.float64)


def test_double_backward_matches_torch():
    tf = torch.nn.functional
    compare_double_backward(
        lambda a: F.interpolate(a, scale_factor=1.5, mode="bilinear") ** 2,
        lambda a: tf.interpolate(a, scale_factor=1.5, mode="bilinear") ** 2,
        [_x(1, 2, 4, 3)])
    compare_double_backward(lambda a: F.interpolate(a, scale_factor=2) ** 2,
                            lambda a: tf.interpolate(a, scale_factor=2) ** 2,
                            [_x(1, 2, 4, 3)])


def test_errors():
    x = cr.randn(1, 2, 4, 4)
    with pytest.raises(cr.ArgumentError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(cr.ArgumentError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(cr.ArgumentError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(cr.ShapeError, match="got 3D input, but bilinear mode needs 4D"):
        F.interpolate(cr.randn(1, 2, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(cr.ArgumentError, match="mode must be one of"):
        F.interpolate(x, scale_factor=2, mode="cubic")
    with pytest.raises(cr.ArgumentError, match=r"same number of spatial dimensions.*"
                                               r"\[4, 4\].*\[2, 2, 2\]"):
        F.interpolate(x, scale_factor=(2, 2, 2))
    with pytest.raises(cr.ArgumentError, match="scale_factor must be positive"):
        F.interpolate(x, scale_factor=-1)
    with pytest.raises(cr.ShapeError, match="supports 3-D and 4-D"):
        F.interpolate(cr.randn(4, 4), scale_factor=2)
    with pytest.raises(cr.ShapeError, match=r"in 0 \(Upsample\): interpolate"):
        nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"))(cr.randn(1, 1, 3))
