"""Helpers for the convolution, pooling and upsampling tests.

``compare_layer`` loads a torch module's state_dict into the chainrule
module of the same name and checks outputs, the input gradient and every
parameter gradient of ``sum(out * w)`` for a random ``w``.
"""
import warnings

import numpy as np
import torch

import chainrule as cr
from tests.oracle import assert_close

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
CR_DTYPE = {np.float32: cr.float32, np.float64: cr.float64}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def load_from_torch(m, tm, dtype):
    """Cast ``tm`` to ``dtype`` and load its state_dict into ``m`` (same keys)."""
    tm.to(TORCH_DTYPE[dtype])
    sd = tm.state_dict()
    assert list(m.state_dict()) == list(sd), "state_dict keys differ from PyTorch's"
    for k, v in m.state_dict().items():
        assert tuple(v.shape) == tuple(sd[k].shape), f"{k}: shape differs"
    m.load_state_dict({k: cr.tensor(v.numpy()) for k, v in sd.items()})
    m.to(CR_DTYPE[dtype])


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare_layer(m, tm, x, dtype, call=None, seed=0, tol=None):
    """Compare ``call(m, x)`` with ``call(tm, x)`` after loading tm's weights.

    ``x`` is an ndarray; integer outputs (pooling indices) must match exactly.
    Returns the chainrule outputs.
    """
    tol = tol or TOL[dtype]
    load_from_torch(m, tm, dtype)
    x = np.asarray(x, dtype)
    call = call or (lambda mod, inp: mod(inp))
    cx = cr.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    cout, tout = _outputs(call(m, cx)), _outputs(call(tm, tx))
    assert len(cout) == len(tout)
    rng = np.random.default_rng(seed)
    closs = tloss = 0
    for i, (c, t) in enumerate(zip(cout, tout)):
        assert tuple(c.shape) == tuple(t.shape), f"output {i}: shape {c.shape} vs " \
                                                 f"{tuple(t.shape)}"
        assert_close(c, t, what=f"output {i}", **tol)
        if t.dtype.is_floating_point:
            assert c.dtype == CR_DTYPE[dtype], f"output {i} dtype {c.dtype}"
            w = rng.standard_normal(t.shape).astype(dtype)
            closs = closs + (c * cr.tensor(w)).sum()
            tloss = tloss + (t * torch.tensor(w)).sum()
    closs.backward()
    tloss.backward()
    assert_close(cx.grad, tx.grad, what="input gradient", **tol)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        assert_close(p.grad, tparams[name].grad, what=f"gradient of {name}", **tol)
    return cout


def compare_fn(fn, tfn, arrays, dtype, seed=0, tol=None):
    """Functional version: ``fn(*tensors)`` vs ``tfn(*torch tensors)``, every
    array a leaf that requires grad."""
    tol = tol or TOL[dtype]
    cxs = [cr.tensor(np.asarray(a, dtype), requires_grad=True) for a in arrays]
    txs = [torch.tensor(np.asarray(a, dtype), requires_grad=True) for a in arrays]
    cout, tout = _outputs(fn(*cxs)), _outputs(tfn(*txs))
    rng = np.random.default_rng(seed)
    closs = tloss = 0
    for i, (c, t) in enumerate(zip(cout, tout)):
        assert_close(c, t, what=f"output {i}", **tol)
        if t.dtype.is_floating_point:
            w = rng.standard_normal(t.shape).astype(dtype)
            closs = closs + (c * cr.tensor(w)).sum()
            tloss = tloss + (t * torch.tensor(w)).sum()
    closs.backward()
    tloss.backward()
    for i, (c, t) in enumerate(zip(cxs, txs)):
        assert_close(c.grad, t.grad, what=f"gradient of input {i}", **tol)
    return cout


def compare_jvp(fn, tfn, arrays, seed=0, tol=None):
    """Forward mode: chainrule.func.jvp against torch.func.jvp in float64."""
    from chainrule import func

    tol = tol or TOL[np.float64]
    rng = np.random.default_rng(seed)
    prim = [np.asarray(a, np.float64) for a in arrays]
    tang = [rng.standard_normal(a.shape) for a in prim]
    _, ct = func.jvp(fn, tuple(cr.tensor(a) for a in prim),
                     tuple(cr.tensor(t) for t in tang))
    with warnings.catch_warnings():
        # torch.func's first use imports TorchScript, which warns on import.
        warnings.simplefilter("ignore", DeprecationWarning)
        _, tt = torch.func.jvp(tfn, tuple(torch.tensor(a) for a in prim),
                               tuple(torch.tensor(t) for t in tang))
    assert_close(ct, tt, what="jvp", **tol)


def compare_double_backward(fn, tfn, arrays, seed=0, tol=None):
    """Grad of (grad . v) w.r.t. the inputs, against torch, in float64."""
    tol = tol or TOL[np.float64]
    rng = np.random.default_rng(seed)
    prim = [np.asarray(a, np.float64) for a in arrays]
    cxs = [cr.tensor(a, requires_grad=True) for a in prim]
    txs = [torch.tensor(a, requires_grad=True) for a in prim]
    cy, ty = fn(*cxs), tfn(*txs)
    w = rng.standard_normal(tuple(ty.shape))
    cg = cr.autograd.grad((cy * cr.tensor(w)).sum(), cxs, create_graph=True)
    tg = torch.autograd.grad((ty * torch.tensor(w)).sum(), txs, create_graph=True)
    vs = [rng.standard_normal(a.shape) for a in prim]
    cs = sum((g * cr.tensor(v)).sum() for g, v in zip(cg, vs))
    ts = sum((g * torch.tensor(v)).sum() for g, v in zip(tg, vs))
    cgg = cr.autograd.grad(cs, cxs, allow_unused=True, materialize_grads=True)
    tgg = torch.autograd.grad(ts, txs, allow_unused=True, materialize_grads=True)
    for i, (a, b) in enumerate(zip(cgg, tgg)):
        assert_close(a, b, what=f"second-order gradient of input {i}", **tol)
