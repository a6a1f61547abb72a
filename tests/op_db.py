"""The op table: one :class:`~tests.op_db_base.Op` row per way of calling an op.

Rows live by family in ``tests/op_db_*.py``; this module gathers them and
holds the machinery that runs a row in both frameworks.  The oracle,
finite-difference and second-order tests (``test_ops_oracle.py``) and the
registry test (``test_ops_registry.py``) iterate over :data:`OPS`.
"""
import numpy as np
import torch

import chainrule as cr
import chainrule.nn  # noqa: F401  (rows call m.nn.functional, as torch.nn is)
from tests import (
    op_db_elementwise, op_db_index, op_db_linalg, op_db_reduce, op_db_shape,
)
from tests import op_db_special
from tests.op_db_base import Op, draw  # noqa: F401  (Op re-exported for rows)

OPS = (op_db_elementwise.ROWS + op_db_reduce.ROWS + op_db_shape.ROWS
       + op_db_index.ROWS + op_db_linalg.ROWS + op_db_special.ROWS)

_names = [op.name for op in OPS]
if len(set(_names)) != len(_names):
    raise ValueError("duplicate op rows: " + ", ".join(
        sorted({n for n in _names if _names.count(n) > 1})))


def flatten(out):
    """Nested tuples/lists/namedtuples of results as one flat list."""
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in flatten(o)]
    return [out]


def to_cr(arr, rg):
    return cr.tensor(arr, requires_grad=rg)


def to_torch(arr, rg):
    t = torch.from_numpy(np.array(arr))
    return t.requires_grad_(True) if rg else t


def materialize(op, sample, dtype, seed):
    """ndarrays and differentiability flags for one sample of a row."""
    rng = np.random.default_rng(seed)
    pairs = [draw(spec, dtype, op.domain, rng) for spec in sample]
    return [a for a, _ in pairs], [d for _, d in pairs]


def run(m, op, arrays, diff):
    """Call the row in framework ``m``: (input tensors, flat outputs)."""
    make = to_cr if m is cr else to_torch
    xs = [make(a, d) for a, d in zip(arrays, diff)]
    fn = op.fn if m is cr else op.ref
    return xs, flatten(fn(m, *xs))


def weights(outputs, seed):
    """A random cotangent per output that takes part in ``sum(out * w)``."""
    rng = np.random.default_rng(1000 + seed)
    return [rng.standard_normal(tuple(o.shape)).astype(np.asarray(o.detach()).dtype)
            if _differentiable(o) else None for o in outputs]


def _differentiable(o):
    return getattr(o, "requires_grad", False)


def weighted_sum(m, outputs, ws, rg=False):
    """``sum_i sum(out_i * w_i)`` in framework ``m`` (w's require grad if ``rg``)."""
    make = to_cr if m is cr else to_torch
    total, wts = None, []
    for o, w in zip(outputs, ws):
        if w is None:
            continue
        wt = make(w, rg)
        wts.append(wt)
        term = (o * wt).sum()
        total = term if total is None else total + term
    return total, wts


def grads(m, loss, inputs, create_graph=False):
    """d loss / d inputs with unused inputs as None (loss None: all None)."""
    if loss is None or not loss.requires_grad:
        return [None] * len(inputs)
    g = m.autograd.grad(loss, inputs, allow_unused=True, create_graph=create_graph)
    return list(g)
