"""The training run that ``test_kill.py`` kills and resumes.

Run as ``python tests/_kill_worker.py DIR [resume]``: trains a small model
for ``EPOCHS`` short epochs (two steps each) with every stateful piece the
Trainer has -- dropout, a shuffling generator of its own, Adam, a StepLR
schedule, ReduceLROnPlateau, EarlyStopping with best weights, CSVLogger and
ModelCheckpoint writing the best weights and a full ``last`` state every
epoch -- and writes the end state to ``DIR/final.safetensors``.  With
``resume`` it continues from ``DIR/ckpt/last.safetensors`` when that exists.
It prints ``ready`` once imports and setup are done, so that the parent
times its kill from the moment training starts.

Environment:

- ``KILL_WORKER_SLOW_SAVE=<seconds>``: sleep that long inside every save,
  after the temporary file is complete and before it is renamed over the
  target, so that random kills often land mid-save.
- ``KILL_WORKER_DIE_AT=<n>``: SIGKILL itself inside the n-th save of the
  ``last`` checkpoint (that of epoch n), at the same point: the temporary
  file written, the target not yet replaced.
"""
import os
import signal
import sys
import time
from pathlib import Path

import chainrule as cr
from chainrule import nn, optim
from chainrule.train import (
    CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
    ReduceLROnPlateau, Trainer,
)

EPOCHS = 30


def build(directory):
    """(trainer, fit keyword arguments) for a run writing into ``directory``."""
    directory = Path(directory)
    data_gen = cr.Generator().manual_seed(3)
    X = cr.randn(48, 6, generator=data_gen)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).long() + (X[:, 3] > 1.0).long()
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 24), nn.Tanh(), nn.Dropout(0.25),
                          nn.Linear(24, 3))
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)
    trainer = Trainer(model, opt, "cross_entropy", ["accuracy"],
                      generator=cr.Generator().manual_seed(7))
    callbacks = [
        LearningRateScheduler(sched),
        EarlyStopping(monitor="val_loss", min_delta=1e-3, patience=EPOCHS,
                      restore_best_weights=True),
        ReduceLROnPlateau(monitor="loss", factor=0.5, patience=3, min_delta=1e-3),
        CSVLogger(directory / "log.csv"),
        ModelCheckpoint(directory / "ckpt" / "best.safetensors", monitor="val_loss",
                        save_best_only=True, save_last=True),
    ]
    fit_kwargs = dict(epochs=EPOCHS, batch_size=18, validation_split=0.25,
                      callbacks=callbacks, verbose=0)
    return trainer, (X, y), fit_kwargs


def last_path(directory):
    return Path(directory) / "ckpt" / "last.safetensors"


def run(directory, resume):
    """Train (resuming if asked and a checkpoint exists); returns the trainer."""
    trainer, data, kwargs = build(directory)
    last = last_path(directory)
    if resume and last.exists():
        kwargs["resume_from"] = last
    trainer.fit(data, **kwargs)
    return trainer


def end_state(trainer):
    """What an interrupted run must reproduce exactly."""
    return {"model": trainer.model.state_dict(),
            "optimizer": trainer.optimizer.state_dict(),
            "history": trainer.history.state_dict(),
            "epoch": trainer.epoch, "global_step": trainer.global_step}


def _instrument_saves():
    """Slow down or die inside saves, as the environment asks (see above)."""
    slow = float(os.environ.get("KILL_WORKER_SLOW_SAVE", "0"))
    die_at = int(os.environ.get("KILL_WORKER_DIE_AT", "0"))
    if not (slow or die_at):
        return
    from chainrule.io import checkpoint

    replace, count = checkpoint.os.replace, [0]

    def replace_slowly(src, dst):
        count[0] += os.path.basename(dst) == last_path(".").name
        if die_at and count[0] == die_at:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(slow)
        replace(src, dst)

    # The module's os is the os module: patch only this process's copy of it.
    checkpoint.os.replace = replace_slowly


def main(argv):
    directory, resume = argv[0], argv[1:] == ["resume"]
    _instrument_saves()
    print("ready", flush=True)
    trainer = run(directory, resume)
    cr.save(end_state(trainer), Path(directory) / "final.safetensors")
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
