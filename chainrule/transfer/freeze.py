"""Freezing: parameters that stop training (``requires_grad=False``).

Optimizers skip parameters without a gradient, so a frozen parameter may
stay in the optimizer and train again once unfrozen.
"""
from fnmatch import fnmatchcase

from ..errors import ArgumentError


def _select(module, pattern, who):
    """Names and Parameters of ``module`` matching ``pattern`` (a glob on the
    dotted name such as ``'features.*'`` or ``'*.bias'``, a list of globs,
    or None for all)."""
    if not hasattr(module, "named_parameters"):
        raise ArgumentError(f"{who}: expected an nn.Module, got "
                            f"{type(module).__name__}")
    if pattern is None:
        pats = ["*"]
    elif isinstance(pattern, str):
        pats = [pattern]
    elif isinstance(pattern, (list, tuple)) and all(isinstance(p, str)
                                                   for p in pattern):
        pats = list(pattern)
    else:
        raise ArgumentError(f"{who}: pattern must be None, a glob str or a list of "
                            f"them, got {pattern!r}")
    named = list(module.named_parameters())
    chosen = [(n, p) for n, p in named if any(fnmatchcase(n, q) for q in pats)]
    if not chosen:
        raise ArgumentError(f"{who}: pattern {pattern!r} matches no parameter of "
                            f"{type(module).__name__} (names: "
                            f"{', '.join(n for n, _ in named[:8])}"
                            f"{', ...' if len(named) > 8 else ''})")
    return chosen


def freeze(module, pattern=None):
    """Stop training the parameters of ``module`` whose dotted names match
    ``pattern`` (all when None); returns the frozen names."""
    chosen = _select(module, pattern, "freeze")
    for _, p in chosen:
        p.requires_grad_(False)
        p.grad = None
    return [n for n, _ in chosen]


def unfreeze(module, pattern=None):
    """Train the matching parameters again; returns their names."""
    chosen = _select(module, pattern, "unfreeze")
    for _, p in chosen:
        p.requires_grad_(True)
    return [n for n, _ in chosen]


def trainable(module):
    """Names of the parameters that train (``requires_grad``)."""
    return [n for n, p in module.named_parameters() if p.requires_grad]
