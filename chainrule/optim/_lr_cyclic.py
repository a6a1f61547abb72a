"""Cyclic schedules: ``CyclicLR``, ``OneCycleLR`` and ``CosineAnnealingWarmRestarts``.

The first two are stepped once per batch and can cycle the momentum (or
Adam's ``beta1``) inversely to the learning rate.
"""
import math
import types

from ..errors import ArgumentError
from ._lr_base import LRScheduler, check_number, check_optimizer, per_group


def _momentum_key(sched, optimizer):
    """'betas' for Adam-like optimizers, 'momentum' for SGD-like ones."""
    if "betas" in optimizer.defaults:
        return True
    if "momentum" in optimizer.defaults:
        return False
    raise ArgumentError(f"{type(sched).__name__}: cycle_momentum=True needs an "
                        f"optimizer with momentum or betas; {type(optimizer).__name__}"
                        " has neither (pass cycle_momentum=False)")


def _set_momentum(group, use_beta1, value):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class CyclicLR(LRScheduler):
    """Cycle the rate between ``base_lr`` and ``max_lr`` (Smith, 2017).

    A cycle is ``step_size_up`` steps rising then ``step_size_down`` falling,
    linearly.  The amplitude is scaled by ``scale_fn``: 1 ('triangular'),
    halved every cycle ('triangular2'), or ``gamma ** t`` ('exp_range').  With
    ``cycle_momentum`` the momentum moves from ``max_momentum`` down to
    ``base_momentum`` as the rate rises.  Step once per batch.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000,
                 step_size_down=None, mode="triangular", gamma=1.0, scale_fn=None,
                 scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        check_optimizer(self, optimizer)
        self.optimizer = optimizer
        base_lrs = per_group(self, "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, g in zip(base_lrs, optimizer.param_groups):
                g["lr"] = lr
        self.max_lrs = per_group(self, "max_lr", optimizer, max_lr)
        check_number(self, "step_size_up", step_size_up, 0, lo_open=True)
        if step_size_down is not None:
            check_number(self, "step_size_down", step_size_down, 0, lo_open=True)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ArgumentError(f"CyclicLR: invalid mode {mode!r}; use 'triangular', "
                                "'triangular2' or 'exp_range', or pass scale_fn")
        if scale_mode not in ("cycle", "iterations"):
            raise ArgumentError(f"CyclicLR: invalid scale_mode {scale_mode!r}; use "
                                "'cycle' or 'iterations'")
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        if scale_fn is None:  # the built-in modes fix the scale mode
            self.scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_key(self, optimizer)
            self.base_momentums = per_group(self, "base_momentum", optimizer,
                                            base_momentum)
            self.max_momentums = per_group(self, "max_momentum", optimizer,
                                           max_momentum)
            if last_epoch == -1:
                for hi, lo, g in zip(self.max_momentums, self.base_momentums,
                                     optimizer.param_groups):
                    _set_momentum(g, self.use_beta1, hi)
                    g["max_momentum"], g["base_momentum"] = hi, lo
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x):
        """The amplitude factor at cycle (or iteration) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            frac = x / self.step_ratio
        else:
            frac = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [b + (m - b) * frac * scale for b, m in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for g, lo, hi in zip(self.optimizer.param_groups, self.base_momentums,
                                 self.max_momentums):
                _set_momentum(g, self.use_beta1, hi - (hi - lo) * frac * scale)
        return lrs

    def state_dict(self):
        """A custom ``scale_fn`` is saved only if it is a callable object."""
        sd = {k: v for k, v in self.__dict__.items()
              if k not in ("optimizer", "_scale_fn_custom")}
        fn = self._scale_fn_custom
        sd["_scale_fn_custom"] = (None if fn is None or isinstance(
            fn, types.FunctionType) else dict(fn.__dict__))
        return sd

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        fn = state_dict.pop("_scale_fn_custom", None)
        self.__dict__.update(state_dict)
        if fn is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(fn)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018); step once per batch.

    The rate rises from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of ``total_steps``, then anneals to
    ``initial_lr / final_div_factor`` (cosine or linear).  With
    ``three_phase`` it first comes back down to the initial rate
    symmetrically, and only then anneals.  Momentum (or ``beta1``) moves
    inversely between ``max_momentum`` and ``base_momentum``.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None,
                 steps_per_epoch=None, pct_start=0.3, anneal_strategy="cos",
                 cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        check_optimizer(self, optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            check_number(self, "total_steps", total_steps, 1, integer=True)
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            check_number(self, "epochs", epochs, 1, integer=True)
            check_number(self, "steps_per_epoch", steps_per_epoch, 1, integer=True)
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ArgumentError("OneCycleLR: pass total_steps, or both epochs and "
                                "steps_per_epoch")
        check_number(self, "pct_start", pct_start, 0, 1)
        if anneal_strategy not in ("cos", "linear"):
            raise ArgumentError(f"OneCycleLR: invalid anneal_strategy "
                                f"{anneal_strategy!r}; use 'cos' or 'linear'")
        check_number(self, "div_factor", div_factor, 0, lo_open=True)
        check_number(self, "final_div_factor", final_div_factor, 0, lo_open=True)
        self._anneal_func_type = anneal_strategy
        n = self.total_steps
        up = float(pct_start * n) - 1
        if three_phase:
            self._schedule_phases = [
                _phase(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(float(2 * pct_start * n) - 2, "max_lr", "initial_lr",
                       "base_momentum", "max_momentum"),
                _phase(n - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._schedule_phases = [
                _phase(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(n - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        max_lrs = per_group(self, "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for m, g in zip(max_lrs, optimizer.param_groups):
                g["initial_lr"] = m / div_factor
                g["max_lr"] = m
                g["min_lr"] = g["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_key(self, optimizer)
            his = per_group(self, "max_momentum", optimizer, max_momentum)
            los = per_group(self, "base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for hi, lo, g in zip(his, los, optimizer.param_groups):
                    _set_momentum(g, self.use_beta1, hi)
                    g["max_momentum"], g["base_momentum"] = hi, lo
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ArgumentError(f"OneCycleLR: stepped {step} times, but total_steps "
                                f"is {self.total_steps}")
        lrs = []
        last = len(self._schedule_phases) - 1
        for g in self.optimizer.param_groups:
            start = 0.0
            for i, ph in enumerate(self._schedule_phases):
                end = ph["end_step"]
                if step <= end or i == last:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(g[ph["start_lr"]], g[ph["end_lr"]], pct))
                    if self.cycle_momentum:
                        mom = self._anneal(g[ph["start_momentum"]],
                                           g[ph["end_momentum"]], pct)
                        _set_momentum(g, self.use_beta1, mom)
                    break
                start = end
        return lrs


def _phase(end_step, start_lr, end_lr, start_momentum, end_momentum):
    return dict(end_step=end_step, start_lr=start_lr, end_lr=end_lr,
                start_momentum=start_momentum, end_momentum=end_momentum)


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every ``T_i`` steps (SGDR, Loshchilov & Hutter).

    ``lr = eta_min + (lr0 - eta_min) * (1 + cos(pi T_cur / T_i)) / 2`` where
    ``T_cur`` counts steps since the last restart and the period starts at
    ``T_0`` and is multiplied by ``T_mult`` at each restart.  ``step(epoch)``
    accepts fractional epochs (for per-batch stepping).
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        check_number(self, "T_0", T_0, 1, integer=True)
        check_number(self, "T_mult", T_mult, 1, integer=True)
        check_number(self, "eta_min", eta_min, 0)
        self.T_0 = self.T_i = T_0
        self.T_mult, self.eta_min = T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        c = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]

    def step(self, epoch=None):
        """Advance one step, or jump to (possibly fractional) ``epoch``."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ArgumentError(f"CosineAnnealingWarmRestarts: epoch must be >= 0, "
                                    f"got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1,
                                     self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (
                        self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for g, lr in zip(self.optimizer.param_groups, self.get_lr()):
            g["lr"] = float(lr)
        self._last_lr = self._current_lrs()
