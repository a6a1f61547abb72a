"""Callbacks: code that runs at fixed points of ``Trainer.fit`` (Keras's API).

A callback sees ``self.trainer`` (and ``self.model``), receives ``logs``
dicts of plain floats (``loss``, metrics, ``val_`` versions, ``lr``), and
stops training by setting ``self.trainer.stop_training = True``.  Epochs are
numbered from 0 in the hooks (as in Keras); file names and messages count
from 1.

Callbacks that keep state across epochs expose ``state_dict()`` /
``load_state_dict()`` so a checkpoint can carry them.  When ``fit`` resumes
from a checkpoint it loads those states before ``on_train_begin`` and sets
``trainer.resumed``, so that ``on_train_begin`` knows not to start afresh.
"""
import math
import os
import sys
from pathlib import Path

from ..errors import ArgumentError


class Callback:
    """Base class: override any of the ``on_*`` hooks."""

    trainer = None
    model = None
    params = None

    def set_trainer(self, trainer):
        self.trainer = trainer
        self.model = trainer.model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_complete(self, epoch, logs=None):
        """After every callback's ``on_epoch_end`` (the History's included):
        the training state is complete for the epoch, the moment to save it."""

    def state_dict(self):
        """This callback's progress (counters, best scores) as a plain dict."""
        return {}

    def load_state_dict(self, state):
        pass


class CallbackList(Callback):
    """Calls every hook on each callback, in order."""

    def __init__(self, callbacks=()):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise ArgumentError(f"fit: callbacks must be Callback instances, got "
                                    f"{type(cb).__name__}")

    def set_trainer(self, trainer):
        for cb in self.callbacks:
            cb.set_trainer(trainer)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def _call(self, name, *args):
        for cb in self.callbacks:
            getattr(cb, name)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs)

    def on_epoch_complete(self, epoch, logs=None):
        self._call("on_epoch_complete", epoch, logs)


class History(Callback):
    """Per-epoch logs: ``history.history['loss']`` is a list of floats.

    ``history.epoch`` lists the epoch numbers (from 0) in the same order.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))

    def state_dict(self):
        return {"history": {k: list(v) for k, v in self.history.items()},
                "epoch": list(self.epoch)}

    def load_state_dict(self, state):
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"History({len(self.epoch)} epochs: {keys})"


# -- monitoring a logged quantity ------------------------------------------------------
_MAX_HINTS = ("acc", "f1", "precision", "recall", "auc")


def _resolve_mode(mode, monitor, who):
    if mode not in ("auto", "min", "max"):
        raise ArgumentError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        base = monitor[4:] if monitor.startswith("val_") else monitor
        return "max" if any(h in base for h in _MAX_HINTS) else "min"
    return mode


def _monitored(logs, monitor, who):
    logs = logs or {}
    if monitor not in logs:
        hint = ("; pass validation_data or validation_split to fit, or monitor a "
                "training quantity" if monitor.startswith("val_") else "")
        raise ArgumentError(
            f"{who}: monitor {monitor!r} is not in the epoch logs (available: "
            f"{', '.join(sorted(logs)) or 'none'}){hint}")
    return float(logs[monitor])


class _Monitor:
    """Tracks the best value of ``monitor`` in ``mode`` with a ``min_delta`` margin."""

    def __init__(self, monitor, mode, min_delta, who):
        if not isinstance(monitor, str):
            raise ArgumentError(f"{who}: monitor must be a str, got {monitor!r}")
        if not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise ArgumentError(f"{who}: min_delta must be a number >= 0, got "
                                f"{min_delta!r}")
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, who)
        self.min_delta = float(min_delta)
        self.who = who

    def worst(self):
        return math.inf if self.mode == "min" else -math.inf

    def better(self, current, reference):
        if math.isnan(current):
            return False
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def value(self, logs):
        return _monitored(logs, self.monitor, self.who)


def _copy_state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    An improvement is a change by more than ``min_delta`` in the direction of
    ``mode`` ('min', 'max', or 'auto': 'max' for accuracy-like names).  With
    ``restore_best_weights`` the model gets the weights of its best epoch
    back when training ends (whether it stopped early or not).  ``baseline``:
    training stops unless the quantity beats it within ``patience`` epochs.
    Monitoring starts at epoch ``start_from_epoch``.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0,
                 mode="auto", baseline=None, restore_best_weights=False,
                 start_from_epoch=0):
        self._m = _Monitor(monitor, mode, min_delta, "EarlyStopping")
        if not isinstance(patience, int) or patience < 0:
            raise ArgumentError(f"EarlyStopping: patience must be an int >= 0, got "
                                f"{patience!r}")
        self.monitor, self.mode = monitor, self._m.mode
        self.min_delta, self.patience, self.verbose = min_delta, patience, verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = None
        self.best = self._m.worst() if self.baseline is None else float(self.baseline)
        self.best_epoch = None
        self.best_weights = None

    def on_train_begin(self, logs=None):
        if not getattr(self.trainer, "resumed", False):
            self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = self._m.value(logs)
        if epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self._m.better(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _copy_state(self.model)
            return
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping "
                  f"(best {self.monitor} {self.best:.4f} at epoch "
                  f"{(self.best_epoch or 0) + 1})")
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(f"Restored the weights of epoch {self.best_epoch + 1}")

    def state_dict(self):
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.wait, self.best = int(state["wait"]), float(state["best"])
        self.best_epoch = state["best_epoch"]
        self.stopped_epoch = state["stopped_epoch"]
        self.best_weights = state["best_weights"]


class ModelCheckpoint(Callback):
    """Save the model with ``chainrule.save`` after each epoch (atomically).

    ``filepath`` may contain ``{epoch}`` (counted from 1) and any log key,
    e.g. ``'ckpt/{epoch:02d}-{val_loss:.3f}.safetensors'``.  With
    ``save_best_only`` a file is written only when ``monitor`` improves, so
    the file at a fixed path always holds the best model so far.

    ``save_weights_only`` (default True) writes the model's ``state_dict``;
    False writes the full training state (``Trainer.state_dict()``: model,
    optimizer, generators, counters, History, callbacks) that ``fit(...,
    resume_from=path)`` continues from exactly.  ``save_last=True``
    additionally writes the full state after every epoch to ``last.safetensors``
    in ``filepath``'s directory (or give the path: ``save_last='run/last.st'``),
    replacing the previous one; this is the file to resume from after a crash.

    Full states are written after every callback has seen the epoch, so
    they include this epoch's History row and the other callbacks' updates.
    """

    rank_zero_only = True  # writes files: under DDP only rank 0 runs it

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=True, mode="auto", min_delta=0.0,
                 initial_value_threshold=None, *, save_last=False):
        if not isinstance(filepath, (str, os.PathLike)):
            raise ArgumentError(f"ModelCheckpoint: filepath must be a str or path, got "
                                f"{type(filepath).__name__}")
        if not isinstance(save_weights_only, bool):
            raise ArgumentError(f"ModelCheckpoint: save_weights_only must be a bool, "
                                f"got {save_weights_only!r}")
        self.filepath = os.fspath(filepath)
        self._m = _Monitor(monitor, mode, min_delta, "ModelCheckpoint")
        self.monitor, self.mode = monitor, self._m.mode
        self.verbose, self.save_best_only = verbose, save_best_only
        self.save_weights_only = save_weights_only
        self.last_path = self._last_path(save_last)
        self.initial = initial_value_threshold
        self.best = self._m.worst() if self.initial is None else float(self.initial)
        self.last_saved = None
        self._pending = None

    def _last_path(self, save_last):
        if save_last is False or save_last is None:
            return None
        if save_last is True:
            directory = os.path.dirname(self.filepath)
            if "{" in directory:
                raise ArgumentError(
                    f"ModelCheckpoint: save_last=True puts last.safetensors in "
                    f"filepath's directory, but {directory!r} has fields to fill in; "
                    "give the path instead: save_last='dir/last.safetensors'")
            return os.path.join(directory, "last.safetensors")
        if isinstance(save_last, (str, os.PathLike)):
            return os.fspath(save_last)
        raise ArgumentError(f"ModelCheckpoint: save_last must be a bool or a path, got "
                            f"{type(save_last).__name__}")

    def _path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **(logs or {}))
        except (KeyError, IndexError, ValueError) as e:
            raise ArgumentError(
                f"ModelCheckpoint: cannot fill in filepath {self.filepath!r}: {e!r}; "
                f"available fields: epoch, {', '.join(sorted(logs or {}))}") from None

    def on_epoch_end(self, epoch, logs=None):
        self._pending = None
        if self.save_best_only:
            current = self._m.value(logs)
            if not self._m.better(current, self.best):
                return
            self.best = current
        path = self._path(epoch, logs)
        self.last_saved = path
        if not self.save_weights_only:
            self._pending = path  # written in on_epoch_complete, state complete
            return
        from ..io import save

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        save(self.model.state_dict(), path)
        self._report(epoch, path)

    def on_epoch_complete(self, epoch, logs=None):
        for path in (self._pending, self.last_path):
            if path is not None:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self.trainer.save_checkpoint(path)
        if self._pending is not None:
            self._report(epoch, self._pending)
        self._pending = None

    def _report(self, epoch, path):
        if self.verbose:
            what = f" ({self.monitor} {self.best:.4f})" if self.save_best_only else ""
            print(f"Epoch {epoch + 1}: saved the model to {path}{what}")

    def state_dict(self):
        return {"best": self.best, "last_saved": self.last_saved}

    def load_state_dict(self, state):
        self.best = float(state["best"])
        self.last_saved = state["last_saved"]


def _set_lr(optimizer, lr):
    for g in optimizer.param_groups:
        g["lr"] = lr


def _is_plateau(scheduler):
    return any(c.__name__ == "ReduceLROnPlateau" for c in type(scheduler).__mro__)


class LearningRateScheduler(Callback):
    """Drive the learning rate from a ``chainrule.optim.lr_scheduler`` scheduler.

    ``schedule`` is a scheduler built on the trainer's optimizer (stepped once
    per epoch, or per batch with ``interval='batch'``; a
    ``ReduceLROnPlateau`` is stepped with the epoch's ``monitor`` value), or
    a function ``schedule(epoch, lr) -> new_lr`` applied at each epoch's
    start, as in Keras.
    """

    def __init__(self, schedule, verbose=0, interval="epoch", monitor="val_loss"):
        if interval not in ("epoch", "batch"):
            raise ArgumentError(f"LearningRateScheduler: interval must be 'epoch' or "
                                f"'batch', got {interval!r}")
        is_sched = hasattr(schedule, "step") and hasattr(schedule, "optimizer")
        if not is_sched and not callable(schedule):
            raise ArgumentError(
                "LearningRateScheduler: schedule must be an lr_scheduler (with "
                "step()) or a function (epoch, lr) -> lr, got "
                f"{type(schedule).__name__}")
        if is_sched and _is_plateau(schedule) and interval == "batch":
            raise ArgumentError("LearningRateScheduler: ReduceLROnPlateau steps once "
                                "per epoch; use interval='epoch'")
        self.schedule, self.verbose = schedule, verbose
        self.interval, self.monitor = interval, monitor
        self._is_sched = is_sched

    def on_train_begin(self, logs=None):
        if self._is_sched and self.schedule.optimizer is not self.trainer.optimizer:
            raise ArgumentError("LearningRateScheduler: the scheduler was built on a "
                                "different optimizer than the trainer's")

    def on_epoch_begin(self, epoch, logs=None):
        if self._is_sched:
            return
        opt = self.trainer.optimizer
        lr = self.schedule(epoch, opt.param_groups[0]["lr"])
        if not isinstance(lr, (int, float)) or not math.isfinite(lr):
            raise ArgumentError(f"LearningRateScheduler: the schedule function "
                                f"returned {lr!r}; it must return a finite float")
        _set_lr(opt, float(lr))
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {lr:.6g}")

    def on_batch_end(self, batch, logs=None):
        if self._is_sched and self.interval == "batch":
            self.schedule.step()

    def on_epoch_end(self, epoch, logs=None):
        if not self._is_sched or self.interval != "epoch":
            return
        if _is_plateau(self.schedule):
            self.schedule.step(_monitored(logs, self.monitor, "LearningRateScheduler"))
        else:
            self.schedule.step()

    def state_dict(self):
        return {"scheduler": self.schedule.state_dict()} if self._is_sched else {}

    def load_state_dict(self, state):
        if self._is_sched and "scheduler" in state:
            self.schedule.load_state_dict(state["scheduler"])


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls.

    After ``patience`` epochs without an improvement larger than
    ``min_delta``, every parameter group's lr becomes ``max(lr * factor,
    min_lr)``; then ``cooldown`` epochs pass before counting again.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0,
                 mode="auto", min_delta=1e-4, cooldown=0, min_lr=0.0):
        if not 0 < factor < 1:
            raise ArgumentError(f"ReduceLROnPlateau: factor must be in (0, 1), got "
                                f"{factor!r}")
        self._m = _Monitor(monitor, mode, min_delta, "ReduceLROnPlateau")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.verbose, self.cooldown, self.min_lr = verbose, cooldown, min_lr
        self.best, self.wait, self.cooldown_counter = self._m.worst(), 0, 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._m.value(logs)
        better = self._m.better(current, self.best)
        if better:
            self.best = current
        if self.cooldown_counter > 0:
            # Epochs right after a reduction neither count nor reduce again.
            self.cooldown_counter -= 1
            self.wait = 0
            return
        if better:
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            opt = self.trainer.optimizer
            for g in opt.param_groups:
                g["lr"] = max(g["lr"] * self.factor, self.min_lr)
            if self.verbose:
                print(f"Epoch {epoch + 1}: reducing learning rate to "
                      f"{opt.param_groups[0]['lr']:.6g}")
            self.cooldown_counter, self.wait = self.cooldown, 0

    def state_dict(self):
        return {"best": self.best, "wait": self.wait, "cooldown": self.cooldown_counter}

    def load_state_dict(self, state):
        self.best, self.wait = float(state["best"]), int(state["wait"])
        self.cooldown_counter = int(state["cooldown"])


class CSVLogger(Callback):
    """Append one row per epoch (``epoch`` then the log keys) to a CSV file.

    The file is flushed after every row, so it is complete up to the last
    finished epoch even if training dies.  Its state is the file's length
    after the last row: a run resumed from a checkpoint cuts the file back
    to the checkpoint's epoch (dropping rows a killed run wrote after it)
    and continues it, so the file ends as an uninterrupted run's would.
    """

    rank_zero_only = True  # writes files: under DDP only rank 0 runs it

    def __init__(self, filename, separator=",", append=False):
        self.filename = os.fspath(filename)
        self.sep, self.append = separator, append
        self._file = None
        self._keys = None
        self._size = None  # bytes written up to the last row, for resuming

    def on_train_begin(self, logs=None):
        Path(self.filename).parent.mkdir(parents=True, exist_ok=True)
        if getattr(self.trainer, "resumed", False) and self._size is not None:
            self._continue()
            return
        exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._keys = None
        if self.append and exists:
            with open(self.filename) as f:
                header = f.readline().strip()
            self._keys = header.split(self.sep)[1:] if header else None
        self._size = self._tell()

    def _continue(self):
        """Reopen after a resume: the rows up to the checkpoint, then ours."""
        try:
            current = os.path.getsize(self.filename)
        except OSError:
            current = -1
        if current >= self._size:
            os.truncate(self.filename, self._size)
            self._file = open(self.filename, "a", newline="")
        else:  # the file is gone or shorter than at the checkpoint: start over
            self._file = open(self.filename, "w", newline="")
            self._keys = None

    def _tell(self):
        return os.fstat(self._file.fileno()).st_size

    def on_epoch_end(self, epoch, logs=None):
        import csv

        logs = logs or {}
        writer = csv.writer(self._file, delimiter=self.sep, lineterminator="\n")
        if self._keys is None:
            self._keys = sorted(logs)
            writer.writerow(["epoch"] + self._keys)
        writer.writerow([epoch] + [repr(float(logs[k])) if k in logs else ""
                                   for k in self._keys])
        self._file.flush()
        self._size = self._tell()

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        """Close the file (``fit`` calls this also when training fails)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def state_dict(self):
        return {"size": self._size, "keys": self._keys}

    def load_state_dict(self, state):
        self._size = None if state["size"] is None else int(state["size"])
        self._keys = None if state["keys"] is None else [str(k) for k in state["keys"]]


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("batch_loss", logs.get("loss"))
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training",
                  file=sys.stderr)
            self.trainer.stop_training = True
            self.trainer.terminated_on_nan = True
