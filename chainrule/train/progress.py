"""Progress reporting for ``fit``: a live tqdm bar, or one plain line per epoch.

On a terminal (and with tqdm installed) each epoch gets a bar with the
running loss and metrics and an ETA.  Anywhere else (a log file, CI, a pipe)
each epoch prints exactly one line, with no carriage returns or other
control characters, once the epoch is over.
"""
import io
import os
import sys
import time

from .callbacks import Callback

_HIDDEN = ("lr", "batch_loss", "size")


def format_logs(logs):
    """``'loss: 0.1234 - accuracy: 0.9650'`` (learning rate left out)."""
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if k not in _HIDDEN)


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def _columns(out):
    """The terminal's width, 0 if unknown (some pseudo-terminals report 0)."""
    try:
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return 0


class ProgressBar(Callback):
    """Shows training progress; the Trainer adds one when ``verbose > 0``.

    ``verbose=1``: a tqdm bar per epoch when ``file`` is a terminal and tqdm
    is installed, else one line per epoch; ``verbose=2``: always one line
    per epoch.  ``file`` defaults to ``sys.stdout`` at the time of training.
    """

    def __init__(self, verbose=1, file=None):
        self.verbose = verbose
        self.file = file
        self._bar = None

    def _out(self):
        return self.file if self.file is not None else sys.stdout

    def on_train_begin(self, logs=None):
        out = self._out()
        tty = getattr(out, "isatty", lambda: False)()
        self._tqdm = _tqdm() if self.verbose == 1 and tty else None
        self._epochs = (self.params or {}).get("epochs")
        self._steps = (self.params or {}).get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._epoch = epoch
        if self._tqdm is not None:
            out = self._out()
            # Some pseudo-terminals report a 0x0 size, with which tqdm draws
            # nothing: then use a fixed size.
            width = ({"dynamic_ncols": True} if _columns(out)
                     else {"ncols": 110, "nrows": 24})
            self._bar = self._tqdm(total=self._steps, desc=self._title(epoch),
                                   file=out, unit="batch", leave=True, **width)

    def _title(self, epoch):
        total = f"/{self._epochs}" if self._epochs else ""
        return f"Epoch {epoch + 1}{total}"

    def on_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        text = format_logs(logs)
        if self._bar is not None:
            # The bar keeps the training figures; validation ones get their own
            # line so that a narrow terminal does not cut them off.
            train = {k: v for k, v in logs.items() if not k.startswith("val_")}
            val = {k: v for k, v in logs.items() if k.startswith("val_")}
            self._bar.set_postfix_str(format_logs(train), refresh=False)
            self._bar.close()
            self._bar = None
            if val:
                print("  " + format_logs(val), file=self._out(), flush=True)
            return
        seconds = time.perf_counter() - self._t0
        print(f"{self._title(epoch)} - {seconds:.1f}s - {text}", file=self._out(),
              flush=True)

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
