"""Exact resume: a run interrupted after any epoch and resumed from its
checkpoint ends bit-identical to a run never interrupted.

Each test trains a reference run straight through, then a second run that
crashes (a callback raises) after some epoch, then resumes it in a freshly
built trainer -- deliberately seeded differently, so everything that
matters must come from the checkpoint -- and compares losses, parameters,
optimizer state, History, callbacks' state and files.
"""
import math
import re
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.io import CheckpointError
from chainrule.train import (
    Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
    ReduceLROnPlateau, Trainer,
)

EPOCHS = 6


class Crash(Exception):
    pass


class CrashAt(Callback):
    """Dies at the start of epoch ``epoch``, as a killed process would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Crash


class BatchLosses(Callback):
    def __init__(self):
        self.losses = []

    def on_batch_end(self, batch, logs=None):
        self.losses.append(logs["batch_loss"])


def _data(n=60, features=5):
    g = cr.Generator().manual_seed(11)
    X = cr.randn(n, features, generator=g)
    y = ((X[:, 0] * X[:, 1] + X[:, 2]) > 0).long() + (X[:, 3] > 0.8).long()
    return X, y


def _model():
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(16, 3))


def _scheduling(opt, kind):
    """The learning-rate callbacks of each configuration."""
    if kind == "step":
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return [LearningRateScheduler(sched),
                ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                  min_delta=0.05)]
    if kind == "plateau":
        sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
        return [LearningRateScheduler(sched, monitor="val_loss")]
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=5 * EPOCHS)
    return [LearningRateScheduler(sched, interval="batch")]


def _run(directory, seed=0, kind="step", crash_at=None, resume=False, epochs=EPOCHS):
    """One fit of the full configuration; returns (trainer, callbacks)."""
    directory = Path(directory)
    cr.manual_seed(seed)
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.02)
    trainer = Trainer(model, opt, "cross_entropy", ["accuracy"])
    cbs = _scheduling(opt, kind) + [
        EarlyStopping(monitor="val_loss", min_delta=0.01, patience=EPOCHS,
                      restore_best_weights=True),
        CSVLogger(directory / "log.csv"),
        ModelCheckpoint(directory / "best.safetensors", monitor="val_accuracy",
                        save_best_only=True, save_last=True),
        BatchLosses(),
    ]
    if crash_at is not None:
        cbs.append(CrashAt(crash_at))
    kwargs = {"resume_from": directory / "last.safetensors"} if resume else {}
    try:
        trainer.fit(_data(), epochs=epochs, batch_size=10, validation_split=0.2,
                    callbacks=cbs, verbose=0, **kwargs)
    except Crash:
        pass
    return trainer, cbs


def _params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def _assert_tree_equal(a, b, where="state"):
    """Same structure, same types and dtypes, same bits (NaN equals NaN)."""
    if isinstance(a, cr.Tensor):
        assert isinstance(b, cr.Tensor) and a.dtype == b.dtype, where
        assert np.array_equal(a.detach().numpy(), b.detach().numpy(), equal_nan=True), \
            where
    elif isinstance(a, dict):
        assert list(a) == list(b), (where, list(a), list(b))
        for k in a:
            _assert_tree_equal(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_tree_equal(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, (where, a, b)


def _same_params(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("kind", ["step", "plateau", "onecycle"])
@pytest.mark.parametrize("crash_at", [1, 4])
def test_resumed_run_is_bit_identical(tmp_path, kind, crash_at):
    ref, ref_cbs = _run(tmp_path / "ref", kind=kind)
    run = tmp_path / "run"
    crashed, _ = _run(run, kind=kind, crash_at=crash_at)
    assert crashed.epoch == crash_at
    resumed, cbs = _run(run, seed=99, kind=kind, resume=True)

    assert resumed.resumed and resumed.epoch == ref.epoch == EPOCHS
    assert resumed.global_step == ref.global_step == 5 * EPOCHS
    # The losses after the crash, batch by batch.
    tail = ref_cbs[-1].losses[5 * crash_at:]
    assert cbs[-1].losses == tail and len(tail) == 5 * (EPOCHS - crash_at)
    assert _same_params(_params(resumed.model), _params(ref.model))
    _assert_tree_equal(resumed.optimizer.state_dict(), ref.optimizer.state_dict())
    assert resumed.history.history == ref.history.history
    assert resumed.history.epoch == list(range(EPOCHS))
    # Every callback's own state, and the files they write.
    for mine, theirs in zip(cbs[:-1], ref_cbs[:-1], strict=True):
        state, ref_state = mine.state_dict(), theirs.state_dict()
        if isinstance(mine, (CSVLogger, ModelCheckpoint)):
            state = {k: v for k, v in state.items() if k != "last_saved"}
            ref_state = {k: v for k, v in ref_state.items() if k != "last_saved"}
        _assert_tree_equal(state, ref_state, type(mine).__name__)
    assert (run / "log.csv").read_bytes() == (tmp_path / "ref" / "log.csv").read_bytes()
    _assert_tree_equal(cr.load(run / "best.safetensors"),
                       cr.load(tmp_path / "ref" / "best.safetensors"))


def test_resuming_weights_alone_is_not_enough(tmp_path):
    """The control for the test above: loading only the model's weights (fresh
    optimizer, generators, callbacks) does change the outcome, so the
    comparisons there can fail."""
    ref, _ = _run(tmp_path / "ref")
    run = tmp_path / "run"
    _run(run, crash_at=3)
    weights = cr.load(run / "last.safetensors")["model"]
    cr.manual_seed(99)
    model = _model()
    model.load_state_dict(weights)
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.02),
                      "cross_entropy", ["accuracy"])
    trainer.fit(_data(), epochs=EPOCHS, batch_size=10, validation_split=0.2,
                initial_epoch=3, verbose=0)
    assert not _same_params(_params(model), _params(ref.model))


def test_resume_from_every_epoch_of_full_state_files(tmp_path):
    """ModelCheckpoint(save_weights_only=False) keeps one resumable file per
    epoch; resuming from any of them ends like the run that wrote them."""

    def run(seed, resume_from=None, directory=tmp_path / "ck"):
        cr.manual_seed(seed)
        model = _model()
        opt = optim.Adam(model.parameters(), lr=0.02)
        trainer = Trainer(model, opt, "cross_entropy", ["accuracy"])
        ck = ModelCheckpoint(directory / "e{epoch}.safetensors", monitor="val_loss",
                             save_weights_only=False)
        trainer.fit(_data(), epochs=EPOCHS, batch_size=10, validation_split=0.2,
                    callbacks=_scheduling(opt, "step") + [ck], verbose=0,
                    resume_from=resume_from)
        return trainer

    ref = run(0)
    files = sorted(p.name for p in (tmp_path / "ck").iterdir())
    assert files == sorted(f"e{i}.safetensors" for i in range(1, EPOCHS + 1))
    for epoch in (1, 3, 5):
        path = tmp_path / "ck" / f"e{epoch}.safetensors"
        state = cr.load(path)
        assert state["epoch"] == epoch and state["kind"] == "chainrule.training_state"
        resumed = run(7, resume_from=path, directory=tmp_path / f"again{epoch}")
        assert _same_params(_params(resumed.model), _params(ref.model))
        assert resumed.history.history == ref.history.history


def test_resume_from_an_in_memory_state_dict():
    X, y = _data()

    def build(seed):
        cr.manual_seed(seed)
        model = _model()
        return Trainer(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                       "cross_entropy")

    ref = build(0)
    ref.fit((X, y), epochs=4, batch_size=12, verbose=0)
    first = build(0)
    first.fit((X, y), epochs=2, batch_size=12, verbose=0)
    state = cr.load(_roundtrip(first.state_dict()))
    second = build(5)
    h = second.fit((X, y), epochs=4, batch_size=12, verbose=0, resume_from=state)
    assert _same_params(_params(second.model), _params(ref.model))
    assert h.history == ref.history.history and second.global_step == 20


def _roundtrip(obj):
    import io

    buf = io.BytesIO()
    cr.save(obj, buf)
    buf.seek(0)
    return buf


class NoisyLayer(nn.Module):
    """Adds noise from a generator of its own while training."""

    def __init__(self, seed):
        super().__init__()
        self.gen = cr.Generator().manual_seed(seed)

    def forward(self, x):
        if not self.training:
            return x
        return x + 0.1 * cr.randn(x.shape, generator=self.gen)


def test_resume_restores_every_generator_in_use(tmp_path):
    """A DataLoader with its own generator and a layer with its own generator:
    both are saved (by role) and restored."""
    X, y = _data()

    def run(seed, epochs, resume=False, crash_at=None):
        cr.manual_seed(seed)
        model = nn.Sequential(nn.Linear(5, 8), NoisyLayer(seed + 1), nn.Dropout(0.2),
                              nn.Linear(8, 3))
        trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.02),
                          "cross_entropy")
        loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True,
                            generator=cr.Generator().manual_seed(seed + 2))
        cbs = [ModelCheckpoint(tmp_path / "w.safetensors", monitor="loss",
                               save_last=True)]
        if crash_at is not None:
            cbs.append(CrashAt(crash_at))
        try:
            trainer.fit(loader, epochs=epochs, verbose=0, callbacks=cbs,
                        resume_from=tmp_path / "last.safetensors" if resume else None)
        except Crash:
            pass
        return trainer

    ref = run(0, 5)
    run(0, 5, crash_at=2)
    state = cr.load(tmp_path / "last.safetensors")
    assert sorted(state["rng"]) == ["default", "loader", "model:1.gen"]
    resumed = run(3, 5, resume=True)
    assert _same_params(_params(resumed.model), _params(ref.model))


def test_an_early_stopped_run_resumes_as_stopped(tmp_path):
    """The checkpoint written at the stopping epoch says so: resuming trains
    no further, and restore_best_weights still gives the best epoch's weights."""
    X, y = _data()

    def run(seed, resume=False):
        cr.manual_seed(seed)
        model = _model()
        trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.3),
                          "cross_entropy")
        es = EarlyStopping(monitor="val_loss", patience=1, min_delta=0.02,
                           restore_best_weights=True)
        ck = ModelCheckpoint(tmp_path / "w.safetensors", monitor="val_loss",
                             save_last=True)
        h = trainer.fit((X, y), epochs=40, batch_size=10, validation_split=0.2,
                        callbacks=[es, ck], verbose=0,
                        resume_from=tmp_path / "last.safetensors" if resume else None)
        return trainer, es, h

    ref, ref_es, ref_h = run(0)
    assert ref_es.stopped_epoch is not None and ref.epoch < 40  # it did stop early
    resumed, es, h = run(1, resume=True)
    assert resumed.epoch == ref.epoch and h.history == ref_h.history
    assert es.stopped_epoch == ref_es.stopped_epoch
    assert _same_params(_params(resumed.model), _params(ref.model))


# -- arguments and mismatches ----------------------------------------------------------
def _small(seed=0, opt="adam"):
    cr.manual_seed(seed)
    model = _model()
    o = (optim.Adam(model.parameters(), lr=0.01) if opt == "adam" else
         optim.SGD(model.parameters(), lr=0.01))
    return Trainer(model, o, "cross_entropy")


def _last_checkpoint(tmp_path, **kw):
    t = _small(**kw)
    t.fit(_data(), epochs=1, batch_size=20, verbose=0,
          callbacks=[ModelCheckpoint(tmp_path / "w.safetensors", monitor="loss",
                                     save_last=True)])
    return tmp_path / "last.safetensors"


def test_resume_argument_errors(tmp_path):
    t = _small()
    with pytest.raises(ValueError, match="fit: give resume_from or initial_epoch, "
                       "not both"):
        t.fit(_data(), epochs=2, resume_from=tmp_path / "x", initial_epoch=1)
    with pytest.raises(FileNotFoundError, match="fit: cannot resume: there is no "
                       "checkpoint file at .*nowhere.safetensors"):
        t.fit(_data(), epochs=2, resume_from=tmp_path / "nowhere.safetensors")
    with pytest.raises(ValueError, match="fit: resume_from must be a checkpoint path "
                       "or a dict from Trainer.state_dict\\(\\), got int"):
        t.fit(_data(), epochs=2, resume_from=3)
    with pytest.raises(ValueError, match="save_last=True puts last.safetensors in "
                       "filepath's directory, but 'ck/{epoch}' has fields"):
        ModelCheckpoint("ck/{epoch}/w.safetensors", save_last=True)
    with pytest.raises(ValueError, match="save_last must be a bool or a path, got int"):
        ModelCheckpoint("w.safetensors", save_last=1)
    with pytest.raises(ValueError, match="save_weights_only must be a bool"):
        ModelCheckpoint("w.safetensors", save_weights_only="no")


def test_resume_from_a_weights_only_file_says_what_to_do(tmp_path):
    t = _small()
    cr.save(t.model.state_dict(), tmp_path / "weights.safetensors")
    with pytest.raises(CheckpointError, match=re.escape(
            f"fit: cannot resume from {tmp_path / 'weights.safetensors'}: this is a "
            "model state_dict (weights only), not a full training state; load "
            "weights with model.load_state_dict(chainrule.load(path))")):
        t.fit(_data(), epochs=2, resume_from=tmp_path / "weights.safetensors")
    cr.save({"epoch": 3}, tmp_path / "other.safetensors")
    with pytest.raises(CheckpointError, match=re.escape(
            "not a training state from Trainer.state_dict() / ModelCheckpoint("
            "save_last=True) (got dict with keys ['epoch'])")):
        t.fit(_data(), epochs=2, resume_from=tmp_path / "other.safetensors")


def test_resume_with_another_optimizer_or_other_generators(tmp_path):
    path = _last_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="its optimizer state is from Adam, but "
                       "this trainer uses SGD"):
        _small(opt="sgd").fit(_data(), epochs=2, resume_from=path)
    t = _small()
    t.generator = cr.Generator().manual_seed(1)
    with pytest.raises(CheckpointError, match=re.escape(
            "it holds the random generators ['default'] but this run draws from "
            "['default', 'trainer']; build the Trainer and DataLoader with the same "
            "generator arguments")):
        t.fit(_data(), epochs=2, resume_from=path)


def test_a_newer_format_version_is_refused(tmp_path):
    t = _small()
    t.fit(_data(), epochs=1, batch_size=20, verbose=0)
    state = t.state_dict()
    state["version"] = 2
    with pytest.raises(CheckpointError, match="training-state version 2; this "
                       "chainrule reads version 1"):
        _small().fit(_data(), epochs=2, resume_from=state)


def test_trainer_load_state_dict_restores_in_place():
    t = _small()
    t.fit(_data(), epochs=2, batch_size=20, verbose=0)
    state = cr.load(_roundtrip(t.state_dict()))
    other = _small(seed=4)
    other.load_state_dict(state)
    assert _same_params(_params(other.model), _params(t.model))
    assert other.epoch == 2 and other.global_step == 6
    _assert_tree_equal(other.optimizer.state_dict(), t.optimizer.state_dict())


# -- the explicit loop, as docs/saving.md shows it -------------------------------------
DOC = Path(__file__).resolve().parent.parent / "docs" / "saving.md"


def _doc_blocks():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_docs_saving_examples_run(tmp_path, monkeypatch):
    """Every Python block of docs/saving.md runs as written, in order; the
    explicit-loop example's own assert checks bit-identical resume."""
    monkeypatch.chdir(tmp_path)
    blocks = _doc_blocks()
    assert len(blocks) >= 2
    namespace = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert "train" in namespace and Path("b.safetensors").exists()


def test_docs_explicit_loop_needs_every_piece(tmp_path, monkeypatch):
    """The control: drop any one restore line from the documented loop and its
    resumed run no longer matches the uninterrupted one."""
    monkeypatch.chdir(tmp_path)
    block = next(b for b in _doc_blocks() if "def load_checkpoint" in b)
    lines = [ln for ln in block.splitlines() if re.match(
        r"\s+(opt\.load_state_dict|sched\.load_state_dict|"
        r"loader\.generator\.set_state|cr\.set_rng_state)\(", ln)]
    assert len(lines) == 4, lines
    for i, line in enumerate(lines):
        broken = block.replace(line + "\n", "")
        namespace = {}
        with pytest.raises(AssertionError):
            exec(compile(broken.replace(".safetensors", f"{i}.safetensors"), str(DOC),
                         "exec"), namespace)
