"""Learning-rate schedules: ``chainrule.optim.lr_scheduler``, PyTorch's API.

Usage, one scheduler step per epoch (or per batch for the cyclic ones)::

    opt = chainrule.optim.SGD(model.parameters(), lr=0.1)
    sched = chainrule.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)      # calls opt.step()
        sched.step()

This module holds the decay schedules written as a factor on the previous
rate (``t`` is ``last_epoch``, ``lr0`` a group's ``initial_lr``); the cyclic
ones, ``ReduceLROnPlateau`` and the combinators live in sibling modules and
are re-exported here.
"""
import math
import types
from bisect import bisect_right
from collections import Counter

from ..errors import ArgumentError, DTypeError
from ._lr_base import LRScheduler, check_number, check_optimizer


class LambdaLR(LRScheduler):
    """``lr = lr0 * lr_lambda(t)``; one function, or one per parameter group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        check_optimizer(self, optimizer)
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(self, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas,
                                                            self.base_lrs)]

    def state_dict(self):
        """Plain functions aren't saved; callable objects save their ``__dict__``."""
        return _save_lambdas(self)

    def load_state_dict(self, state_dict):
        _load_lambdas(self, state_dict)


class MultiplicativeLR(LRScheduler):
    """``lr_t = lr_{t-1} * lr_lambda(t)`` for t >= 1."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        check_optimizer(self, optimizer)
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(self, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [g["lr"] * f(self.last_epoch)
                for f, g in zip(self.lr_lambdas, self.optimizer.param_groups)]

    state_dict = LambdaLR.state_dict
    load_state_dict = LambdaLR.load_state_dict


class StepLR(LRScheduler):
    """``lr = lr0 * gamma ** (t // step_size)``."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        check_number(self, "step_size", step_size, 1, integer=True)
        check_number(self, "gamma", gamma, 0)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [b * self.gamma ** (self.last_epoch // self.step_size)
                for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``lr = lr0 * gamma ** (number of milestones <= t)``; repeats count twice."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones)
        for m in milestones:
            check_number(self, "milestone", m, 0, integer=True)
        check_number(self, "gamma", gamma, 0)
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        ms = sorted(self.milestones.elements())
        return [b * self.gamma ** bisect_right(ms, self.last_epoch)
                for b in self.base_lrs]

    def state_dict(self):
        """Milestones are saved as a sorted list (a Counter has int keys)."""
        sd = super().state_dict()
        sd["milestones"] = sorted(self.milestones.elements())
        return sd

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        ms = self.milestones
        self.milestones = Counter(ms.elements() if isinstance(ms, Counter) else ms)


class ConstantLR(LRScheduler):
    """``lr = lr0 * factor`` for t < total_iters, then ``lr0``."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        check_number(self, "factor", factor, 0, 1, lo_open=True)
        check_number(self, "total_iters", total_iters, 0, integer=True)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        lrs = self._current_lrs()
        if self.last_epoch == 0:
            return [lr * self.factor for lr in lrs]
        if self.last_epoch != self.total_iters:
            return lrs
        return [lr * (1.0 / self.factor) for lr in lrs]

    def _get_closed_form_lr(self):
        done = self.last_epoch >= self.total_iters
        return [b * (self.factor + done * (1 - self.factor)) for b in self.base_lrs]


class LinearLR(LRScheduler):
    """Factor moving linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps: ``lr = lr0 * (s + (e - s) * min(t, T) / T)``."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        check_number(self, "start_factor", start_factor, 0, 1, lo_open=True)
        check_number(self, "end_factor", end_factor, 0, 1)
        check_number(self, "total_iters", total_iters, 1, integer=True)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        lrs = self._current_lrs()
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in lrs]
        if self._is_initial or self.last_epoch > self.total_iters:
            return lrs
        s, e, t = self.start_factor, self.end_factor, self.last_epoch
        ratio = 1.0 + (e - s) / (self.total_iters * s + (t - 1) * (e - s))
        return [lr * ratio for lr in lrs]

    def _get_closed_form_lr(self):
        s, e = self.start_factor, self.end_factor
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [b * (s + (e - s) * frac) for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``lr = lr0 * gamma ** t``."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        check_number(self, "gamma", gamma, 0)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class InverseTimeLR(LRScheduler):
    """``lr = lr0 / (1 + gamma * t)``: the classic 1/t decay of SGD theory."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        check_number(self, "gamma", gamma, 0)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t = self.last_epoch
        if self._is_initial or t == 0:
            return self._current_lrs()
        ratio = (1 + self.gamma * (t - 1)) / (1 + self.gamma * t)
        return [lr * ratio for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [b / (1 + self.gamma * self.last_epoch) for b in self.base_lrs]


class PolynomialLR(LRScheduler):
    """``lr = lr0 * (1 - min(t, total_iters) / total_iters) ** power``."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        check_number(self, "total_iters", total_iters, 1, integer=True)
        check_number(self, "power", power, 0)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, n = self.last_epoch, self.total_iters
        if self._is_initial or t > n:
            return self._current_lrs()
        factor = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [b * (1.0 - frac) ** self.power for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from ``lr0`` to ``eta_min`` over ``T_max`` steps.

    Closed form ``eta_min + (lr0 - eta_min) * (1 + cos(pi t / T_max)) / 2``
    (continuing as a cosine wave past ``T_max``); like PyTorch it is applied
    recursively, as a ratio of consecutive values, so that it composes with
    other schedulers acting on the same optimizer.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        check_number(self, "T_max", T_max, 0, lo_open=True)
        check_number(self, "eta_min", eta_min, 0)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # resumed at last_epoch=t
            return [lo + (b - lo) * (1 + math.cos(t * math.pi / T)) / 2
                    for b in self.base_lrs]
        groups = self.optimizer.param_groups
        if (t - 1 - T) % (2 * T) == 0:  # leaving the trough: the ratio is 0/0
            return [g["lr"] + (b - lo) * (1 - math.cos(math.pi / T)) / 2
                    for b, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (g["lr"] - lo) + lo for g in groups]

    def _get_closed_form_lr(self):
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


def _lambdas(sched, optimizer, lr_lambda):
    n = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != n:
            raise ArgumentError(f"{type(sched).__name__}: got {len(lr_lambda)} "
                                f"lr_lambdas for {n} parameter groups")
        fns = list(lr_lambda)
    else:
        fns = [lr_lambda] * n
    for f in fns:
        if not callable(f):
            raise DTypeError(f"{type(sched).__name__}: lr_lambda must be a function "
                             f"of the step count, got {type(f).__name__}")
    return fns


def _save_lambdas(sched):
    sd = {k: v for k, v in sched.__dict__.items()
          if k not in ("optimizer", "lr_lambdas")}
    sd["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(f.__dict__)
                        for f in sched.lr_lambdas]
    return sd


def _load_lambdas(sched, state_dict):
    state_dict = dict(state_dict)
    saved = state_dict.pop("lr_lambdas", None) or []
    sched.__dict__.update(state_dict)
    for f, d in zip(sched.lr_lambdas, saved):
        if d is not None:
            f.__dict__.update(d)


from ._lr_compose import ChainedScheduler, SequentialLR  # noqa: E402
from ._lr_cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR  # noqa: E402
from ._lr_plateau import ReduceLROnPlateau  # noqa: E402

_LRScheduler = LRScheduler

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR",
           "ConstantLR", "LinearLR", "ExponentialLR", "InverseTimeLR", "PolynomialLR",
           "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR",
           "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"]
