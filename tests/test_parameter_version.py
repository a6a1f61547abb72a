"""Parameter(t) and Buffer(t) share t's storage, hence its version counter:
an in-place change of t after the forward makes backward raise, as in
PyTorch (not a silently wrong gradient)."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.errors import AutogradError


def _modify_then_backward(lib, wrap):
    t = lib.ones(3)
    p = wrap(t)
    y = (p * p).sum()
    t.add_(1)
    y.backward()


def test_modifying_the_wrapped_tensor_after_forward_raises_like_torch():
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _modify_then_backward(torch, torch.nn.Parameter)
    with pytest.raises(AutogradError, match="modified by an inplace operation"):
        _modify_then_backward(cr, nn.Parameter)


@pytest.mark.parametrize("name", ["Parameter", "Buffer"])
def test_versions_are_shared_with_the_wrapped_tensor_like_torch(name):
    versions = {}
    for lib, mod in ((torch, torch.nn), (cr, nn)):
        t = lib.ones(3)
        w = getattr(mod, name)(t)
        before = (w._version, t._version)
        t.add_(1)
        versions[lib.__name__] = (before, w._version, t._version)
        np.testing.assert_array_equal(np.asarray(w.detach().numpy()), [2, 2, 2])
    assert versions["chainrule"] == versions["torch"]


def test_a_fresh_parameter_still_backpropagates():
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [2.0, 4.0])
