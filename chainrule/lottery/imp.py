"""Iterative magnitude pruning with weight rewinding (Frankle & Carbin, 2018).

The lottery-ticket procedure: train, prune a fraction of the smallest
remaining weights, *rewind* the surviving weights to their values at
initialisation (or at an early step, with :meth:`snapshot`), train again;
repeat.  The masks live in ``nn.utils.prune``'s ``<name>_mask`` buffers, so
pruned weights stay at zero during training.  The control experiment keeps
the masks but draws fresh random weights (:meth:`reinitialize`).
"""
import math

from ..autograd import no_grad
from ..errors import ArgumentError
from ..nn.utils import prune


def default_targets(model):
    """``(module, 'weight')`` of every Linear and Conv layer of ``model``."""
    out = []
    for m in model.modules():
        name = type(m).__name__
        if name == "Linear" or name.startswith("Conv"):
            out.append((m, "weight"))
    if not out:
        raise ArgumentError(f"IterativeMagnitudePruning: {type(model).__name__} has "
                            f"no Linear or Conv layer; pass parameters=[(module, "
                            f"'weight'), ...]")
    return out


class IterativeMagnitudePruning:
    """Prune ``model`` round by round and rewind it.

    ``parameters``: ``(module, name)`` pairs to prune (default: every Linear
    and Conv weight).  ``rate``: the fraction of the *remaining* weights
    pruned each round (0.2 in the paper's fully connected networks).
    ``scope``: 'global' (the smallest weights across all layers) or 'layer'
    (``rate`` of each layer).  ``structured``: prune whole slices along
    ``dim`` (output neurons/channels for 0) by their L``n`` norm, per layer.
    ``skip_last``: prune the output layer at half the rate, as the paper
    does.  The model's current weights are the rewind point (call
    :meth:`snapshot` later for late rewinding).
    """

    def __init__(self, model, parameters=None, *, rate=0.2, scope="global",
                 structured=False, n=1, dim=0, skip_last=True):
        if not 0 < rate < 1:
            raise ArgumentError(f"IterativeMagnitudePruning: rate must be in (0, 1), "
                                f"got {rate!r}")
        if scope not in ("global", "layer"):
            raise ArgumentError(f"IterativeMagnitudePruning: scope must be 'global' "
                                f"or 'layer', got {scope!r}")
        if structured and scope == "global":
            raise ArgumentError("IterativeMagnitudePruning: structured pruning is "
                                "per layer (channel norms of different layers are "
                                "not comparable); use scope='layer'")
        self.model = model
        self.targets = list(parameters) if parameters is not None else \
            default_targets(model)
        self.rate, self.scope, self.structured = rate, scope, structured
        self.n, self.dim, self.skip_last = n, dim, skip_last
        for module, name in self.targets:
            if not hasattr(module, name + "_mask"):
                prune.identity(module, name)
        self.snapshot()
        self.rounds = 0

    def snapshot(self):
        """Record the current weights as the rewind point."""
        with no_grad():
            self._rewind = {id(p): p.detach().clone() for p in self.model.parameters()}

    def rewind(self):
        """Put every parameter back to the rewind point; the masks stay."""
        with no_grad():
            for p in self.model.parameters():
                if id(p) not in self._rewind:
                    raise ArgumentError("IterativeMagnitudePruning.rewind: the model "
                                        "has a parameter added after the snapshot")
                p.copy_(self._rewind[id(p)])
        self._refresh()

    def _refresh(self):
        # The masked weight is recomputed by a hook before each forward; do it
        # now so that reading `module.weight` right away sees the new values.
        for m, n in self.targets:
            setattr(m, n, getattr(m, n + "_orig") * getattr(m, n + "_mask"))

    def reinitialize(self, fresh):
        """The control: copy the weights of ``fresh`` (the same architecture,
        newly initialised) into the model, keeping the masks."""
        theirs = dict(fresh.named_parameters())
        with no_grad():
            for name, p in self.model.named_parameters():
                key = name[:-5] if name.endswith("_orig") else name
                if key not in theirs or theirs[key].shape != p.shape:
                    raise ArgumentError(f"IterativeMagnitudePruning.reinitialize: "
                                        f"{type(fresh).__name__} has no parameter "
                                        f"{key!r} of shape {tuple(p.shape)}")
                p.copy_(theirs[key].detach())
        self._refresh()

    def _amounts(self):
        rates = [self.rate] * len(self.targets)
        if self.skip_last:
            rates[-1] = self.rate / 2
        return rates

    def prune(self):
        """Prune one round; returns the fraction of weights remaining."""
        self._refresh()  # the weights after the last optimizer step
        rates = self._amounts()
        if self.scope == "global" and not self.skip_last:
            kept = sum(int(getattr(m, n + "_mask").sum().item())
                       for m, n in self.targets)
            prune.global_unstructured(self.targets, prune.L1Unstructured,
                                      amount=round(self.rate * kept))
        elif self.scope == "global":
            body = self.targets[:-1] or self.targets
            kept = sum(int(getattr(m, n + "_mask").sum().item()) for m, n in body)
            prune.global_unstructured(body, prune.L1Unstructured,
                                      amount=round(self.rate * kept))
            if len(self.targets) > 1:
                self._prune_layer(*self.targets[-1], rates[-1])
        else:
            for (m, n), r in zip(self.targets, rates):
                self._prune_layer(m, n, r)
        self.rounds += 1
        return self.remaining()

    def _prune_layer(self, module, name, rate):
        mask = getattr(module, name + "_mask")
        if not self.structured:
            kept = int(mask.sum().item())
            prune.l1_unstructured(module, name, amount=round(rate * kept))
            return
        # ln_structured prunes `rate` of the slices still alive.
        dim = self.dim % mask.ndim
        others = tuple(d for d in range(mask.ndim) if d != dim)
        alive = int((mask.sum(dim=others) > 0).sum().item()) if others else \
            int(mask.sum().item())
        prune.ln_structured(module, name, amount=min(math.floor(rate * alive),
                                                     alive - 1),
                            n=self.n, dim=self.dim)

    def remaining(self):
        """Fraction of the pruned tensors' entries still kept."""
        kept = sum(getattr(m, n + "_mask").sum().item() for m, n in self.targets)
        total = sum(getattr(m, n + "_mask").numel() for m, n in self.targets)
        return kept / total

    def masks(self):
        """``{(module, name): mask}`` copies, to apply to another model."""
        return {(m, n): getattr(m, n + "_mask").clone() for m, n in self.targets}


def find_ticket(model, train, evaluate, *, rounds, rate=0.2, scope="global",
                structured=False, skip_last=True, on_round=None):
    """Run ``rounds`` of train, evaluate, prune, rewind; returns ``(imp,
    history)`` where history lists ``{'round', 'remaining', 'score'}`` (the
    score of the network trained at that density, round 0 dense).

    ``train(model)`` trains in place; ``evaluate(model) -> float``.
    ``on_round(imp, entry)`` runs after each trained round (e.g. to train the
    random-reinit control at the same mask).  The returned model holds the
    last mask, rewound and trained.
    """
    imp = IterativeMagnitudePruning(model, rate=rate, scope=scope,
                                    structured=structured, skip_last=skip_last)
    history = []
    for r in range(rounds + 1):
        if r:
            imp.prune()
            imp.rewind()
        train(model)
        entry = {"round": r, "remaining": imp.remaining(), "score": evaluate(model)}
        history.append(entry)
        if on_round is not None:
            on_round(imp, entry)
    return imp, history
