"""Lottery tickets: iterative magnitude pruning with weight rewinding on top of
``chainrule.nn.utils.prune``.  See ``docs/transfer.md``."""
from .imp import IterativeMagnitudePruning, default_targets, find_ticket

__all__ = ["IterativeMagnitudePruning", "default_targets", "find_ticket"]
