"""``LRScheduler``: the base of every learning-rate schedule.

A scheduler rewrites ``group['lr']`` (a Python float) of each parameter group
of its optimizer once per ``step()``.  Most schedules are *chainable*: the
new rate is computed from the group's current rate, so several schedulers
may act on one optimizer and their effects multiply.  ``base_lrs`` are the
groups' ``initial_lr`` (recorded on first use); ``last_epoch`` counts steps
(0 after construction).
"""
import numbers
import warnings

from ..errors import ArgumentError, DTypeError
from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` (and, where a formula in
    the step count exists, ``_get_closed_form_lr()``)."""

    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        check_optimizer(self, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise ArgumentError(
                        f"{type(self).__name__}: resuming with last_epoch="
                        f"{last_epoch} needs 'initial_lr' in param_groups[{i}]; load "
                        "the optimizer's state dict first, or use last_epoch=-1 for "
                        "a fresh run")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """Compute the rate for step 0 (construction counts as one step)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rates for ``last_epoch``; implemented by subclasses."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def get_last_lr(self):
        """The learning rate of each group as set by the last ``step()``."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance one step and write the new rates into the optimizer.

        Passing ``epoch`` is deprecated (as in PyTorch): it jumps to that step
        using the schedule's closed form where one exists.
        """
        if self._step_count == 1 and not self.optimizer._opt_called:
            warnings.warn(
                f"{type(self).__name__}.step() was called before optimizer.step(); "
                "call optimizer.step() first in each iteration, or the first value "
                "of the schedule is skipped", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(f"{type(self).__name__}.step(epoch) is deprecated; call "
                          "step() once per iteration", UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, values):
            g["lr"] = float(lr)
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def _current_lrs(self):
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        """Every attribute but the optimizer (and functions, which can't be saved)."""
        return {k: v for k, v in self.__dict__.items()
                if k != "optimizer" and not callable(v)}

    def load_state_dict(self, state_dict):
        """Restore attributes saved by :meth:`state_dict`."""
        if not isinstance(state_dict, dict):
            raise ArgumentError(f"{type(self).__name__}.load_state_dict: expected a "
                                f"dict, got {type(state_dict).__name__}")
        self.__dict__.update(state_dict)


def check_optimizer(sched, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise DTypeError(f"{type(sched).__name__}: expected a chainrule Optimizer, got "
                         f"{type(optimizer).__name__}")


def per_group(sched, name, optimizer, value):
    """One value per parameter group: a list of the right length, or broadcast."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ArgumentError(f"{type(sched).__name__}: {name} has {len(value)} "
                                f"values but the optimizer has {n} parameter groups")
        return list(value)
    return [value] * n


def check_number(sched, name, value, lo=None, hi=None, lo_open=False, hi_open=False,
                 integer=False):
    """Raise ArgumentError unless ``value`` is a number in the stated range."""
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool) and value == value
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value < hi if hi_open else value <= hi
    if not ok:
        lo_s = "-inf" if lo is None else repr(lo)
        hi_s = "inf" if hi is None else repr(hi)
        interval = (("(" if lo_open or lo is None else "[") + f"{lo_s}, {hi_s}" +
                    (")" if hi_open or hi is None else "]"))
        what = "an integer" if integer else "a number"
        raise ArgumentError(f"{type(sched).__name__}: invalid {name}: got {value!r}; "
                            f"it must be {what} in {interval}")
