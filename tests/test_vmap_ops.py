"""``vmap`` of every op-table row (``tests/op_db.py``) against
``torch.func.vmap``: a batch of three samples per row, mapped at dim 0 and at
the last dim; rows torch cannot batch are skipped."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.func import vmap
from tests.op_db import OPS, draw, flatten
from tests.op_db_base import Const

B = 3

# Rows whose composite still reads array values outside the primitive table
# (the escapes listed in docs/architecture.md): under vmap they raise
# VmapError naming what they read instead of computing a wrong answer.
_RAW = "the composite reads array values outside the primitive table"
KNOWN = {**{n: _RAW for n in ("cummax", "cummin", "kthvalue", "median",
                               "median.ties", "max.dim", "max.dim_keepdim",
                               "min.dim", "min.dim_keepdim", "sort",
                               "sort.dim_desc", "sort.stable", "topk", "topk.k_all",
                               "topk.smallest")}}
_INPLACE = "in-place writes into a batched Tensor are not supported"


def _batch(op, seed, last):
    """Per argument: (chainrule value, torch value, in_dim)."""
    rng = np.random.default_rng(seed)
    out = []
    for spec in op.samples[0]:
        if isinstance(spec, Const):
            a = np.array(spec.value)
            out.append((cr.tensor(a), torch.from_numpy(a.copy()), None))
            continue
        a = np.stack([draw(spec, np.float64, op.domain, rng)[0] for _ in range(B)])
        d = 0
        if last:
            a = np.moveaxis(a, 0, -1).copy()
            d = a.ndim - 1
        out.append((cr.tensor(a), torch.from_numpy(a.copy()), d))
    return out


def _rows():
    return [pytest.param(op, last, id=f"{op.name}-{'last' if last else 'first'}")
            for op in OPS if np.float64 in op.dtypes for last in (False, True)]


@pytest.mark.parametrize("op,last", _rows())
def test_vmap_matches_torch(op, last):
    args = _batch(op, 0, last)
    dims = tuple(d for _, _, d in args)
    if all(d is None for d in dims):
        pytest.skip("no floating input to map over")
    try:
        expect = flatten(torch.func.vmap(lambda *xs: op.ref(torch, *xs), dims)(
            *[t for _, t, _ in args]))
    except Exception as e:  # torch cannot batch this row
        pytest.skip(f"torch.func.vmap: {type(e).__name__}")
    if op.name in KNOWN or op.name.startswith("setitem."):
        with pytest.raises(cr.ChainruleError):
            vmap(lambda *xs: op.fn(cr, *xs), dims)(*[c for c, _, _ in args])
        pytest.xfail(KNOWN.get(op.name, _INPLACE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a loop fallback is fine here
        got = flatten(vmap(lambda *xs: op.fn(cr, *xs), dims)(*[c for c, _, _ in args]))
    assert len(got) == len(expect)
    for g, e in zip(got, expect):
        if not isinstance(e, torch.Tensor):
            continue
        assert tuple(g.shape) == tuple(e.shape), op.name
        a, b = g.detach().numpy(), e.detach().numpy()
        if b.dtype.kind in "biu":
            np.testing.assert_array_equal(a, b, err_msg=op.name)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8, err_msg=op.name)
