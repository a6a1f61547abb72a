"""Gradients through broadcasting, on shapes hypothesis draws.

Each example draws mutually broadcastable shapes (0-d, size-1 and missing
leading dims included), fills them with random values, and compares the
forward value and every input's gradient of ``sum(out * w)`` with PyTorch in
float64.  The engine must sum each gradient back down to its input's shape.
"""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None)

BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "pow": lambda m, a, b: a.abs() ** b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "atan2": lambda m, a, b: m.atan2(a, b),
    "chain": lambda m, a, b: (a * b + a).exp() / (1 + b * b),
}
TERNARY = {
    "where": lambda m, c, a, b: m.where(c > 0, a, b),
    "lerp": lambda m, a, b, w: m.lerp(a, b, w),
    "clamp": lambda m, x, lo, hi: m.clamp(x, lo, lo + hi.abs()),
    "addcmul": lambda m, a, b, c: a + b * c - a * c,
}


def _values(shapes, seed):
    """Arrays away from 0 (division, atan2, |a| ** b) and from each other."""
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.uniform(0.5, 2.0, s) * rng.choice([-1.0, 1.0], s))
            for s in shapes]


def _compare(fn, arrays, seed):
    cx = [cr.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    c, t = fn(cr, *cx), fn(torch, *tx)
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-10)
    w = np.random.default_rng(seed + 1).standard_normal(tuple(t.shape))
    cg = cr.autograd.grad((c * cr.tensor(w)).sum(), cx, allow_unused=True,
                          materialize_grads=True)
    tg = torch.autograd.grad((t * torch.from_numpy(w)).sum(), tx, allow_unused=True,
                             materialize_grads=True)
    for i, (a, b) in enumerate(zip(cg, tg)):
        assert tuple(a.shape) == arrays[i].shape, f"gradient {i} has the wrong shape"
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"gradient of input {i}")


@SETTINGS
@given(name=st.sampled_from(sorted(BINARY)),
       shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                            max_side=3),
       seed=st.integers(0, 2**31))
def test_binary_broadcast_gradients(name, shapes, seed):
    _compare(BINARY[name], _values(shapes.input_shapes, seed), seed)


@SETTINGS
@given(name=st.sampled_from(sorted(TERNARY)),
       shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                            max_side=3),
       seed=st.integers(0, 2**31))
def test_ternary_broadcast_gradients(name, shapes, seed):
    shapes = shapes.input_shapes
    if name == "clamp":  # torch.clamp's output keeps the input's shape
        shapes = (np.broadcast_shapes(*shapes),) + shapes[1:]
    _compare(TERNARY[name], _values(shapes, seed), seed)


@SETTINGS
@given(batch=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                           max_side=3),
       n=st.integers(1, 3), k=st.integers(1, 3), p=st.integers(1, 3),
       seed=st.integers(0, 2**31))
def test_matmul_batch_broadcast_gradients(batch, n, k, p, seed):
    sa, sb = batch.input_shapes
    arrays = _values([sa + (n, k), sb + (k, p)], seed)
    _compare(lambda m, a, b: a @ b, arrays, seed)


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3,
                                            max_side=3),
       seed=st.integers(0, 2**31))
def test_reductions_of_broadcast_results(shapes, seed):
    """Broadcast, then reduce over the last dim with keepdim, then broadcast again."""
    def fn(m, a, b):
        s = (a * b).sum(-1, keepdim=True)
        return (s - (a + b).amax(-1, keepdim=True)) * a
    _compare(fn, _values(shapes.input_shapes, seed), seed)
