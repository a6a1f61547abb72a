"""Batching rules used by autobatch: those of :mod:`chainrule.batching`.

A rule is ``rule(inputs, dims, **params) -> (outs, out_dims)`` with ``dims``
per input the batch axis or None (shared by every node of the group).
Primitives without a rule (``chainrule.batching.FALLBACK``) run node by node.
"""
from ..batching import batch_rule
from ..batching.rules import front as _front  # noqa: F401  (used by _record)


def rule_for(prim):
    """The batching rule of ``prim``, or None (run the nodes one by one)."""
    return batch_rule(prim)
