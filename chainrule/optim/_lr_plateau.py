"""``ReduceLROnPlateau``: cut the learning rate when a metric stops improving."""
import math

from ..errors import ArgumentError
from ._lr_base import LRScheduler, check_number, check_optimizer, per_group


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` after ``patience`` steps without improvement.

    ``step(metric)`` is called with a validation metric (a number or a
    one-element tensor).  An improvement on the best value so far means, for
    ``mode='min'`` and ``threshold_mode='rel'``, ``metric < best * (1 -
    threshold)``; 'abs' uses ``best - threshold``, and ``mode='max'`` mirrors
    both.  After a reduction ``cooldown`` steps pass before bad steps count
    again.  Rates never go below ``min_lr``, and a reduction smaller than
    ``eps`` is skipped.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        check_optimizer(self, optimizer)
        check_number(self, "factor", factor, 0, 1, hi_open=True)
        check_number(self, "patience", patience, 0, integer=True)
        check_number(self, "threshold", threshold, 0)
        check_number(self, "cooldown", cooldown, 0, integer=True)
        check_number(self, "eps", eps, 0)
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = per_group(self, "min_lr", optimizer, min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        for m in self.min_lrs:
            check_number(self, "min_lr", m, 0)
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ArgumentError(f"ReduceLROnPlateau: invalid mode {mode!r}; use 'min' "
                                "or 'max'")
        if threshold_mode not in ("rel", "abs"):
            raise ArgumentError(f"ReduceLROnPlateau: invalid threshold_mode "
                                f"{threshold_mode!r}; use 'rel' or 'abs'")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode

    def is_better(self, a, best):
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if rel else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if rel else best + self.threshold)

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def step(self, metrics, epoch=None):
        """Record one value of the monitored metric; maybe reduce the rates."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise ArgumentError(f"ReduceLROnPlateau.step: the metric must be a number "
                                f"or a one-element tensor, got {metrics!r}") from None
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps during cooldown don't count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):  # a group was added since
            if self.default_min_lr is None:
                raise ArgumentError(
                    f"ReduceLROnPlateau: the optimizer now has {len(groups)} parameter "
                    f"groups but min_lr lists {len(self.min_lrs)}; update "
                    "scheduler.min_lrs")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for g, floor in zip(groups, self.min_lrs):
            old = float(g["lr"])
            new = max(old * self.factor, floor)
            if old - new > self.eps:
                g["lr"] = new

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
