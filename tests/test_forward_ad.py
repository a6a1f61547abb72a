"""Forward mode: dual tensors, every primitive's jvp rule, composition with
reverse mode, and random compositions against torch.func."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.autograd import forward_ad as fwad
from tests.jvp_samples import all_primitives, all_samples, draw

PRIMITIVES = all_primitives()

ROWS = all_samples()
# torch.func's first use warns about torch.jit.script inside torch itself.
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script:DeprecationWarning")


def N(t):
    """A tensor's values as an ndarray (chainrule or torch)."""
    return t.detach().numpy()


def f64(*shape, seed=0):
    return cr.tensor(np.random.default_rng(seed).standard_normal(shape))


# -- the dual-tensor API --------------------------------------------------------------
def test_make_dual_unpack_dual_and_levels():
    x, v = f64(3), f64(3, seed=1)
    with fwad.dual_level() as lvl:
        d = fwad.make_dual(x, v)
        y = d.sin() * 2.0
        p, t = fwad.unpack_dual(y)
        assert fwad.unpack_dual(y, level=lvl).tangent is t
    np.testing.assert_allclose(p.detach().numpy(), 2 * np.sin(x.detach().numpy()))
    np.testing.assert_allclose(N(t), 2 * np.cos(N(x)) * N(v))
    assert type(fwad.unpack_dual(y)).__name__ == "UnpackedDualTensor"
    # On exit the level's tangents are dropped; the primal was never touched.
    assert fwad.unpack_dual(y).tangent is None and x._fw is None
    assert cr.autograd.grad_mode._state.forward_ad == 0


def test_unpack_dual_of_a_plain_tensor_and_non_float_results():
    x = f64(3)
    with fwad.dual_level():
        assert fwad.unpack_dual(x).tangent is None
        d = fwad.make_dual(x, cr.ones(3, dtype=cr.float64))
        assert fwad.unpack_dual(d > 0).tangent is None  # comparisons: none
        assert fwad.unpack_dual(d.floor()).tangent.abs().sum().item() == 0


def test_dual_errors_name_the_problem():
    x = f64(3)
    with pytest.raises(cr.AutogradError, match="no dual level is active"):
        fwad.make_dual(x, x)
    with fwad.dual_level():
        with pytest.raises(cr.ShapeError, match=r"tangent has shape \[2\].*\[3\]"):
            fwad.make_dual(x, f64(2))
        with pytest.raises(cr.DTypeError, match="tangent has dtype float32"):
            fwad.make_dual(x, cr.ones(3))
        with pytest.raises(cr.DTypeError, match="floating point"):
            fwad.make_dual(cr.tensor([1, 2]), cr.tensor([1, 2]))
    outer = fwad.enter_dual_level()
    fwad.enter_dual_level()
    with pytest.raises(cr.AutogradError, match="not the innermost"):
        fwad.exit_dual_level(level=outer)
    fwad.exit_dual_level()
    fwad.exit_dual_level(level=outer)
    with pytest.raises(cr.AutogradError, match="no dual level is active"):
        fwad.exit_dual_level()


def test_nested_levels_give_second_derivatives_without_confusion():
    x = f64(4)
    one = cr.ones(4, dtype=cr.float64)
    with fwad.dual_level() as outer:
        a = fwad.make_dual(x, one)
        with fwad.dual_level() as inner:
            b = fwad.make_dual(a, one)
            y = b.sin() * b  # y' = cos(x) x + sin(x); y'' = 2 cos(x) - x sin(x)
            dy = fwad.unpack_dual(y, level=inner).tangent
            # The inner tangent is itself differentiated at the outer level.
            ddy = fwad.unpack_dual(dy, level=outer).tangent
            # The primal still carries the outer tangent only.
            assert fwad.unpack_dual(fwad.unpack_dual(y, level=inner).primal,
                                    level=inner).tangent is None
    xn = x.detach().numpy()
    np.testing.assert_allclose(dy.detach().numpy(), np.cos(xn) * xn + np.sin(xn))
    np.testing.assert_allclose(ddy.detach().numpy(), 2 * np.cos(xn) - xn * np.sin(xn))


def test_perturbation_confusion_is_avoided():
    # d/dx [x * d/dy (x + y)] = 1: the inner derivative must not see x's tangent.
    x = cr.tensor(2.0, dtype=cr.float64)
    one = cr.tensor(1.0, dtype=cr.float64)

    def inner_deriv(xv):
        with fwad.dual_level():
            y = fwad.make_dual(cr.tensor(3.0, dtype=cr.float64), one)
            return fwad.unpack_dual(xv + y).tangent

    with fwad.dual_level():
        xd = fwad.make_dual(x, one)
        out = xd * inner_deriv(xd)
        assert fwad.unpack_dual(out).tangent.item() == 1.0


def test_forward_over_reverse_and_reverse_over_forward():
    rng = np.random.default_rng(3)
    A = cr.tensor(rng.standard_normal((3, 3)))
    x = f64(3).requires_grad_()
    v = f64(3, seed=5)

    def f(z):
        return (A @ z).tanh().pow(2).sum()

    xt = torch.tensor(x.detach().numpy())
    ft = lambda z: (torch.tensor(N(A)) @ z).tanh().pow(2).sum()  # noqa: E731
    hvp = torch.func.jvp(torch.func.grad(ft), (xt,), (torch.tensor(N(v)),))[1]
    with fwad.dual_level():
        g, = cr.autograd.grad(f(fwad.make_dual(x, v)), x)
        np.testing.assert_allclose(N(fwad.unpack_dual(g).tangent), N(hvp))
    # Reverse over forward: the tangent is a differentiable function of x.
    with fwad.dual_level():
        t = fwad.unpack_dual(f(fwad.make_dual(x, v))).tangent
    g2, = cr.autograd.grad(t, x)
    np.testing.assert_allclose(g2.detach().numpy(), hvp.detach().numpy())


# -- every primitive: jvp against vjp, finite differences and second order -----------
def _inputs(row, seed):
    rng = np.random.default_rng(seed)
    arrays, diff = zip(*[draw(s, rng) for s in row.args])
    return list(arrays), list(diff)


def _tangent(row, k, rng, shape):
    v = rng.standard_normal(shape)
    return (v + np.swapaxes(v, -1, -2)) / 2 if k in row.sym else v


def _call(name, row, ts):
    prim = PRIMITIVES[name]
    out = row.call(prim, *ts) if row.call else prim(*ts, **row.params)
    return list(out) if isinstance(out, tuple) else [out]


def _floats(outs):
    return [o for o in outs if o.dtype.is_floating_point]


def _check_row(name, row, seed=0):
    arrays, diff = _inputs(row, seed)
    rng = np.random.default_rng(seed + 100)
    vs = [_tangent(row, k, rng, a.shape) if d else None
          for k, (a, d) in enumerate(zip(arrays, diff))]
    # Forward mode: J v.
    with fwad.dual_level():
        ts = [fwad.make_dual(cr.tensor(a), cr.tensor(v)) if v is not None
              else cr.tensor(a) for a, v in zip(arrays, vs)]
        outs = _floats(_call(name, row, ts))
        jv = [fwad.unpack_dual(o).tangent for o in outs]
        jv = [np.zeros(o.shape) if t is None else t.detach().numpy().astype(np.float64)
              for o, t in zip(outs, jv)]
    # Reverse mode: J^T u.
    us = [rng.standard_normal(o.shape) for o in outs]
    xs = [cr.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    routs = _floats(_call(name, row, xs))
    loss = sum(((o.double() * cr.tensor(u)).sum() for o, u in zip(routs, us)
                if o.requires_grad), cr.tensor(0.0, dtype=cr.float64))
    wanted = [x for x, d in zip(xs, diff) if d]
    gs = cr.autograd.grad(loss, wanted, allow_unused=True, materialize_grads=True) \
        if loss.requires_grad else [cr.zeros_like(x) for x in wanted]
    lhs = sum(float(np.sum(u * t)) for u, t in zip(us, jv))
    rhs = sum(float(np.sum(g.detach().numpy() * v)) for g, v in zip(gs, [v for v in vs
                                                                if v is not None]))
    scale = max(1.0, abs(lhs), abs(rhs))
    assert abs(lhs - rhs) <= row.rtol * scale, \
        f"{name}: forward <u, Jv> = {lhs} but reverse <J^T u, v> = {rhs}"
    if row.fd:
        eps = 1e-6
        plus = _floats(_call(name, row, [cr.tensor(a + eps * v if v is not None else a)
                                          for a, v in zip(arrays, vs)]))
        minus = _floats(_call(name, row, [cr.tensor(a - eps * v if v is not None else a)
                                           for a, v in zip(arrays, vs)]))
        for k, (p, m, t) in enumerate(zip(plus, minus, jv)):
            fd = (p.detach().numpy() - m.detach().numpy()) / (2 * eps)
            np.testing.assert_allclose(t, fd, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name}: jvp of output {k} vs central "
                                               "differences")


def _check_second_order(name, row, seed=0):
    """<w, d/dx (J^T u) v> by forward-over-reverse and reverse-over-reverse."""
    arrays, diff = _inputs(row, seed)
    rng = np.random.default_rng(seed + 200)
    vs = [_tangent(row, k, rng, a.shape) if d else None
          for k, (a, d) in enumerate(zip(arrays, diff))]
    xs = [cr.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    wanted = [x for x, d in zip(xs, diff) if d]
    outs = _floats(_call(name, row, xs))
    us = [cr.tensor(rng.standard_normal(o.shape)).to(o.dtype) for o in outs]
    ws = [cr.tensor(rng.standard_normal(x.shape)) for x in wanted]

    def vjp(inputs, outs_):
        loss = sum(((o * u).sum() for o, u in zip(outs_, us) if o.requires_grad),
                   cr.tensor(0.0, dtype=outs_[0].dtype))
        if not loss.requires_grad:
            return None
        return cr.autograd.grad(loss, inputs, create_graph=True, allow_unused=True,
                                materialize_grads=True)

    gs = vjp(wanted, outs)
    if gs is None or not any(g.requires_grad for g in gs):
        return  # the vjp is constant in x: nothing second-order to compare
    s = sum(((g.double() * w).sum() for g, w in zip(gs, ws)), cr.tensor(0.0).double())
    rr = cr.autograd.grad(s, wanted, allow_unused=True, materialize_grads=True)
    rev = sum(float(np.sum(r.detach().numpy() * v)) for r, v in zip(rr, [v for v in vs
                                                             if v is not None]))
    with fwad.dual_level():
        # (vs holds None for the inputs that take no tangent: zip, not next())
        duals = [fwad.make_dual(x, cr.tensor(v).to(x.dtype)) if d else x
                 for x, d, v in zip(xs, diff, vs)]
        gs2 = vjp(wanted, _floats(_call(name, row, duals)))
        fwd = 0.0
        for g, w in zip(gs2, ws):
            t = fwad.unpack_dual(g).tangent
            if t is not None:
                fwd += float(np.sum(t.detach().numpy() * w.detach().numpy()))
    scale = max(1.0, abs(fwd), abs(rev))
    assert abs(fwd - rev) <= max(row.rtol, 1e-6) * scale, \
        f"{name}: forward-over-reverse gives {fwd}, reverse-over-reverse {rev}"


DIFFERENTIABLE = sorted(n for n, p in PRIMITIVES.items() if p.vjp is not None)
COVERED = [n for n in DIFFERENTIABLE if n in ROWS]


def test_every_differentiable_primitive_has_a_sample():
    missing = [n for n in DIFFERENTIABLE if n not in ROWS]
    assert not missing, (
        "differentiable primitives without a jvp sample row: " + ", ".join(missing)
        + " -- add a row to tests/jvp_samples.py (or JVP_SAMPLES in the primitive's "
          "own test module)")
    no_rule = [n for n in DIFFERENTIABLE if PRIMITIVES[n].jvp is None]
    assert not no_rule, "differentiable primitives without a jvp rule: " + ", ".join(
        no_rule)


@pytest.mark.parametrize("name", COVERED)
def test_jvp_rule_matches_vjp_and_finite_differences(name):
    _check_row(name, ROWS[name])


@pytest.mark.parametrize("name", COVERED)
def test_second_order_forward_over_reverse_matches_reverse_over_reverse(name):
    _check_second_order(name, ROWS[name])


def test_tangents_of_broadcast_inputs_are_broadcast():
    # add's rule returns the one tangent it has; it must be broadcast to [2, 3].
    with fwad.dual_level():
        x = fwad.make_dual(f64(3), cr.ones(3, dtype=cr.float64))
        y = x + f64(2, 3)
        assert fwad.unpack_dual(y).tangent.shape == (2, 3)


def test_in_place_ops_carry_tangents():
    with fwad.dual_level():
        d = fwad.make_dual(f64(3), cr.ones(3, dtype=cr.float64))
        y = d * 1.0
        y.mul_(3.0)
        assert np.allclose(fwad.unpack_dual(y).tangent.detach().numpy(), 3.0)


def test_op_without_jvp_rule_is_named():
    prim = cr.ops.primitive("test_no_jvp", lambda x: x * 2,
                            vjp=lambda n, g: (g * 2,))
    try:
        with fwad.dual_level():
            d = fwad.make_dual(f64(2), f64(2))
            with pytest.raises(cr.AutogradError, match="test_no_jvp: forward-mode"):
                prim(d)
    finally:
        del PRIMITIVES["test_no_jvp"]


# -- random compositions: forward = reverse = torch ------------------------------------
W = np.random.default_rng(7).standard_normal((3, 3)) / 2

UNARY = [
    lambda m, x: x.sin(),
    lambda m, x: x.tanh(),
    lambda m, x: (x * x).neg().exp(),
    lambda m, x: x.sigmoid(),
    lambda m, x: (x * x).log1p(),
    lambda m, x: x.cumsum(0),
    lambda m, x: x.flip(0),
    lambda m, x: m.matmul(m.tensor(W), x),
    lambda m, x: x - x.amax(),
    lambda m, x: (x * x + 1.0).sqrt(),
    lambda m, x: x.relu() + x * 0.1,
]
BINARY = [
    lambda m, a, b: a + b,
    lambda m, a, b: a * b,
    lambda m, a, b: a / (b * b + 1.0),
    lambda m, a, b: m.maximum(a, b * 0.5),
    lambda m, a, b: m.stack([a, b]).sum(0) * a.sum(),
]


def _program(steps):
    def f(m, x):
        vals = [x]
        for kind, i, j in steps:
            a, b = vals[i % len(vals)], vals[j % len(vals)]
            if kind < len(UNARY):
                vals.append(UNARY[kind](m, a))
            else:
                vals.append(BINARY[kind - len(UNARY)](m, a, b))
        return vals[-1]
    return f


class _TorchNS:
    """torch with chainrule's names where they differ (tensor, matmul)."""

    tensor = staticmethod(lambda a: torch.tensor(a))
    matmul = staticmethod(torch.matmul)
    maximum = staticmethod(torch.maximum)
    stack = staticmethod(torch.stack)


@settings(max_examples=25, deadline=None, derandomize=True)  # same cases each run
@given(st.lists(st.tuples(st.integers(0, len(UNARY) + len(BINARY) - 1),
                          st.integers(0, 9), st.integers(0, 9)),
                min_size=1, max_size=6),
       st.integers(0, 2**16))
def test_random_compositions_forward_equals_reverse_equals_torch(steps, seed):
    f = _program(steps)
    x = np.random.default_rng(seed).standard_normal(3)
    jf = cr.func.jacfwd(lambda z: f(cr, z))(cr.tensor(x))
    jr = cr.func.jacrev(lambda z: f(cr, z))(cr.tensor(x))
    jt = torch.func.jacrev(lambda z: f(_TorchNS, z))(torch.tensor(x))
    np.testing.assert_allclose(N(jf), N(jr), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(N(jf), N(jt), rtol=1e-7, atol=1e-9)
