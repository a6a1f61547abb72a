"""nn.Linear on inputs of any rank, and the error for an input whose dtype
is not the layer's (a float64 NumPy batch into a float32 model)."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.errors import DTypeError


def _graph_ops(t):
    seen, todo = set(), [t.grad_fn]
    while todo:
        node = todo.pop()
        if not hasattr(node, "next_functions") or id(node) in seen:
            continue
        seen.add(id(node))
        yield type(node).__name__
        todo.extend(fn for fn, _ in node.next_functions)


@pytest.mark.parametrize("shape", [(5, 3), (2, 5, 3), (2, 2, 5, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_any_rank_matches_torch(shape, bias):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(shape), rng.standard_normal((4, 3))
    b = rng.standard_normal(4)
    cx, cw = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    cb = cr.tensor(b, requires_grad=True) if bias else None
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    out = cr.nn.functional.linear(cx, cw, cb)
    ref = torch.nn.functional.linear(tx, tw, tb)
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    for c, t in [(cx, tx), (cw, tw)] + ([(cb, tb)] if bias else []):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-10)
    if len(shape) > 2:
        # One (N, in) x (in, out) product on the flattened input, not a batched
        # matmul by the transposed weight (that layout is slow under threads).
        assert "MatmulBackward" not in set(_graph_ops(out))


@pytest.mark.parametrize("x_dtype,model,advice", [
    (np.float64, "float", "convert the input with `.float()` or the model with "
     "`.double()`"),
    (np.float32, "double", "convert the input with `.double()` or the model with "
     "`.float()`"),
    (np.int64, "float", "convert the input with `.float()`"),
])
def test_dtype_mismatch_says_which_is_which_and_how_to_fix(x_dtype, model, advice):
    m = getattr(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), model)()
    x = cr.tensor(np.ones((4, 3), dtype=x_dtype))
    w = "float32" if model == "float" else "float64"
    got = np.dtype(x_dtype).name
    with pytest.raises(DTypeError) as info:
        m(x)
    assert (f"linear: input is {got}, the layer's weight is "
            f"{w}: {advice}") in str(info.value)
    x3 = cr.tensor(np.ones((2, 4, 3), dtype=x_dtype))
    with pytest.raises(DTypeError, match="the layer's weight is"):
        m(x3)


def test_numpy_batch_converted_with_float_runs():
    m = nn.Linear(3, 2)
    batch = np.random.default_rng(0).standard_normal((4, 3))  # float64
    assert m(cr.from_numpy(batch).float()).dtype == cr.float32
    assert m.double()(cr.from_numpy(batch)).dtype == cr.float64
