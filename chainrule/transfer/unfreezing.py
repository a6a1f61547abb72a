"""Gradual unfreezing (ULMFiT) as a Trainer callback."""
from ..errors import ArgumentError
from ..train.callbacks import Callback
from .groups import resolve_groups


class GradualUnfreezing(Callback):
    """Train the last group only at first, then unfreeze one more group (from
    the head towards the input) every ``every`` epochs.

    ``groups``: submodule names or modules, input side first (default: the
    top-level children with parameters).  Put every group's parameters in
    the optimizer from the start (frozen ones have no gradient, so the
    optimizer skips them), e.g. with :func:`discriminative_groups`.
    ``unfrozen`` lists, per epoch, how many groups trained.
    """

    def __init__(self, groups=None, every=1):
        if not isinstance(every, int) or every < 1:
            raise ArgumentError(f"GradualUnfreezing: every must be an int >= 1, got "
                                f"{every!r}")
        self.groups, self.every = groups, every
        self.unfrozen = []

    def _set(self, n):
        mods = self._mods
        for i, m in enumerate(mods):
            on = i >= len(mods) - n
            for p in m.parameters():
                p.requires_grad_(on)
                if not on:
                    p.grad = None

    def on_train_begin(self, logs=None):
        self._mods = resolve_groups(self.model, self.groups, "GradualUnfreezing")

    def on_epoch_begin(self, epoch, logs=None):
        n = min(1 + epoch // self.every, len(self._mods))
        self._set(n)
        self.unfrozen.append(n)
