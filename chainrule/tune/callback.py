"""The Trainer callback that connects a training run to a search trial."""
from ..errors import ArgumentError
from ..train.callbacks import Callback
from .study import TrialPruned


class TuneCallback(Callback):
    """Report ``monitor`` (default ``'val_loss'``) to ``trial`` after every epoch
    (step = epoch number from 0) and end the trial, raising
    :class:`TrialPruned`, as soon as the search's pruner says so."""

    def __init__(self, trial, monitor="val_loss"):
        if not hasattr(trial, "report") or not hasattr(trial, "should_prune"):
            raise ArgumentError(f"TuneCallback: trial must be the trial passed to the "
                                f"objective, got {type(trial).__name__}")
        self.trial, self.monitor = trial, monitor

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ArgumentError(f"TuneCallback: monitor {self.monitor!r} is not in the "
                                f"epoch logs (available: {', '.join(sorted(logs))}); "
                                f"pass validation data to fit to get 'val_' entries")
        self.trial.report(float(logs[self.monitor]), epoch)
        if self.trial.should_prune():
            self.trainer.stop_training = True
            raise TrialPruned(f"pruned after epoch {epoch + 1}")
