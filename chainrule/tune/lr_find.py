"""The learning-rate range test (Smith 2017; the fastai "LR finder").

Train for ``num_iter`` batches while the learning rate grows exponentially
from ``start_lr`` to ``end_lr``; record the loss, smoothed by an
exponential moving average with bias correction; stop once it exceeds
``diverge`` times its minimum.  The suggested rate is where the smoothed
loss falls fastest (the steepest negative slope against log lr), before
its minimum.  The model and optimizer are restored afterwards.
"""
import math

from ..errors import ArgumentError


class LRFinderResult:
    """``lrs``, ``losses`` (raw), ``smoothed``, ``suggestion`` (the steepest
    descent), ``min_lr`` (the smoothed minimum); ``plot(path)``."""

    def __init__(self, lrs, losses, smoothed):
        self.lrs, self.losses, self.smoothed = lrs, losses, smoothed
        i_min = min(range(len(smoothed)), key=smoothed.__getitem__)
        self.min_lr = lrs[i_min]
        best, self.suggestion = None, lrs[max(i_min - 1, 0)]
        for i in range(1, i_min + 1):
            slope = (smoothed[i] - smoothed[i - 1]) / (math.log(lrs[i]) -
                                                        math.log(lrs[i - 1]))
            if best is None or slope < best:
                best, self.suggestion = slope, lrs[i]

    def plot(self, path=None):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        ax.plot(self.lrs, self.losses, c="0.7", lw=0.8, label="loss")
        ax.plot(self.lrs, self.smoothed, c="tab:blue", label="smoothed")
        i = self.lrs.index(self.suggestion)
        ax.plot(self.suggestion, self.smoothed[i], "o", c="tab:red",
                label=f"suggested {self.suggestion:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        lo = min(self.smoothed)
        ax.set_ylim(lo - 0.1 * abs(lo), self.smoothed[0] * 1.5 + 1e-12)
        ax.set_title("learning-rate finder")
        ax.legend()
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=90)
            plt.close(fig)
        return fig

    def __repr__(self):
        return (f"LRFinderResult({len(self.lrs)} steps, suggestion "
                f"{self.suggestion:.3g}, min at {self.min_lr:.3g})")


def lr_find(model, loader, loss, optimizer=None, *, start_lr=1e-7, end_lr=10.0,
            num_iter=100, smooth=0.98, diverge=4.0):
    """Run the range test; returns an :class:`LRFinderResult`.

    ``loader`` yields ``(inputs, targets)`` batches (cycled if shorter than
    ``num_iter``); ``loss(outputs, targets) -> scalar Tensor``;
    ``optimizer``: an optimizer over the model's parameters (default SGD);
    its rate is overwritten during the test.  Model weights and optimizer
    state are put back afterwards, so the test leaves no trace.
    """
    from .. import optim

    if not (0 < start_lr < end_lr):
        raise ArgumentError(f"lr_find: need 0 < start_lr < end_lr, got start_lr="
                            f"{start_lr}, end_lr={end_lr}")
    if not isinstance(num_iter, int) or num_iter < 5:
        raise ArgumentError(f"lr_find: num_iter must be an int >= 5, got {num_iter!r}")
    if not 0 <= smooth < 1:
        raise ArgumentError(f"lr_find: smooth must be in [0, 1), got {smooth!r}")
    if optimizer is None:
        optimizer = optim.SGD(model.parameters(), lr=start_lr)
    model_state = {k: v.clone() for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    group_lrs = [g["lr"] for g in optimizer.param_groups]
    was_training = model.training
    gamma = (end_lr / start_lr) ** (1.0 / (num_iter - 1))
    lrs, losses, smoothed = [], [], []
    avg, best = 0.0, math.inf
    model.train()
    try:
        it = iter(loader)
        for i in range(num_iter):
            try:
                batch = next(it)
            except StopIteration:
                it = iter(loader)
                batch = next(it)
            x, y = batch
            lr = start_lr * gamma ** i
            for g in optimizer.param_groups:
                g["lr"] = lr
            optimizer.zero_grad()
            value = loss(model(x), y)
            value.backward()
            optimizer.step()
            v = value.item()
            if not math.isfinite(v):
                break
            avg = smooth * avg + (1 - smooth) * v
            s = avg / (1 - smooth ** (i + 1))
            lrs.append(lr)
            losses.append(v)
            smoothed.append(s)
            best = min(best, s)
            if s > diverge * best:
                break
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(opt_state)
        for g, lr in zip(optimizer.param_groups, group_lrs):
            g["lr"] = lr
        model.train(was_training)
    if len(lrs) < 3:
        raise ArgumentError(f"lr_find: the loss diverged after {len(lrs)} steps; "
                            f"lower start_lr (now {start_lr:g})")
    return LRFinderResult(lrs, losses, smoothed)
