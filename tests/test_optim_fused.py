"""The fused Adam primitive equals Adam written with ordinary chainrule ops."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.optim_ops import adam_step

# Read by tests/test_ops_registry.py: the kernel mutates its inputs, no vjp.
TESTED_PRIMITIVES = {"adam_step"}
NON_DIFFERENTIABLE_PRIMITIVES = {"adam_step"}


def _composite_adam(p, g, m, v, vmax, *, lr, beta1, beta2, eps, weight_decay,
                    decoupled, maximize, step):
    """Reference: the Adam update as separate in-place ops (the algorithm of
    ``chainrule.optim.Adam``'s docstring)."""
    if maximize:
        g = -g
    if weight_decay:
        if decoupled:
            p.mul_(1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m.lerp_(g, 1 - beta1)
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    if vmax is not None:
        v = vmax.copy_(cr.maximum(vmax, v))
    denom = (v.sqrt() / math.sqrt(1 - beta2 ** step)).add_(eps)
    p.addcdiv_(m, denom, value=-lr / (1 - beta1 ** step))


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay,decoupled", [(0.0, False), (0.1, False),
                                                    (0.1, True)])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_adam_matches_composite(amsgrad, weight_decay, decoupled, maximize,
                                      dtype):
    rng = np.random.default_rng(0)
    shape = (5, 3)
    arrays = [rng.standard_normal(shape).astype(dtype) for _ in range(2)]
    fused = [cr.tensor(a) for a in arrays] + [cr.zeros(shape, dtype=dtype)
                                              for _ in range(3)]
    count = cr.tensor(0.0)
    ref = [cr.tensor(a) for a in arrays] + [cr.zeros(shape, dtype=dtype)
                                            for _ in range(3)]
    hp = dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=weight_decay,
              decoupled=decoupled, maximize=maximize)
    with cr.no_grad():
        for step in range(1, 6):
            g = cr.tensor(rng.standard_normal(shape).astype(dtype))
            p, _, m, v, vm = fused
            version = p._version
            adam_step(p, g, m, v, count, vm if amsgrad else None, **hp)
            assert p._version == version + 1 and count.item() == step
            p, _, m, v, vm = ref
            _composite_adam(p, g, m, v, vm if amsgrad else None, step=step, **hp)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for a, b in zip(fused, ref):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)


def test_fused_adam_leaves_gradient_untouched():
    p, g = cr.ones(3), cr.full((3,), 2.0)
    m, v = cr.zeros(3), cr.zeros(3)
    adam_step(p, g, m, v, cr.tensor(0.0), lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
              weight_decay=0.1, decoupled=False, maximize=True)
    assert g.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("opt_name,kw", [
    ("Adam", {}), ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"weight_decay": 0.1, "maximize": True})])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_on_zero_dim_parameters_matches_torch(opt_name, kw, dtype):
    """0-d parameters (a scalar hyper-parameter): NumPy turns 0-d results into
    scalars, which the in-place kernel must not trip over."""
    import torch

    p = cr.nn.Parameter(cr.tensor(1.5, dtype=getattr(cr, dtype)))
    q = cr.nn.Parameter(cr.tensor([0.5, -1.0], dtype=getattr(cr, dtype)))
    pt = torch.tensor(1.5, dtype=getattr(torch, dtype), requires_grad=True)
    qt = torch.tensor([0.5, -1.0], dtype=getattr(torch, dtype), requires_grad=True)
    opt = getattr(cr.optim, opt_name)([p, q], lr=0.1, **kw)
    opt_t = getattr(torch.optim, opt_name)([pt, qt], lr=0.1, **kw)
    for _ in range(5):
        for o, a, b, m in ((opt, p, q, cr), (opt_t, pt, qt, torch)):
            o.zero_grad()
            (m.sin(a) * a + (b * b).sum() * a).backward()
            o.step()
    tol = 1e-6 if dtype == "float32" else 1e-12
    assert p.shape == () and abs(float(p) - pt.item()) < tol
    np.testing.assert_allclose(q.detach().numpy(), qt.detach().numpy(), atol=tol)
