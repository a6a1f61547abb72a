"""Where PyTorch warns (a deprecated use) rather than fails, chainrule warns
and does what PyTorch does: Dropout2d/Dropout3d on inputs of other ranks."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F


def _mask_groups(y, lead):
    """Kept/dropped must be constant within each group sharing a mask draw."""
    a = y.reshape(int(np.prod(y.shape[:lead])), -1)
    return all(len(set(row.tolist())) == 1 for row in a)


@pytest.mark.parametrize("name,shape,lead", [
    ("dropout2d", (40, 60), 2), ("dropout2d", (2, 3, 4, 5, 6), 2),
    ("dropout3d", (30, 40), 2), ("dropout3d", (2, 3, 4), 2),
])
def test_channel_dropout_on_other_ranks_warns_as_torch(name, shape, lead):
    with pytest.warns(UserWarning, match=f"Received a {len(shape)}-D input to {name}"):
        ref = getattr(torch.nn.functional, name)(torch.ones(shape), 0.5).numpy()
    cr.manual_seed(0)
    with pytest.warns(UserWarning, match=f"{name}: Received a {len(shape)}-D input "
                      f"to {name}, which is deprecated"):
        out = getattr(F, name)(cr.ones(*shape), 0.5).numpy()
    for y in (ref, out):
        assert set(np.unique(y)) <= {0.0, 2.0} and _mask_groups(y, lead)
    if len(shape) == 2:  # element-wise: both values appear, at about half each
        assert 0.3 < (out == 0).mean() < 0.7


def test_dropout2d_module_on_a_2d_batch_trains():
    model = nn.Sequential(nn.Linear(5, 8), nn.Dropout2d(0.5), nn.Linear(8, 1))
    x = cr.randn(16, 5)
    with pytest.warns(UserWarning, match="deprecated"):
        model(x).sum().backward()
    assert model[0].weight.grad is not None


def test_dropout1d_on_a_wrong_rank_still_fails_as_torch():
    with pytest.raises(RuntimeError):
        torch.nn.functional.dropout1d(torch.ones(2, 3, 4, 5), 0.5)
    with pytest.raises(ValueError, match="dropout1d: expected"):
        F.dropout1d(cr.ones(2, 3, 4, 5), 0.5)
