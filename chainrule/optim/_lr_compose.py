"""Combining schedulers: one after another (``SequentialLR``) or all at once
(``ChainedScheduler``)."""
from bisect import bisect_right

from ..errors import ArgumentError, DTypeError
from ._lr_base import LRScheduler, check_optimizer
from ._lr_plateau import ReduceLROnPlateau


def _check_members(owner, optimizer, schedulers):
    name = type(owner).__name__
    if len(schedulers) < 1:
        raise ArgumentError(f"{name}: expects at least one scheduler, got none")
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise DTypeError(f"{name}: schedulers[{i}] is a {type(s).__name__}, not "
                             "a learning-rate scheduler")
        if isinstance(s, ReduceLROnPlateau):
            raise ArgumentError(f"{name}: schedulers[{i}] is a ReduceLROnPlateau, "
                                "which needs a metric in step() and can't be combined")
        if s.optimizer is not optimizer:
            raise ArgumentError(f"{name}: schedulers[{i}] ({type(s).__name__}) "
                                "belongs to a different optimizer; all schedulers "
                                "must share one")


class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` from step ``milestones[i-1]`` on.

    At a milestone the next scheduler restarts at its own step 0 (from the
    groups' ``initial_lr``), e.g. a ``LinearLR`` warm-up for 5 steps then a
    ``CosineAnnealingLR``: ``SequentialLR(opt, [warm, cos], milestones=[5])``.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        check_optimizer(self, optimizer)
        schedulers = list(schedulers)
        _check_members(self, optimizer, schedulers)
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ArgumentError(
                f"SequentialLR: needs one milestone fewer than schedulers; got "
                f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        if milestones != sorted(milestones):
            raise ArgumentError(f"SequentialLR: milestones must be increasing, got "
                                f"{milestones}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # The members already took their first step when they were built; undo
        # that and restart the first one from the initial rates.
        for g in optimizer.param_groups:
            g["lr"] = g["initial_lr"]
        self._undo_step(self)
        first = self._schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_step(self, sched):
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo_step(s)
        else:
            sched.last_epoch -= 1

    def step(self):
        """Advance the scheduler whose phase this step falls in."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._update_lr(0)  # a new phase starts at its step 0
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()

    def state_dict(self):
        sd = {k: v for k, v in self.__dict__.items()
              if k not in ("optimizer", "_schedulers")}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        subs = state_dict.pop("_schedulers")
        self.__dict__.update(state_dict)
        for s, sd in zip(self._schedulers, subs):
            s.load_state_dict(sd)


class ChainedScheduler(LRScheduler):
    """Step every scheduler in ``schedulers`` at once; their factors multiply."""

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if schedulers and optimizer is None:
            optimizer = schedulers[0].optimizer
        _check_members(self, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self):
        for s in self._schedulers:
            s.step()
        self._last_lr = self._current_lrs()

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict
