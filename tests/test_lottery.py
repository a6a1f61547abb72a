"""Lottery tickets: structured pruning against PyTorch, and iterative
magnitude pruning with rewinding on a small network."""
import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune

import chainrule as cr
from chainrule import lottery, nn
from chainrule.errors import ArgumentError
from chainrule.nn.utils import prune


@pytest.mark.parametrize("amount,n,dim", [(0.34, 2, 0), (2, 1, 1), (0.5, 1, -1)])
def test_ln_structured_matches_pytorch(amount, n, dim):
    w = np.random.default_rng(0).standard_normal((6, 4, 3, 3)).astype("float32")
    m, tm = nn.Conv2d(4, 6, 3), torch.nn.Conv2d(4, 6, 3)
    with cr.no_grad():
        m.weight.copy_(cr.tensor(w))
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(w))
    for _ in range(2):  # pruning twice combines the masks the same way
        prune.ln_structured(m, "weight", amount, n, dim)
        tprune.ln_structured(tm, "weight", amount, n, dim)
        np.testing.assert_array_equal(m.weight_mask.numpy(), tm.weight_mask.numpy())
        np.testing.assert_allclose(m.weight.detach().numpy(),
                                   tm.weight.detach().numpy())
    with pytest.raises(ArgumentError, match="dim=4 is out of range"):
        prune.ln_structured(nn.Linear(3, 2), "weight", 1, 2, 4)


def _net():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_imp_prunes_the_remaining_weights_and_rewinds(scope):
    model = _net()
    init = {n: p.detach().clone() for n, p in model.named_parameters()}
    imp = lottery.IterativeMagnitudePruning(model, rate=0.2, scope=scope,
                                            skip_last=False)
    with cr.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # "training"
    w = model[0].weight_orig.detach().clone()
    assert imp.prune() == pytest.approx(0.8, abs=0.01)
    # The smallest-magnitude trained weights went.
    kept = w.abs()[model[0].weight_mask == 1].min().item()
    gone = w.abs()[model[0].weight_mask == 0]
    if gone.numel():
        assert gone.max().item() <= kept
    imp.rewind()
    for n, p in model.named_parameters():
        assert cr.equal(p, init[n.replace("_orig", "")])
    assert (model[0].weight == model[0].weight_orig * model[0].weight_mask).all()
    imp.prune()
    assert imp.remaining() == pytest.approx(0.64, abs=0.01)


def test_structured_imp_removes_whole_neurons_and_reinitialize_keeps_masks():
    model = _net()
    imp = lottery.IterativeMagnitudePruning(model, rate=0.25, scope="layer",
                                            structured=True, skip_last=False)
    imp.prune()
    imp.prune()
    rows = model[0].weight_mask.sum(dim=1)
    assert int((rows == 0).sum().item()) == 4 + 3  # 25% of 16, then of 12
    assert set(rows.tolist()) <= {0.0, 8.0}
    mask = model[0].weight_mask.clone()
    cr.manual_seed(5)
    fresh = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    imp.reinitialize(fresh)
    assert cr.equal(model[0].weight_mask, mask)
    assert cr.equal(model[0].weight_orig, fresh[0].weight)
    with pytest.raises(ArgumentError, match="structured pruning is per layer"):
        lottery.IterativeMagnitudePruning(_net(), structured=True)


def test_find_ticket_trains_each_round_at_lower_density():
    model = _net()
    g = cr.Generator().manual_seed(0)
    x = cr.randn(64, 8, generator=g)
    y = (x[:, :4] ** 2).argmax(dim=1)

    def train(m):
        from chainrule import optim

        opt = optim.Adam(m.parameters(), lr=0.02)
        for _ in range(40):
            opt.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
            opt.step()

    def score(m):
        return (m(x).argmax(dim=1) == y).float().mean().item()

    imp, hist = lottery.find_ticket(model, train, score, rounds=3, rate=0.5)
    assert [h["round"] for h in hist] == [0, 1, 2, 3]
    rem = [h["remaining"] for h in hist]
    assert rem[0] == 1.0 and all(a > b for a, b in zip(rem, rem[1:]))
    assert hist[0]["score"] > 0.8
    assert (model[0].weight[model[0].weight_mask == 0] == 0).all()
