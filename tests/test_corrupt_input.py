"""Corrupt input fails cleanly: before any training step, before any write.

A truncated, bit-flipped or foreign checkpoint given to ``resume_from``; a
checkpoint whose tensors do not fit the model; training data with NaNs,
wrong dtypes or mismatched lengths.  Each raises a chainrule error saying
what is wrong, and afterwards the directory (names, bytes, modification
times), the model, the optimizer, the counters and the random generators
are exactly as before.
"""
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, Dataset, TensorDataset
from chainrule.errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from chainrule.io import CheckpointError
from chainrule.train import CSVLogger, ModelCheckpoint, Trainer


def _data(n=40):
    g = cr.Generator().manual_seed(2)
    X = cr.randn(n, 5, generator=g)
    return X, (X[:, 0] > 0).long()


def _trainer(model=None):
    cr.manual_seed(0)
    model = model or nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    return Trainer(model, optim.Adam(model.parameters(), lr=0.01), "cross_entropy",
                   ["accuracy"])


def _callbacks(directory):
    return [CSVLogger(directory / "log.csv"),
            ModelCheckpoint(directory / "ckpt" / "best.safetensors", monitor="loss",
                            save_best_only=True, save_last=True)]


def _snapshot(directory):
    """Every file under ``directory``: bytes and modification time."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            p = Path(root, name)
            st = p.stat()
            out[str(p.relative_to(directory))] = (
                None if p.is_dir() else p.read_bytes(), st.st_mtime_ns)
    return out


class Untouched:
    """Records a trainer's state, the generators and a directory, then checks
    that nothing changed."""

    def __init__(self, trainer, directory):
        self.trainer, self.directory = trainer, directory
        self.params = [p.detach().numpy().copy() for p in trainer.model.parameters()]
        self.files = _snapshot(directory)
        self.rng = cr.get_rng_state()

    def check(self):
        t = self.trainer
        now = [p.detach().numpy() for p in t.model.parameters()]
        assert all(np.array_equal(a, b) for a, b in zip(self.params, now, strict=True))
        assert not t.optimizer.state and t.global_step == 0 and t.epoch == 0
        assert _snapshot(self.directory) == self.files
        assert cr.get_rng_state() == self.rng


# -- corrupt checkpoints ---------------------------------------------------------------
@pytest.fixture
def run_dir(tmp_path):
    """A directory after a 2-epoch run: ckpt/last.safetensors, best, log.csv."""
    _trainer().fit(_data(), epochs=2, batch_size=10, verbose=0,
                   callbacks=_callbacks(tmp_path))
    assert (tmp_path / "ckpt" / "last.safetensors").exists()
    return tmp_path


def _truncate(data, rng):
    return [data[:0], data[:7], data[:8 + 10], data[:len(data) // 2], data[:-1]]


def _flip(data, rng):
    n = int.from_bytes(data[:8], "little")
    spots = [0, 3, 9, 8 + n // 2, 8 + n - 2, 8 + n, len(data) - 1]
    spots += [int(i) for i in rng.integers(0, len(data), 8)]
    out = []
    for i in spots:
        b = bytearray(data)
        b[i] ^= 1 << int(rng.integers(0, 8))
        out.append(bytes(b))
    return out


def _foreign(data, rng):
    import torch

    class Payload:
        def __reduce__(self):
            return (os.system, ("touch PWNED",))

    torch_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"t{os.getpid()}.pt"
    torch.save({"w": torch.ones(2)}, torch_file)
    zip_bytes = torch_file.read_bytes()
    torch_file.unlink()
    return [pickle.dumps(Payload()), zip_bytes, bytes(rng.integers(0, 256, 500,
                                                                   dtype=np.uint8)),
            b'{"not": "a checkpoint"}']


@pytest.mark.parametrize("corrupt", [_truncate, _flip, _foreign])
def test_a_corrupt_checkpoint_is_refused_and_nothing_is_touched(run_dir, corrupt,
                                                                monkeypatch):
    monkeypatch.chdir(run_dir)  # where the pickle payload would write its marker
    last = run_dir / "ckpt" / "last.safetensors"
    good = last.read_bytes()
    rng = np.random.default_rng(7)
    variants = corrupt(good, rng)
    assert variants and all(v != good for v in variants)
    for bad in variants:
        last.write_bytes(bad)
        t = _trainer()
        untouched = Untouched(t, run_dir)
        with pytest.raises(CheckpointError, match=re.escape(
                f"fit: cannot resume: load: {last} ")):
            t.fit(_data(), epochs=4, batch_size=10, verbose=0,
                  callbacks=_callbacks(run_dir), resume_from=last)
        untouched.check()
    assert not (run_dir / "PWNED").exists()


def test_messages_say_what_is_wrong_with_the_file(run_dir):
    last = run_dir / "ckpt" / "last.safetensors"
    good = last.read_bytes()
    cases = [
        (good[: len(good) // 2], "is truncated or not a safetensors file: its header "
         "claims"),
        (good[:-1], "is truncated: its header describes"),
        (good[:-1] + bytes([good[-1] ^ 1]), "is corrupted: its checksum does not "
         "match its content"),
        (b"", "is empty, not a checkpoint"),
        (pickle.dumps({"a": 1}), "is a pickle file; chainrule never unpickles"),
    ]
    for data, message in cases:
        last.write_bytes(data)
        with pytest.raises(CheckpointError, match=re.escape(f"{last} {message}")):
            _trainer().fit(_data(), epochs=3, verbose=0, resume_from=last)


# -- checkpoints that do not fit the model ---------------------------------------------
def test_a_checkpoint_that_does_not_fit_lists_every_mismatch(run_dir):
    # Saved: 0 = Linear(5, 8), 2 = Linear(8, 2).  This model: 0 = Linear(5, 16),
    # 3 = Linear(16, 2): 0.* change shape, 2.* are unexpected, 3.* are missing.
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(16, 2))
    t = _trainer(model)
    untouched = Untouched(t, run_dir)
    last = run_dir / "ckpt" / "last.safetensors"
    with pytest.raises(CheckpointError) as info:
        t.fit(_data(), epochs=4, verbose=0, callbacks=_callbacks(run_dir),
              resume_from=last)
    assert str(info.value) == (
        f"fit: cannot resume from {last}: its tensors do not match the model "
        "(Sequential):\n"
        "\tmissing from the checkpoint: 3.weight, 3.bias\n"
        "\tnot in the model: 2.weight, 2.bias\n"
        "\t0.weight: [8, 5] float32 in the checkpoint, [16, 5] float32 in the model\n"
        "\t0.bias: [8] float32 in the checkpoint, [16] float32 in the model")
    untouched.check()


def test_a_checkpoint_of_another_dtype_is_refused(run_dir):
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2)).double()
    t = _trainer(model)
    with pytest.raises(CheckpointError, match=re.escape(
            "\t0.weight: [8, 5] float32 in the checkpoint, [8, 5] float64 in the "
            "model")):
        t.fit((_data()[0].double(), _data()[1]), epochs=4, verbose=0,
              resume_from=run_dir / "ckpt" / "last.safetensors")


def test_loading_mismatched_weights_into_a_model_lists_every_mismatch(run_dir):
    """The plain-PyTorch route: model.load_state_dict(chainrule.load(path))."""
    weights = cr.load(run_dir / "ckpt" / "best.safetensors")
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2),
                          nn.Linear(2, 2))
    before = [p.detach().numpy().copy() for p in model.parameters()]
    with pytest.raises(ShapeError) as info:
        model.load_state_dict(weights)
    msg = str(info.value)
    for part in ['Missing key(s) in state_dict: "3.weight", "3.bias"',
                 "size mismatch for 0.weight: copying a param with shape [8, 5]",
                 "the shape in current model is [16, 5]",
                 "size mismatch for 2.weight"]:
        assert part in msg
    assert all(np.array_equal(a, p.detach().numpy())
               for a, p in zip(before, model.parameters()))


# -- bad training data -----------------------------------------------------------------
def _with(tensor, index, value):
    out = tensor.clone()
    out[index] = value
    return out


X, Y = _data()
BAD_DATA = {
    "nan inputs": (
        dict(train=(_with(X, (13, 2), float("nan")), Y)), ArgumentError,
        "fit: the training inputs (shape [40, 5]) contain 1 NaN value(s), the first "
        "in sample 13"),
    "inf inputs": (
        dict(train=(_with(_with(X, (30, 0), float("inf")), (31, 1), -float("inf")),
                    Y)), ArgumentError,
        "contain 2 infinite value(s), the first in sample 30"),
    "nan regression targets": (
        dict(train=(X, _with(X[:, :2], (4, 1), float("nan"))), loss="mse"),
        ArgumentError, "fit: the training targets (shape [40, 2]) contain 1 NaN"),
    "nan in validation data": (
        dict(train=(X, Y), validation_data=(_with(X[:8], (5, 0), float("nan")), Y[:8])),
        ArgumentError, "fit: the validation inputs (shape [8, 5]) contain 1 NaN"),
    "nan through a DataLoader": (
        dict(train=DataLoader(TensorDataset(_with(X, (39, 4), float("nan")), Y),
                              batch_size=8)),
        ArgumentError, "the first in sample 39"),
    "float targets for cross-entropy": (
        dict(train=(X, Y.float())), ShapeError,
        "fit: the training data does not fit the model and loss (checked on its "
        "first samples before training: inputs float32, targets float32): "
        "cross_entropy: a target of class probabilities (float) must have the "
        "input's shape"),
    "bool targets for cross-entropy": (
        dict(train=(X, Y > 0)), DTypeError,
        "cross_entropy: expected class indices of an integer dtype"),
    "integer inputs into Linear": (
        dict(train=((X * 10).long(), Y)), DTypeError,
        "(checked on its first samples before training: inputs int64, targets "
        "int64): in 0 (Linear): linear: input is int64, the layer's weight is "
        "float32: convert the input with `.float()`"),
    "class out of range late in the data": (
        dict(train=(X, _with(Y, 33, 2))), IndexOutOfRange,
        "fit: the training targets hold class 2 (sample 33; 1 target(s) out of "
        "range in all), but the model outputs scores for 2 classes"),
    "mismatched lengths": (
        dict(train=(X, Y[:35])), ShapeError,
        "fit: every tensor needs the same number of samples along its first "
        "dimension, got inputs [40, 5], targets [35]"),
    "wrong number of features": (
        dict(train=(X[:, :4], Y)), ShapeError,
        "Linear expects input of shape (*, in_features=5), got [2, 4]"),
    "validation data of the wrong width": (
        dict(train=(X, Y), validation_data=(X[:8, :3], Y[:8])), ShapeError,
        "fit: the validation data does not fit the model and loss"),
}


class Strings(Dataset):
    """A custom dataset whose samples are not tensors at all."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return cr.tensor([float(i)] * 5), "label"


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_training_data_fails_before_any_step_or_write(tmp_path, case):
    spec, error, message = BAD_DATA[case]
    spec = dict(spec)
    train = spec.pop("train")
    loss = spec.pop("loss", "cross_entropy")
    t = _trainer()
    if loss != "cross_entropy":
        t = Trainer(t.model, t.optimizer, loss)
    untouched = Untouched(t, tmp_path)
    batch = None if isinstance(train, DataLoader) else 8
    with pytest.raises(error, match=re.escape(message)):
        t.fit(train, epochs=3, batch_size=batch, verbose=0,
              callbacks=_callbacks(tmp_path), **spec)
    untouched.check()
    assert not (tmp_path / "log.csv").exists() and not (tmp_path / "ckpt").exists()


def test_samples_the_loss_cannot_use_fail_before_training(tmp_path):
    t = _trainer()
    untouched = Untouched(t, tmp_path)
    with pytest.raises(DTypeError, match=re.escape(
            "fit: the training data does not fit the model and loss (checked on its "
            "first samples before training: inputs float32, targets a list): ")):
        t.fit(DataLoader(Strings(), batch_size=4), epochs=2, verbose=0,
              callbacks=_callbacks(tmp_path))
    untouched.check()
    assert not (tmp_path / "log.csv").exists()


def test_the_data_check_uses_full_batches_when_the_loader_drops_partial_ones():
    """No false alarm: a model that only takes batches of 8 trains with
    drop_last=True, because the trial batch then has 8 samples too."""

    class FixedBatch(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5 * 8, 2 * 8)

        def forward(self, x):
            return self.fc(x.reshape(1, 40)).reshape(8, 2)

    t = _trainer(FixedBatch())
    t.fit(DataLoader(TensorDataset(*_data(44)), batch_size=8, drop_last=True),
          epochs=1, verbose=0)
    assert t.global_step == 5
