"""Keras habits in the Trainer: fit(x, y, batch_size, epochs, validation_data,
validation_split) with NumPy arrays or tensors, Keras's callback hook names, a
warning for hook-like names that are none, and one epoch numbering in the
console, history.csv and the plot."""
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.train import Callback, CSVLogger, Trainer


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))  # float64, as NumPy makes it
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _trainer(seed=0):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    return Trainer(model, cr.optim.SGD(model.parameters(), lr=0.1), "cross_entropy",
                   ["accuracy"])


def _weights(t):
    return [p.detach().numpy().copy() for p in t.model.parameters()]


def test_keras_forms_train_as_the_tuple_form():
    x, y = _data()
    ref = _trainer()
    h_ref = ref.fit((cr.tensor(x).float(), cr.tensor(y)), epochs=2, batch_size=10,
                    verbose=0)
    for call in (lambda t: t.fit(x, y, epochs=2, batch_size=10, verbose=0),
                 lambda t: t.fit(x=x, y=y, epochs=2, batch_size=10, verbose=0),
                 lambda t: t.fit(x, y, 10, 2, verbose=0),
                 lambda t: t.fit(cr.tensor(x).float(), cr.tensor(y), epochs=2,
                                 batch_size=10, verbose=0)):
        t = _trainer()
        h = call(t)
        assert h.history["loss"] == h_ref.history["loss"]
        for a, b in zip(_weights(t), _weights(ref)):
            np.testing.assert_array_equal(a, b)
    # The old form, fit(train, epochs), still works.
    t = _trainer()
    assert len(t.fit((cr.tensor(x).float(), cr.tensor(y)), 3, verbose=0)
               .history["loss"]) == 3


def test_keras_validation_data_and_split_with_numpy():
    x, y = _data()
    xv, yv = _data(20, seed=1)
    h = _trainer().fit(x, y, batch_size=16, epochs=2, validation_data=(xv, yv),
                       verbose=0)
    assert len(h.history["val_loss"]) == 2 and 0 <= h.history["val_accuracy"][-1] <= 1
    h = _trainer().fit(x, y, batch_size=16, epochs=1, validation_split=0.25,
                       verbose=0)
    assert "val_accuracy" in h.history
    t = _trainer()
    t.fit(x, y, epochs=1, verbose=0)
    assert set(t.evaluate(xv, yv)) == {"loss", "accuracy"}
    assert t.predict(xv).shape == (20, 2) and t.predict(xv).dtype == cr.float32


def test_numpy_floats_become_the_default_dtype():
    x, y = _data()
    t = _trainer()
    t.fit(x, y, epochs=1, verbose=0)  # float64 arrays into a float32 model
    assert t.model[0].weight.dtype == cr.float32


def test_keras_argument_errors():
    x, y = _data()
    t = _trainer()
    with pytest.raises(ValueError, match="epochs given twice"):
        t.fit((cr.tensor(x).float(), cr.tensor(y)), 2, epochs=3)
    with pytest.raises(ValueError, match="give the inputs once"):
        t.fit(x, y, x=x)
    with pytest.raises(ValueError, match="no training data"):
        t.fit(epochs=1)


def test_keras_hook_names_are_called():
    calls = []

    class Keras(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            calls.append(("train_batch_begin", batch))

        def on_train_batch_end(self, batch, logs=None):
            calls.append(("train_batch_end", batch, round(logs["loss"], 6) > 0))

        def on_test_begin(self, logs=None):
            calls.append(("test_begin",))

        def on_test_batch_end(self, batch, logs=None):
            calls.append(("test_batch_end", batch))

        def on_test_end(self, logs=None):
            calls.append(("test_end", sorted(logs)))

    x, y = _data(40)
    _trainer().fit(x, y, batch_size=20, epochs=1, validation_split=0.5,
                   callbacks=[Keras()], verbose=0)
    assert calls == [("train_batch_begin", 0), ("train_batch_end", 0, True),
                     ("test_begin",), ("test_batch_end", 0),
                     ("test_end", ["accuracy", "loss"])]


def test_warn_once_about_hook_like_names_that_are_none():
    class Typo(Callback):
        def on_epoch_ended(self, epoch, logs=None):
            pass

        def on_train_end(self, logs=None):  # a real hook: no warning for it
            pass

    x, y = _data(20)
    with pytest.warns(UserWarning, match="callback Typo defines on_epoch_ended, which "
                      "is not a hook the Trainer calls \\(did you mean on_epoch_end"):
        _trainer().fit(x, y, epochs=1, callbacks=[Typo()], verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per class
        _trainer().fit(x, y, epochs=1, callbacks=[Typo()], verbose=0)


def test_history_csv_numbers_epochs_as_the_console_and_the_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    x, y = _data()
    t = _trainer()
    h = t.fit(x, y, epochs=3, callbacks=[CSVLogger(tmp_path / "h.csv")], verbose=2)
    console = re.findall(r"^Epoch (\d+)/3", capsys.readouterr().out, re.M)
    rows = (tmp_path / "h.csv").read_text().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == console == ["1", "2", "3"]
    from chainrule.train import plot_history
    from chainrule.viz import plot_history as viz_plot

    assert plot_history is viz_plot
    assert plot_history(h, tmp_path / "c.png").exists()
