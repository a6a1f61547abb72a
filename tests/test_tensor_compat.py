"""Tensor methods that PyTorch programs call, checked against PyTorch:
values and gradients of the method spellings, and format specs."""
import numpy as np
import pytest
import torch

import chainrule as cr

from .oracle import check_against_torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
X32 = X.astype(np.float32)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("x", [X, X32], ids=["f64", "f32"])
def test_softmax_methods(name, dim, x):
    check_against_torch(lambda t: getattr(t, name)(dim), lambda t: getattr(t, name)(dim),
                        [x])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_methods_dtype_and_0d(name):
    check_against_torch(lambda t: getattr(t, name)(1, dtype=cr.float64),
                        lambda t: getattr(t, name)(1, dtype=torch.float64), [X32])
    check_against_torch(lambda t: getattr(t, name)(0), lambda t: getattr(t, name)(0),
                        [np.array(1.5)])


def test_masked_fill_softmax_pattern():
    # Causal attention as PyTorch code writes it.
    mask = np.triu(np.ones((4, 4), bool), 1)
    att = RNG.standard_normal((2, 4, 4))
    check_against_torch(
        lambda a: a.masked_fill(cr.tensor(mask), float("-inf")).softmax(-1),
        lambda a: a.masked_fill(torch.tensor(mask), float("-inf")).softmax(-1), [att])


@pytest.mark.parametrize("data", [1.5, -2, True, 3.0e-7, [2.5], [[1.0, 2.0]]], ids=str)
@pytest.mark.parametrize("spec", ["", ".6f", ">10", "e", "+.3g", "d"])
def test_format_like_torch(data, spec):
    c, t = cr.tensor(data), torch.tensor(data)
    try:
        want = format(t, spec)
    except (TypeError, ValueError) as e:
        with pytest.raises(type(e), match=str(e).split(" for object")[0][:30]):
            format(c, spec)
        return
    if t.ndim == 0:
        assert format(c, spec) == want
    else:  # the empty spec gives str(), whose layout is chainrule's own
        assert format(c, spec) == str(c)


def test_format_requires_grad_and_str_format():
    loss = cr.tensor(0.123456789, requires_grad=True) * 2
    assert "{:.6f}".format(loss) == "{:.6f}".format(torch.tensor(0.123456789) * 2)
    assert f"{loss:.3e}" == "2.469e-01"
