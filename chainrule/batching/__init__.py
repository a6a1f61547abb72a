"""Batching: ``vmap`` and the batching rules of the primitive table.

``batch_rule(prim)`` returns the rule that runs primitive ``prim`` on a
whole batch (``rules.py`` states the calling convention), or None for the
few primitives in :data:`FALLBACK`, which run once per example.  ``vmap``
(``vmap.py``) is the interpreter that applies the rules;
``chainrule.func.vmap`` is this one.  See ``docs/batching.md``.
"""
from ._batched import BatchedData, VmapError, is_batched  # noqa: F401
from .rules import FALLBACK, RANDOM, RULES, batch_rule, loop  # noqa: F401
from .vmap import VmapLevel, vmap  # noqa: F401

__all__ = ["batch_rule", "vmap", "FALLBACK", "RULES", "VmapError"]
