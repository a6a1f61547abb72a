"""nn.utils: gradient clipping, parameter vectors and pruning against torch."""
import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401  (not imported by torch.nn.utils)

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import prune
from tests.oracle import assert_close


def _twin_mlps():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(),
                            torch.nn.Linear(5, 3))
    c = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    c.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    return t, c


def _backward_both(t, c, scale=10.0):
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    (t(torch.tensor(x)) * scale).pow(2).sum().backward()
    (c(cr.tensor(x)) * scale).pow(2).sum().backward()


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    t, c = _twin_mlps()
    _backward_both(t, c)
    tn = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type)
    cn = nn.utils.clip_grad_norm_(c.parameters(), max_norm, norm_type)
    assert_close(cn, tn, rtol=1e-5, what="total norm")
    for (k, p), q in zip(c.named_parameters(), t.parameters()):
        # float32 gradients of size ~200 summed in another order: 1e-4 apart.
        assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-4, what=k)


def test_clip_grad_norm_single_tensor_nonfinite_and_empty():
    p = nn.Parameter(cr.ones(3))
    p.grad = cr.tensor([3.0, 4.0, 0.0])
    assert_close(nn.utils.clip_grad_norm_(p, 1.0), np.float32(5.0))
    assert_close(p.grad, np.array([0.6, 0.8, 0.0], np.float32), rtol=1e-5)
    p.grad = cr.tensor([float("inf"), 1.0, 0.0])
    with pytest.raises(cr.ArgumentError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    q = nn.Parameter(cr.ones(2))
    assert nn.utils.clip_grad_norm_([q], 1.0).item() == 0.0


def test_clip_grad_value_matches_torch():
    t, c = _twin_mlps()
    _backward_both(t, c)
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.7)
    nn.utils.clip_grad_value_(c.parameters(), 0.7)
    for p, q in zip(c.parameters(), t.parameters()):
        assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-4)  # float32 sums
    assert max(np.abs(p.grad.numpy()).max() for p in c.parameters()) == \
        pytest.approx(0.7)


def test_parameters_vector_round_trip_matches_torch():
    t, c = _twin_mlps()
    tv = torch.nn.utils.parameters_to_vector(t.parameters())
    cv = nn.utils.parameters_to_vector(c.parameters())
    assert_close(cv, tv)
    new = np.arange(cv.numel(), dtype=np.float32)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), t.parameters())
    nn.utils.vector_to_parameters(cr.tensor(new), c.parameters())
    for p, q in zip(c.parameters(), t.parameters()):
        assert_close(p, q)
    # The vector is differentiable with respect to the parameters.
    (nn.utils.parameters_to_vector(c.parameters()) ** 2).sum().backward()
    assert_close(c[0].weight.grad, 2 * c[0].weight.detach())
    with pytest.raises(cr.ShapeError, match=r"not hold the 53 parameter values"):
        nn.utils.vector_to_parameters(cr.zeros(5), c.parameters())


def _prune_twins(seed=0):
    torch.manual_seed(seed)
    t = torch.nn.Linear(8, 6)
    c = nn.Linear(8, 6)
    c.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    return t, c


def _same_pruned_state(c, t):
    assert list(c.state_dict()) == list(t.state_dict())
    for k, v in t.state_dict().items():
        assert_close(c.state_dict()[k], v, what=k)
    assert_close(c.weight, t.weight)


def test_l1_unstructured_matches_torch_iteratively():
    t, c = _prune_twins()
    for amount in (0.3, 0.5, 4):
        torch.nn.utils.prune.l1_unstructured(t, "weight", amount)
        prune.l1_unstructured(c, "weight", amount)
        _same_pruned_state(c, t)
    assert int((c.weight_mask == 0).sum().item()) == 14 + 17 + 4
    assert isinstance(c.weight_orig, nn.Parameter) and "weight" not in c._parameters
    x = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    tx, cx = torch.tensor(x), cr.tensor(x)
    t(tx).sum().backward()
    c(cx).sum().backward()
    assert_close(c.weight_orig.grad, t.weight_orig.grad)  # zero where pruned
    # Changing weight_orig shows up in weight at the next forward (the pre-hook).
    with cr.no_grad():
        c.weight_orig.mul_(2.0)
    c(cx)
    assert_close(c.weight, 2 * t.weight.detach().numpy())
    prune.remove(c, "weight")
    torch.nn.utils.prune.remove(t, "weight")
    assert list(c.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    assert isinstance(c.weight, nn.Parameter) and not prune.is_pruned(c)
    assert_close(c.weight, 2 * t.weight.detach().numpy())


def test_pruning_importance_scores_bias_and_counts():
    t, c = _prune_twins()
    scores = np.random.default_rng(3).uniform(size=(6, 8)).astype(np.float32)
    torch.nn.utils.prune.l1_unstructured(t, "weight", 10,
                                         importance_scores=torch.tensor(scores))
    prune.l1_unstructured(c, "weight", 10, importance_scores=cr.tensor(scores))
    torch.nn.utils.prune.l1_unstructured(t, "bias", 0.5)
    prune.l1_unstructured(c, "bias", 0.5)
    _same_pruned_state(c, t)
    assert_close(c.bias, t.bias)
    r = nn.Linear(10, 10)
    prune.random_unstructured(r, "weight", 0.37)
    assert int((r.weight_mask == 0).sum().item()) == 37
    prune.random_unstructured(r, "weight", 0.5)
    assert int((r.weight_mask == 0).sum().item()) == 37 + 32  # half of 63, rounded
    assert prune.is_pruned(nn.Sequential(nn.ReLU(), r))


def test_global_unstructured_matches_torch():
    t1, c1 = _prune_twins(1)
    t2, c2 = _prune_twins(2)
    torch.nn.utils.prune.l1_unstructured(t1, "weight", 0.2)
    prune.l1_unstructured(c1, "weight", 0.2)
    for _ in range(2):
        torch.nn.utils.prune.global_unstructured(
            [(t1, "weight"), (t2, "weight")],
            pruning_method=torch.nn.utils.prune.L1Unstructured, amount=0.3)
        prune.global_unstructured([(c1, "weight"), (c2, "weight")],
                                  pruning_method=prune.L1Unstructured, amount=0.3)
        _same_pruned_state(c1, t1)
        _same_pruned_state(c2, t2)


def test_prune_errors():
    lin = nn.Linear(3, 2)
    with pytest.raises(cr.ArgumentError, match=r"amount=1.5 should be a float"):
        prune.l1_unstructured(lin, "weight", 1.5)
    with pytest.raises(cr.ArgumentError, match="smaller than the number"):
        prune.l1_unstructured(lin, "weight", 7)
    with pytest.raises(cr.ArgumentError, match="no parameter named 'kernel'"):
        prune.l1_unstructured(lin, "kernel", 0.1)
    with pytest.raises(cr.ArgumentError, match="has not been pruned"):
        prune.remove(lin, "bias")
