"""Determinism: the same seed gives bit-identical runs, and nothing but
training (shuffling, dropout) draws from the generators training uses.

Validation, evaluate, predict, checkpoints and logs are added to a run and
must leave its batch losses and final parameters exactly as they were.
"""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.train import Callback, CSVLogger, EarlyStopping, ModelCheckpoint, Trainer


def _data(n=64, seed=5):
    g = cr.Generator().manual_seed(seed)
    X = cr.randn(n, 6, generator=g)
    y = (X[:, 0] - X[:, 1] * X[:, 2] > 0).long()
    return X, y


class Recorder(Callback):
    """Batch losses, and optionally evaluate / predict after every epoch."""

    def __init__(self, probe=None):
        self.losses, self.probe = [], probe

    def on_batch_end(self, batch, logs=None):
        self.losses.append(logs["batch_loss"])

    def on_epoch_end(self, epoch, logs=None):
        if self.probe is not None:
            self.trainer.evaluate(self.probe, batch_size=7)
            self.trainer.predict(self.probe[0], batch_size=5)


def _fit(seed, tmp_path=None, validation=False, probe=False, epochs=4):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 20), nn.ReLU(), nn.Dropout(0.4),
                          nn.Linear(20, 2))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.01),
                      "cross_entropy", ["accuracy"])
    val = _data(24, seed=8)
    rec = Recorder(val if probe else None)
    cbs = [rec]
    if tmp_path is not None:
        cbs += [ModelCheckpoint(tmp_path / "e{epoch}.safetensors", monitor="val_loss",
                                save_weights_only=False, save_last=True),
                CSVLogger(tmp_path / "log.csv"),
                EarlyStopping(monitor="val_loss", patience=10)]
    trainer.fit(_data(), epochs=epochs, batch_size=8, verbose=0, callbacks=cbs,
                validation_data=val if validation else None)
    return rec.losses, [p.detach().numpy().copy() for p in model.parameters()]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_same_seed_same_run():
    losses, params = _fit(0)
    losses2, params2 = _fit(0)
    assert losses == losses2 and _same(params, params2)
    # ...and the seed matters (dropout and shuffling are really random).
    losses3, params3 = _fit(1)
    assert losses3 != losses and not _same(params3, params)


def test_validation_checkpoints_logs_evaluate_and_predict_draw_nothing(tmp_path):
    plain_losses, plain = _fit(0)
    losses, params = _fit(0, tmp_path, validation=True, probe=True)
    assert losses == plain_losses and _same(params, plain)
    assert (tmp_path / "last.safetensors").exists() and (tmp_path / "log.csv").exists()


def test_fit_leaves_the_global_generator_where_training_alone_would():
    """What fit draws from the global generator is exactly the training's
    draws: the state after a fit with validation equals that after one
    without."""
    _fit(0)
    after_plain = cr.get_rng_state()
    _fit(0, validation=True, probe=True)
    assert cr.get_rng_state() == after_plain


def test_the_trial_batch_draws_nothing_even_from_random_augmentation():
    """fit's data check reads two samples; a dataset that augments with the
    global generator is read again in training, and the check puts the
    generator back so training sees the same numbers."""

    class Jitter(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x + 0.01 * cr.randn(x.shape), y

    def run():
        cr.manual_seed(0)
        model = nn.Linear(6, 2)
        t = Trainer(model, optim.SGD(model.parameters(), lr=0.1), "cross_entropy")
        loader = DataLoader(Jitter(*_data()), batch_size=16, shuffle=True)
        t.fit(loader, epochs=2, verbose=0)
        return [p.detach().numpy().copy() for p in model.parameters()]

    def by_hand():
        cr.manual_seed(0)
        model = nn.Linear(6, 2)
        opt = optim.SGD(model.parameters(), lr=0.1)
        loader = DataLoader(Jitter(*_data()), batch_size=16, shuffle=True)
        for _ in range(2):
            for x, y in loader:
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
        return [p.detach().numpy().copy() for p in model.parameters()]

    assert _same(run(), by_hand())


def test_explicit_loop_same_seed_same_run():
    def run(seed):
        cr.manual_seed(seed)
        model = nn.Sequential(nn.Linear(6, 12), nn.Dropout(0.3), nn.Linear(12, 2))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loader = DataLoader(TensorDataset(*_data()), batch_size=10, shuffle=True,
                            generator=cr.Generator().manual_seed(seed))
        losses = []
        for _ in range(3):
            for x, y in loader:
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
        return losses, [p.detach().numpy().copy() for p in model.parameters()]

    a, b = run(3), run(3)
    assert a[0] == b[0] and _same(a[1], b[1])
    assert run(4)[0] != a[0]


@pytest.mark.parametrize("shuffle", [True, False])
def test_trainer_matches_the_explicit_loop_bit_for_bit(shuffle):
    """fit does what the plain loop does, no more: same draws, same updates."""
    X, y = _data()

    def loop():
        cr.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 12), nn.Dropout(0.3), nn.Linear(12, 2))
        opt = optim.Adam(model.parameters(), lr=0.01)
        loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=shuffle)
        for _ in range(3):
            model.train()
            for xb, yb in loader:
                opt.zero_grad()
                F.cross_entropy(model(xb), yb).backward()
                opt.step()
        return [p.detach().numpy().copy() for p in model.parameters()]

    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 12), nn.Dropout(0.3), nn.Linear(12, 2))
    Trainer(model, optim.Adam(model.parameters(), lr=0.01), "cross_entropy").fit(
        (X, y), epochs=3, batch_size=8, shuffle=shuffle, verbose=0,
        validation_data=_data(16, seed=9))
    assert _same([p.detach().numpy() for p in model.parameters()], loop())
