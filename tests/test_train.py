"""chainrule.train: metrics, Trainer.fit / evaluate / predict, progress output."""
import io
import re
import sys

import numpy as np
import pytest
from sklearn import metrics as skm

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.train import Trainer, metrics as M


# -- metrics against scikit-learn ------------------------------------------------------
def _multiclass(n=300, c=4, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)).astype(np.float32)
    y = rng.integers(0, c, n)
    y[: n // 3] = logits[: n // 3].argmax(1)  # make it better than chance
    return cr.from_numpy(logits), cr.from_numpy(y), logits.argmax(1), y


def test_classification_metrics_match_sklearn_macro():
    out, tgt, pred, y = _multiclass()
    assert M.accuracy(out, tgt) == pytest.approx(skm.accuracy_score(y, pred))
    for fn, ref in ((M.precision, skm.precision_score), (M.recall, skm.recall_score),
                    (M.f1, skm.f1_score)):
        assert fn(out, tgt) == pytest.approx(ref(y, pred, average="macro",
                                                 zero_division=0))
    onehot = cr.one_hot(tgt, 4).float()
    assert M.accuracy(out, onehot) == pytest.approx(skm.accuracy_score(y, pred))


def test_epoch_metric_is_exact_over_batches_not_mean_of_batches():
    out, tgt, pred, y = _multiclass(301)
    for cls, ref in ((M.F1, skm.f1_score), (M.Precision, skm.precision_score)):
        m = cls()
        for s in range(0, 301, 64):
            m.update(out[s:s + 64], tgt[s:s + 64])
        assert m.compute() == pytest.approx(ref(y, pred, average="macro",
                                                zero_division=0))


def test_binary_metrics_threshold_and_positive_class():
    rng = np.random.default_rng(1)
    p = rng.random(200).astype(np.float32)
    y = (rng.random(200) < p).astype(np.int64)
    pred = (p > 0.5).astype(int)
    P, Y = cr.from_numpy(p).reshape(-1, 1), cr.from_numpy(y)
    assert M.precision(P, Y) == pytest.approx(skm.precision_score(y, pred))
    assert M.recall(P, Y) == pytest.approx(skm.recall_score(y, pred))
    assert M.f1(P, Y) == pytest.approx(skm.f1_score(y, pred))
    logits = cr.log(P / (1 - P))
    assert M.accuracy(logits, Y.float(), threshold=0.0) == pytest.approx(
        skm.accuracy_score(y, pred))


def test_top_k_and_regression_metrics():
    out, tgt, _, y = _multiclass(c=6)
    top2 = np.argsort(-out.numpy(), 1)[:, :2]
    assert M.top_k_accuracy(out, tgt, k=2) == pytest.approx(
        np.mean([y[i] in top2[i] for i in range(len(y))]))
    a = np.linspace(-1, 2, 12, dtype=np.float32).reshape(6, 2)
    b = np.cos(a)
    A, B = cr.from_numpy(a), cr.from_numpy(b)
    assert M.mse(A, B) == pytest.approx(float(np.mean((a - b) ** 2)), rel=1e-6)
    assert M.mae(A, B) == pytest.approx(float(np.mean(np.abs(a - b))), rel=1e-6)


def test_metric_errors():
    with pytest.raises(ValueError, match=r"accuracy: outputs \[3, 2\] \(class scores "
                       r"along dim 1\) need targets of shape \[3\]"):
        M.accuracy(cr.zeros(3, 2), cr.zeros(3, 5, dtype=cr.int64))
    with pytest.raises(ValueError, match="must have the same number of samples"):
        M.accuracy(cr.zeros(3, 2), cr.zeros(4, dtype=cr.int64))
    with pytest.raises(ValueError, match="class-index targets must be integers"):
        M.accuracy(cr.zeros(3, 2), cr.zeros(3))
    with pytest.raises(ValueError, match=r"top_5_accuracy: needs outputs .* C >= k=5"):
        M.top_k_accuracy(cr.zeros(3, 2), cr.zeros(3, dtype=cr.int64))
    with pytest.raises(ValueError, match="unknown metric 'acuracy'; valid names"):
        M.get("acuracy")


# -- fit ------------------------------------------------------------------------------
def _blobs(n=120, seed=0):
    """Three Gaussian blobs in 4-d: X (n, 4) float32, y (n,) int64."""
    g = cr.Generator().manual_seed(seed)
    y = cr.arange(n) % 3
    centres = cr.tensor([[2.0, 0, 0, 1], [0, 2.0, 0, -1], [0, 0, 2.0, 0]])
    X = centres[y] + cr.randn(n, 4, generator=g) * 0.5
    return X, y


def _model(dropout=0.0):
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(16, 3))


def _trainer(seed=0, dropout=0.3, **kw):
    cr.manual_seed(seed)
    model = _model(dropout)
    return Trainer(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                   "cross_entropy", ["accuracy"], **kw)


def _params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_fit_learns_and_history_holds_plain_floats():
    X, y = _blobs()
    t = _trainer()
    h = t.fit((X, y), epochs=6, batch_size=16, validation_split=0.25, verbose=0)
    assert h is t.history
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert all(len(v) == 6 and all(type(x) is float for x in v)
               for v in h.history.values())
    assert h.epoch == list(range(6))
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["val_accuracy"][-1] > 0.9
    assert t.epoch == 6


def test_seeded_fit_gives_identical_histories():
    X, y = _blobs()
    runs = []
    for _ in range(2):
        t = _trainer(seed=5)
        h = t.fit((X, y), epochs=3, batch_size=16, validation_split=0.2, verbose=0)
        runs.append((h.history, _params(t.model)))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_validation_does_not_change_training_trajectory():
    X, y = _blobs()
    Xv, yv = _blobs(40, seed=9)
    with_val = _trainer(seed=3)
    h = with_val.fit((X, y), epochs=4, batch_size=8, validation_data=(Xv, yv),
                     verbose=0)
    without = _trainer(seed=3)
    h0 = without.fit((X, y), epochs=4, batch_size=8, verbose=0)
    assert h.history["loss"] == h0.history["loss"]
    for a, b in zip(_params(with_val.model), _params(without.model),
                    strict=True):
        np.testing.assert_array_equal(a, b)


def test_evaluate_and_predict_restore_mode_use_no_grad_or_randomness():
    X, y = _blobs(60)
    t = _trainer(dropout=0.5)
    t.model.train()
    state = cr.get_rng_state()
    res = t.evaluate((X, y), batch_size=7)
    out = t.predict(X, batch_size=7)
    assert cr.get_rng_state() == state
    assert t.model.training and all(m.training for m in t.model.modules())
    assert set(res) == {"loss", "accuracy"} and type(res["loss"]) is float
    assert out.shape == (60, 3) and not out.requires_grad
    # Eval mode: dropout is off, so the result is deterministic and full-batch.
    with cr.no_grad():
        t.model.eval()
        full = t.model(X)
    np.testing.assert_allclose(out.numpy(), full.numpy(), rtol=1e-6, atol=1e-6)
    t.predict((X, y))
    assert not t.model.training  # the eval mode set above is restored, too
    loss = nn.functional.cross_entropy(full, y).item()
    assert res["loss"] == pytest.approx(loss, rel=1e-5)


def test_fit_accepts_dataset_and_dataloader_and_loss_objects():
    X, y = _blobs()
    t = _trainer()
    t.loss_fn = nn.CrossEntropyLoss()
    h1 = t.fit(TensorDataset(X, y), epochs=1, batch_size=32, verbose=0)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    h2 = t.fit(loader, epochs=1, validation_data=DataLoader(TensorDataset(X, y)),
               verbose=0)
    assert len(h1.history["loss"]) == 1 and "val_loss" in h2.history
    with pytest.raises(ValueError, match="batch_size must not be given with a "
                       "DataLoader"):
        t.fit(loader, batch_size=8, verbose=0)


def test_validation_split_holds_out_the_last_samples():
    X, y = _blobs(100)
    t = _trainer()
    t.fit((X, y), epochs=1, batch_size=10, validation_split=0.3, shuffle=False,
          verbose=0)
    ds = t.train_loader.dataset
    assert len(ds) == 70 and ds.indices == list(range(70))


def test_regression_with_mse_and_mae():
    g = cr.Generator().manual_seed(0)
    X = cr.randn(200, 3, generator=g)
    y = X @ cr.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    cr.manual_seed(0)
    model = nn.Linear(3, 1)
    t = Trainer(model, optim.SGD(model.parameters(), lr=0.1), "mse", ["mae"])
    h = t.fit((X, y), epochs=20, batch_size=20, verbose=0)
    assert h.history["loss"][-1] < 1e-4 and h.history["mae"][-1] < 1e-2


def test_fit_argument_errors():
    X, y = _blobs(20)
    t = _trainer()
    # (fit(X, y) is Keras's form and trains: see test_fit_keras.py)
    with pytest.raises(ValueError, match=r"epochs given twice"):
        t.fit((X, y), 2, epochs=3)
    with pytest.raises(ValueError, match="got inputs without targets"):
        t.fit(X, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_split must be in"):
        t.fit((X, y), validation_split=1.5)
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'; valid names"):
        Trainer(_model(), "sgd", loss="crossentropy")
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        Trainer(_model(), "adamm")
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
        t.fit((X, y), verbose=3)


def test_optimizer_by_name_and_bce_with_logits_threshold():
    X, y = _blobs(90)
    yb = (y == 0).float().reshape(-1, 1)
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    t = Trainer(model, "adam", "bce_with_logits", ["accuracy"])
    assert isinstance(t.optimizer, optim.Adam)
    t.optimizer.param_groups[0]["lr"] = 0.05
    h = t.fit((X, yb), epochs=15, batch_size=30, verbose=0)
    logits = t.predict(X)
    expected = M.accuracy(logits, yb, threshold=0.0)
    assert t.evaluate((X, yb))["accuracy"] == pytest.approx(expected)
    assert h.history["accuracy"][-1] > 0.9


# -- progress output -------------------------------------------------------------------
def test_verbose_zero_prints_nothing(capsys):
    X, y = _blobs(40)
    _trainer().fit((X, y), epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@pytest.mark.parametrize("verbose", [1, 2])
def test_not_a_terminal_gives_one_plain_line_per_epoch(capsys, verbose):
    X, y = _blobs(40)
    _trainer().fit((X, y), epochs=3, batch_size=8, validation_split=0.25,
                   verbose=verbose)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 3 and out.endswith("\n")
    assert all(line.startswith(f"Epoch {i + 1}/3 - ") for i, line in enumerate(lines))
    assert "val_accuracy: " in lines[0] and " loss: " in lines[0]
    assert not any(ord(c) < 32 and c != "\n" or c == "\x7f" for c in out)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_gets_a_live_bar_with_eta(monkeypatch):
    X, y = _blobs(40)
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    _trainer().fit((X, y), epochs=2, batch_size=8, validation_split=0.2, verbose=1)
    monkeypatch.undo()
    out = term.getvalue()
    assert "\r" in out and "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "loss: " in out and "accuracy: " in out
    assert "<" in out  # tqdm's elapsed<remaining time estimate
    # Validation results follow each bar on a line of their own.
    assert len(re.findall(r"^  val_loss: \S+ - val_accuracy: \S+$", out, re.M)) == 2



@pytest.mark.parametrize("case", ["no tqdm", "verbose=2"])
def test_terminal_without_tqdm_or_with_verbose_2_gets_plain_lines(monkeypatch, case):
    X, y = _blobs(40)
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    if case == "no tqdm":
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    _trainer().fit((X, y), epochs=2, batch_size=8, verbose=2 if case == "verbose=2"
                   else 1)
    monkeypatch.undo()
    out = term.getvalue()
    assert "\r" not in out and len(out.splitlines()) == 2

# -- learning-curve plots --------------------------------------------------------------
def test_plot_history_writes_a_png_with_a_panel_per_quantity(tmp_path):
    from matplotlib.image import imread

    from chainrule.viz import plot_history

    X, y = _blobs(40)
    h = _trainer().fit((X, y), epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    path = plot_history(h, tmp_path / "sub" / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = imread(path)
    # Two panels (loss, accuracy; lr is left out) of 4.2 x 3.4 inches at 100 dpi.
    assert img.shape[:2] == (340, 840)
    one = plot_history({"loss": [1.0, 0.5]}, tmp_path / "one.png")
    assert imread(one).shape[:2] == (340, 420)


def test_plot_history_errors(tmp_path, monkeypatch):
    from chainrule.viz import plot_history

    with pytest.raises(ValueError, match="expected a History"):
        plot_history({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_history({"lr": [0.1]}, tmp_path / "x.png")
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError,
                       match=r"plot_history needs matplotlib.*chainrule\[plot\]"):
        plot_history({"loss": [1.0]}, tmp_path / "x.png")
