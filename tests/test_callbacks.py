"""Callbacks: each one's behaviour inside Trainer.fit.

Most tests drive a callback with a scripted quantity: ``Script`` writes a
predetermined ``score`` into each epoch's logs (before the callback under
test sees them) and records the model's weights at every epoch, so the
expected outcome is known exactly.
"""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import (
    CSVLogger, Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
    ReduceLROnPlateau, TerminateOnNaN, Trainer,
)


class Script(Callback):
    def __init__(self, scores):
        self.scores = scores
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.weights.append(_params(self.model))


def _params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def _data(n=32):
    g = cr.Generator().manual_seed(0)
    X = cr.randn(n, 3, generator=g)
    return X, (X.sum(1) > 0).long()


def _trainer(lr=0.05):
    cr.manual_seed(0)
    model = nn.Linear(3, 2)
    return Trainer(model, optim.SGD(model.parameters(), lr=lr), "cross_entropy",
                   ["accuracy"])


def _fit(t, callbacks, epochs=6, **kw):
    X, y = _data()
    return t.fit((X, y), epochs=epochs, batch_size=8, callbacks=callbacks, verbose=0,
                 **kw)


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


# -- EarlyStopping ---------------------------------------------------------------------
def test_early_stopping_stops_after_patience_and_restores_best_weights():
    t = _trainer()
    script = Script([3.0, 1.0, 2.0, 1.5, 0.5, 0.1])
    es = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    h = _fit(t, [script, es])
    assert h.epoch == [0, 1, 2, 3]  # epochs 2 and 3 did not beat 1.0
    assert h.history["score"] == [3.0, 1.0, 2.0, 1.5]  # what callbacks log is kept
    assert es.stopped_epoch == 3 and es.best_epoch == 1 and es.best == 1.0
    assert _same(_params(t.model), script.weights[1])
    assert not _same(_params(t.model), script.weights[3])


def test_early_stopping_restores_best_even_without_stopping():
    t = _trainer()
    script = Script([3.0, 1.0, 2.0])
    es = EarlyStopping(monitor="score", patience=5, restore_best_weights=True)
    _fit(t, [script, es], epochs=3)
    assert es.stopped_epoch is None and _same(_params(t.model), script.weights[1])


def test_early_stopping_without_restore_keeps_last_weights():
    t = _trainer()
    script = Script([1.0, 2.0, 3.0, 4.0])
    es = EarlyStopping(monitor="score", patience=1)
    h = _fit(t, [script, es])
    assert h.epoch == [0, 1] and _same(_params(t.model), script.weights[1])


def test_early_stopping_min_delta_mode_and_baseline():
    t = _trainer()
    # max mode inferred from the name; +0.005 is not an improvement with min_delta.
    script = Script([0.5, 0.505, 0.51, 0.52])
    es = EarlyStopping(monitor="val_accuracy", min_delta=0.01, patience=1)
    _fit(t, [_Rename(script, "val_accuracy"), es])
    assert es.mode == "max" and es.stopped_epoch == 1
    es2 = EarlyStopping(monitor="score", baseline=0.3, patience=2)
    h = _fit(_trainer(), [Script([0.9, 0.8, 0.7, 0.1]), es2])
    assert h.epoch == [0, 1]


class _Rename(Callback):
    def __init__(self, script, key):
        self.script, self.key = script, key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.script.scores[epoch]


def test_early_stopping_missing_monitor_is_a_clear_error():
    with pytest.raises(ValueError, match=r"EarlyStopping: monitor 'val_loss' is not in "
                       r"the epoch logs \(available: accuracy, loss, lr\); pass "
                       "validation_data"):
        _fit(_trainer(), [EarlyStopping()])
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        EarlyStopping(mode="lowest")


# -- ModelCheckpoint -------------------------------------------------------------------
def test_model_checkpoint_keeps_the_best_file(tmp_path):
    t = _trainer()
    script = Script([1.0, 0.4, 0.6, 0.9])
    path = tmp_path / "best.safetensors"
    ck = ModelCheckpoint(path, monitor="score", save_best_only=True)
    _fit(t, [script, ck], epochs=4)
    saved = cr.load(path)
    names = [k for k, _ in t.model.named_parameters()]
    assert _same([saved[k].numpy() for k in names], script.weights[1])
    assert not _same(_params(t.model), script.weights[1])
    assert ck.best == 0.4


def test_model_checkpoint_every_epoch_with_formatted_names(tmp_path):
    t = _trainer()
    script = Script([1.0, 0.4, 0.6])
    ck = ModelCheckpoint(tmp_path / "ck" / "e{epoch:02d}-{score:.1f}.safetensors",
                         monitor="score")
    _fit(t, [script, ck], epochs=3)
    files = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert files == ["e01-1.0.safetensors", "e02-0.4.safetensors",
                     "e03-0.6.safetensors"]
    loaded = cr.load(tmp_path / "ck" / "e03-0.6.safetensors")
    assert _same([loaded["weight"].numpy(), loaded["bias"].numpy()], script.weights[2])
    model = nn.Linear(3, 2)
    model.load_state_dict(loaded)
    assert _same(_params(model), script.weights[2])


def test_model_checkpoint_bad_field():
    ck = ModelCheckpoint("m-{val_acc}.safetensors", monitor="loss")
    with pytest.raises(ValueError, match="cannot fill in filepath"):
        _fit(_trainer(), [ck], epochs=1)


# -- learning rate ---------------------------------------------------------------------
def test_learning_rate_scheduler_wraps_lr_scheduler():
    t = _trainer(lr=0.1)
    sched = optim.lr_scheduler.StepLR(t.optimizer, step_size=2, gamma=0.5)
    h = _fit(t, [LearningRateScheduler(sched)], epochs=5)
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_learning_rate_scheduler_function_and_per_batch():
    t = _trainer(lr=0.1)
    h = _fit(t, [LearningRateScheduler(lambda epoch, lr: 0.2 / (epoch + 1))], epochs=3)
    assert h.history["lr"] == pytest.approx([0.2, 0.1, 0.2 / 3])
    t = _trainer(lr=0.1)
    sched = optim.lr_scheduler.ExponentialLR(t.optimizer, gamma=0.5)
    h = _fit(t, [LearningRateScheduler(sched, interval="batch")], epochs=2)
    # 4 batches per epoch: the lr logged after epoch 1 is 0.1 * 0.5**4.
    assert h.history["lr"] == pytest.approx([0.1 * 0.5 ** 4, 0.1 * 0.5 ** 8])


def test_learning_rate_scheduler_feeds_plateau_the_monitored_value():
    t = _trainer(lr=0.1)
    sched = optim.lr_scheduler.ReduceLROnPlateau(t.optimizer, patience=1, factor=0.5)
    script = Script([1.0, 1.0, 1.0, 1.0, 0.1])
    h = _fit(t, [script, LearningRateScheduler(sched, monitor="score")], epochs=5)
    # lr is logged before the step at the end of each epoch; the scheduler
    # (PyTorch's rule) reduces once more than `patience` epochs went bad.
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05])
    assert t.optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


def test_reduce_lr_on_plateau_callback():
    t = _trainer(lr=0.1)
    script = Script([1.0] * 10)
    cb = ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, cooldown=1,
                           min_lr=0.02)
    h = _fit(t, [script, cb], epochs=10)
    # Reductions after epochs 2, 5 and 8: patience 2, and the epoch after each
    # reduction is a cooldown that does not count; the last one stops at min_lr.
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025,
                                             0.025, 0.025, 0.02])


# -- CSVLogger and TerminateOnNaN ------------------------------------------------------
def test_csv_logger_writes_a_row_per_epoch_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    h = _fit(_trainer(), [CSVLogger(path)], epochs=3, validation_split=0.25)
    rows = path.read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss,lr,val_accuracy,val_loss"
    assert len(rows) == 4 and rows[2].startswith("2,")  # 1-based, as the console
    assert float(rows[3].split(",")[2]) == h.history["loss"][2]
    _fit(_trainer(), [CSVLogger(path, append=True)], epochs=2, validation_split=0.25)
    rows = path.read_text().splitlines()
    assert len(rows) == 6 and rows.count(rows[0]) == 1


def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    calls = []

    def loss(out, target):
        if cr.is_grad_enabled():  # count training batches, not fit's data check
            calls.append(1)
        value = nn.functional.cross_entropy(out, target)
        return value * float("nan") if len(calls) == 6 else value

    t = _trainer()
    t.loss_fn = loss
    h = _fit(t, [TerminateOnNaN()], epochs=5)
    assert len(calls) == 6  # epoch 0: 4 batches; epoch 1 stops after its 2nd
    assert h.epoch == [0, 1] and math.isnan(h.history["loss"][1])
    assert "Batch 1: invalid loss nan, terminating training" in capsys.readouterr().err


def test_terminate_on_nan_alongside_early_stopping_on_validation():
    calls = []

    def loss(out, target):
        if cr.is_grad_enabled():  # count training batches, not fit's data check
            calls.append(1)
        value = nn.functional.cross_entropy(out, target)
        return value * float("nan") if len(calls) >= 5 else value

    t = _trainer()
    t.loss_fn = loss
    h = _fit(t, [TerminateOnNaN(), EarlyStopping(patience=3)], epochs=5,
             validation_split=0.25)
    assert h.epoch == [0, 1] and math.isnan(h.history["val_loss"][1])


def test_callback_order_of_hooks():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_batch_end(self, batch, logs=None):
            events.append(f"batch {batch}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    r = Recorder()
    t = _trainer()
    X, y = _data(16)
    t.fit((X, y), epochs=2, batch_size=8, callbacks=[r], verbose=0)
    assert events == ["train_begin", "epoch_begin 0", "batch 0", "batch 1",
                      "epoch_end 0", "epoch_begin 1", "batch 0", "batch 1",
                      "epoch_end 1", "train_end"]
    assert r.trainer is t and r.model is t.model and r.params["epochs"] == 2
    with pytest.raises(ValueError, match="callbacks must be Callback instances"):
        t.fit((X, y), callbacks=[lambda: None], verbose=0)
