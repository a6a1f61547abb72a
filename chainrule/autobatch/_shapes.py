"""Output shapes of a recorded call, without computing it.

Every primitive declares an abstract-evaluation rule
(``ops._core.abstract_eval``).  The recorder still evaluates a call at once
(returning None here) when its output shape depends on values (the rule
raises), when it draws random numbers (so draws happen in the per-example
order) or when it has effects beyond its result (:data:`EAGER`).
"""
from ..ops._core import abstract_eval

EAGER = frozenset({
    "nonzero", "rand", "randn", "randint", "randperm", "poisson",
    "standard_gamma", "custom_function", "hook_identity", "all_gather",
    "all_reduce", "reduce_scatter", "start_all_reduce", "wait_collective",
})
"""Primitives evaluated when recorded, never lazily."""


def output_avals(prim, inputs, avals, params):
    """A tuple of ``(shape, dtype)`` per output, or None if not known safely.

    ``inputs``: the operands (lazy ones are described by ``avals`` only).
    """
    if prim.name in EAGER:
        return None
    try:
        return abstract_eval(prim, avals, params)
    except Exception:  # noqa: BLE001 -- evaluated for real, errors surface there
        return None
