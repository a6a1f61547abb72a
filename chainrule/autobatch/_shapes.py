"""Output shapes of a recorded call, without computing it.

``ops._core.abstract_eval`` answers for the primitives that declare a rule.
For the others (matmul, sum, getitem, cat, split_copy, ... are still pending
in the table) the primitive's forward runs once on zero-filled stand-ins of
the lazy operands and the answer is cached per signature.  That is safe only
when the output shape cannot depend on the operands' values: so only for
floating-point lazy operands and never for the primitives listed in
:data:`VALUE_SHAPED` or those that draw random numbers.  Where no answer is
safe, :func:`output_avals` returns None and the recorder evaluates the call.
"""
import numpy as np

from ..ops._core import abstract_eval, abstract_rule

VALUE_SHAPED = frozenset({
    "nonzero", "rand", "randn", "randint", "randperm", "poisson",
    "standard_gamma", "custom_function", "hook_identity", "all_gather",
    "all_reduce", "reduce_scatter", "start_all_reduce", "wait_collective",
})
"""Primitives whose output shape depends on values, that draw random numbers,
or that have effects beyond their result: never run on stand-ins."""


def output_avals(prim, inputs, avals, params):
    """A tuple of ``(shape, dtype)`` per output, or None if not known safely.

    ``inputs``: the operands (lazy ones are described by ``avals`` only).
    """
    if abstract_rule(prim) is not None:
        try:
            return abstract_eval(prim, avals, params)
        except Exception:  # noqa: BLE001 -- let eager evaluation raise the error
            return None
    if prim.name in VALUE_SHAPED or prim.mutates:
        return None
    arrays = []
    for t, (shape, dtype) in zip(inputs, avals):
        if t is None:  # a lazy operand
            if dtype.kind != "f":
                return None
            arrays.append(np.zeros(shape, dtype))
        else:
            arrays.append(t._data)
    try:
        with np.errstate(all="ignore"):
            out = prim.forward(*arrays, **params)
    except Exception:  # noqa: BLE001 -- evaluated for real, errors surface there
        return None
    outs = (out,) if prim.n_out == 1 else tuple(out)
    return tuple((np.shape(o), np.asarray(o).dtype) for o in outs)
