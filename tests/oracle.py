"""Shared test helpers: PyTorch as the oracle, finite differences as a check.

``check_against_torch`` runs a chainrule function and a PyTorch function on
the same inputs and compares the outputs and the gradients of
``sum(out * w)`` for a random ``w``.  ``numeric_grad_check`` compares
chainrule's gradients with central differences in float64.
"""
import numpy as np
import torch

import chainrule as cr

TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64,
               np.int64: torch.int64, np.int32: torch.int32, np.bool_: torch.bool}


def to_torch(x, requires_grad=None):
    """A torch tensor with the same values (a leaf; requires grad if x does)."""
    arr = x.detach().numpy().copy() if isinstance(x, cr.Tensor) else np.array(x)
    t = torch.from_numpy(arr)
    if requires_grad is None and isinstance(x, cr.Tensor):
        rg = x.requires_grad
    else:
        rg = bool(requires_grad)
    if rg:
        t.requires_grad_(True)
    return t


def to_np(x):
    if isinstance(x, cr.Tensor):
        return x.detach().numpy()
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, what="value"):
    a, e = to_np(actual), to_np(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    if e.dtype == np.bool_ or e.dtype.kind in "iu":
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what,
                                   equal_nan=True)


def _flatten_out(out):
    if isinstance(out, (tuple, list)):
        return [o for o in out]
    return [out]


def check_against_torch(cr_fn, torch_fn, inputs, rtol=None, atol=None, grads=True,
                        seed=0):
    """Compare forward values and input gradients of ``sum(out * w)``.

    ``inputs`` are ndarrays; float ones require grad.  ``cr_fn``/``torch_fn``
    take the same positional tensors.  Returns the chainrule outputs.
    """
    rng = np.random.default_rng(seed)
    f64 = any(isinstance(x, np.ndarray) and x.dtype == np.float64 for x in inputs)
    rtol = rtol if rtol is not None else (1e-7 if f64 else 1e-5)
    atol = atol if atol is not None else (1e-9 if f64 else 1e-5)
    cx = [cr.tensor(x, requires_grad=grads and x.dtype.kind == "f")
          if isinstance(x, np.ndarray) else x for x in inputs]
    tx = [to_torch(x) if isinstance(x, cr.Tensor) else x for x in cx]
    cout, tout = _flatten_out(cr_fn(*cx)), _flatten_out(torch_fn(*tx))
    assert len(cout) == len(tout), "number of outputs differs"
    for i, (c, t) in enumerate(zip(cout, tout)):
        assert_close(c, t, rtol, atol, what=f"output {i}")
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], \
            f"output {i} dtype {c.dtype} != torch {t.dtype}"
    if not grads:
        return cout
    diff = [(c, t) for c, t in zip(cout, tout) if c.requires_grad]
    if not diff:
        return cout
    closs, tloss = 0, 0
    for c, t in diff:
        w = rng.standard_normal(c.shape).astype(to_np(c).dtype)
        closs = closs + (c * cr.tensor(w)).sum()
        tloss = tloss + (t * torch.from_numpy(w)).sum()
    wanted = [(c, t) for c, t in zip(cx, tx)
              if isinstance(c, cr.Tensor) and c.requires_grad]
    cg = cr.autograd.grad(closs, [c for c, _ in wanted], allow_unused=True)
    tg = torch.autograd.grad(tloss, [t for _, t in wanted], allow_unused=True)
    for i, (a, b) in enumerate(zip(cg, tg)):
        if b is None:
            assert a is None or np.all(to_np(a) == 0), f"grad {i}: torch has none"
            continue
        assert a is not None, f"grad {i}: chainrule has none, torch has one"
        assert_close(a, b, rtol, atol, what=f"gradient of input {i}")
    return cout


def numeric_grad_check(fn, inputs, eps=1e-6, rtol=1e-5, atol=1e-7, seed=0):
    """Central differences of ``sum(fn(*inputs) * w)`` vs autograd, in float64."""
    rng = np.random.default_rng(seed)
    xs = [cr.tensor(np.asarray(x, np.float64), requires_grad=True) for x in inputs]
    out = fn(*xs)
    w = cr.tensor(rng.standard_normal(out.shape))
    analytic = cr.autograd.grad((out * w).sum(), xs, allow_unused=True,
                                materialize_grads=True)
    for k, x in enumerate(xs):
        base = x.detach().numpy().copy()
        num = np.zeros_like(base)
        it = np.nditer(base, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            vals = []
            for s in (1, -1):
                pert = [y.detach().numpy().copy() for y in xs]
                pert[k][i] += s * eps
                o = fn(*[cr.tensor(p) for p in pert])
                vals.append(float((o * w).sum().item()))
            num[i] = (vals[0] - vals[1]) / (2 * eps)
        np.testing.assert_allclose(analytic[k].numpy(), num, rtol=rtol, atol=atol,
                                   err_msg=f"finite differences, input {k}")
