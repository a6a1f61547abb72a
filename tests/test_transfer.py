"""chainrule.transfer: freezing, heads, discriminative groups, cached features
and gradual unfreezing."""
import pytest

import chainrule as cr
from chainrule import nn, optim, transfer
from chainrule.errors import ArgumentError
from chainrule.train import Trainer


def net():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                         nn.Linear(8, 3))


def data(n=40):
    g = cr.Generator().manual_seed(1)
    x = cr.randn(n, 4, generator=g)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


def test_freeze_stops_training_and_unfreeze_restarts_it():
    m = net()
    assert transfer.freeze(m, ["0.*", "2.weight"]) == ["0.weight", "0.bias",
                                                       "2.weight"]
    assert transfer.trainable(m) == ["2.bias", "4.weight", "4.bias"]
    before = [p.clone() for p in m.parameters()]
    opt = optim.SGD(m.parameters(), lr=0.5)  # frozen params may stay in it
    x, y = data()
    nn.functional.cross_entropy(m(x), y).backward()
    opt.step()
    after = list(m.parameters())
    assert cr.equal(before[0], after[0]) and cr.equal(before[2], after[2])
    assert not cr.equal(before[4], after[4])
    transfer.unfreeze(m)
    assert len(transfer.trainable(m)) == 6
    with pytest.raises(ArgumentError, match="matches no parameter"):
        transfer.freeze(m, "head.*")


def test_replace_head_by_name_and_index():
    m = net()
    old = transfer.replace_head(m, "-1", nn.Linear(8, 5))
    assert old.out_features == 3 and m(cr.randn(2, 4)).shape == (2, 5)
    outer = nn.Sequential(m, nn.Identity())
    transfer.replace_head(outer, "0.4", nn.Linear(8, 2))
    assert outer(cr.randn(2, 4)).shape == (2, 2)
    with pytest.raises(ArgumentError, match="no submodule 'fc'"):
        transfer.replace_head(m, "fc", nn.Linear(8, 2))
    with pytest.raises(ArgumentError, match="out of range"):
        transfer.replace_head(m, "9", nn.Linear(8, 2))


def test_discriminative_groups_drive_the_optimizer():
    m = net()
    groups = transfer.discriminative_groups(m, 0.1, decay=2.0)
    assert [g["lr"] for g in groups] == [0.025, 0.05, 0.1]
    assert [len(g["params"]) for g in groups] == [2, 2, 2]
    opt = optim.SGD(groups)
    w0 = [p.clone() for p in m.parameters()]
    x, y = data()
    nn.functional.cross_entropy(m(x), y).backward()
    grads = [p.grad.clone() for p in m.parameters()]
    opt.step()
    for i, (a, b, g) in enumerate(zip(w0, m.parameters(), grads)):
        lr = groups[i // 2]["lr"]
        assert cr.allclose(b, a - lr * g, atol=1e-6)


def test_extract_features_matches_the_body_and_trains_a_head():
    m = net()
    body = m[:-1]
    x, y = data()
    ds = transfer.extract_features(body, (x, y), batch_size=16)
    f, t = ds.tensors
    assert f.shape == (40, 8) and not f.requires_grad
    assert cr.allclose(f, body(x).detach()) and cr.equal(t, y)
    head = nn.Linear(8, 3)
    trainer = Trainer(head, optim.Adam(head.parameters(), lr=0.05))
    trainer.fit(ds, epochs=30, batch_size=40, verbose=0)
    assert trainer.history.history["loss"][-1] < trainer.history.history["loss"][0]


def test_gradual_unfreezing_opens_one_group_at_a_time():
    m = net()
    frozen_at = []

    class Spy(transfer.GradualUnfreezing):
        def on_epoch_begin(self, epoch, logs=None):
            super().on_epoch_begin(epoch, logs)
            frozen_at.append(transfer.trainable(self.model))

    x, y = data()
    w0 = m[0].weight.clone()
    opt = optim.SGD(m.parameters(), lr=0.1)
    cb = Spy(every=2)
    Trainer(m, opt).fit((x, y), epochs=5, batch_size=40, verbose=0, callbacks=[cb])
    assert cb.unfrozen == [1, 1, 2, 2, 3]
    assert frozen_at[0] == ["4.weight", "4.bias"]
    assert frozen_at[2] == ["2.weight", "2.bias", "4.weight", "4.bias"]
    assert not cr.equal(w0, m[0].weight)  # trained in the last epoch
    with pytest.raises(ArgumentError, match="every must be"):
        transfer.GradualUnfreezing(every=0)
