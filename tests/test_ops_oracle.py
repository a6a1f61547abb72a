"""Every row of the op table (``tests/op_db.py``) checked three ways:

- ``test_oracle``: forward values, dtypes and shapes against PyTorch on the
  same inputs, then the gradients of ``sum(out * w)`` for a random ``w``, in
  float32 (rtol 1e-5) and float64;
- ``test_finite_differences``: the same gradients against central
  differences, in float64;
- ``test_gradgrad``: rows flagged ``gradgrad``: the gradient of
  ``sum(grad * v)`` with respect to the inputs and to ``w`` (so through the
  vjp rule itself), against PyTorch with ``create_graph=True``.
"""
import numpy as np
import pytest
import torch

import chainrule as cr
from tests.jvp_samples import S, U
from tests.op_db import OPS, grads, materialize, run, weighted_sum, weights

F64 = np.float64

# Forward-mode rows (read by tests/jvp_samples.py) for primitives added with
# the op table's fixes.
JVP_SAMPLES = {"xlogy": S(U(0.5, 2.0, (2, 3)), U(0.5, 2.0, (3,)))}


def _params(pred=lambda op: True, dtypes=None):
    out = []
    for op in OPS:
        if not pred(op):
            continue
        for dt in (dtypes or op.dtypes):
            tag = np.dtype(dt).name if dt is not None else "any"
            out.append(pytest.param(op, dt, id=f"{op.name}-{tag}"))
    return out


def _tols(op, dtype):
    if dtype == np.float32:
        return (op.rtol or 1e-5), (op.atol or 1e-5)
    return 1e-7, 1e-9


def _np(x):
    return x.detach().numpy(force=True) if hasattr(x, "detach") else np.asarray(x)


def assert_same(c, t, rtol, atol, what):
    """One chainrule result against the torch one: type, dtype, shape, values."""
    if not isinstance(t, torch.Tensor):
        assert type(c) is type(t) and c == t, f"{what}: {c!r} != torch's {t!r}"
        return
    assert isinstance(c, cr.Tensor), f"{what}: got {type(c).__name__}, not a Tensor"
    tname = str(t.dtype).split(".")[-1]
    assert c.dtype.name == tname, f"{what}: dtype {c.dtype.name} != torch {tname}"
    assert tuple(c.shape) == tuple(t.shape), \
        f"{what}: shape {tuple(c.shape)} != torch {tuple(t.shape)}"
    a, e = _np(c), _np(t)
    if e.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=what)


def _assert_grads(cg, tg, shapes, rtol, atol, what):
    for i, (a, b) in enumerate(zip(cg, tg)):
        a = np.zeros(shapes[i]) if a is None else _np(a)
        b = np.zeros(shapes[i]) if b is None else _np(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                   err_msg=f"{what}, input {i}")


def _desc(op, sample):
    return f"{op.name} on {sample!r}"


@pytest.mark.parametrize("op,dtype", _params())
def test_oracle(op, dtype):
    rtol, atol = _tols(op, dtype)
    for k, sample in enumerate(op.samples):
        what = _desc(op, sample)
        arrays, diff = materialize(op, sample, dtype, seed=k)
        diff = [d and op.grad for d in diff]
        cx, cout = run(cr, op, arrays, diff)
        tx, tout = run(torch, op, arrays, diff)
        assert len(cout) == len(tout), f"{what}: {len(cout)} outputs, torch {len(tout)}"
        for i, (c, t) in enumerate(zip(cout, tout)):
            assert_same(c, t, rtol, atol, f"{what}: output {i}")
            if isinstance(t, torch.Tensor):
                assert c.requires_grad == t.requires_grad, \
                    f"{what}: output {i} requires_grad {c.requires_grad}, torch " \
                    f"{t.requires_grad}"
        if not any(diff):
            continue
        ws = weights(cout, k)
        closs, _ = weighted_sum(cr, cout, ws)
        tloss, _ = weighted_sum(torch, tout, ws)
        cdiff = [x for x, d in zip(cx, diff) if d]
        tdiff = [x for x, d in zip(tx, diff) if d]
        _assert_grads(grads(cr, closs, cdiff), grads(torch, tloss, tdiff),
                      [x.shape for x in tdiff], rtol, atol, f"{what}: gradient")


def _f64_loss(op, arrays, diff, ws):
    """``sum(out * w)`` as a float, for finite differences (no graph)."""
    with cr.no_grad():
        _, out = run(cr, op, arrays, [False] * len(arrays))
    total = 0.0
    for o, w in zip(out, ws):
        if w is not None:
            total += float(np.sum(_np(o).astype(F64) * w))
    return total


@pytest.mark.parametrize("op", [p.values[0] for p in _params(
    lambda op: op.fd and op.floating, (F64,))], ids=lambda op: op.name)
def test_finite_differences(op, eps=1e-6):
    for k, sample in enumerate(op.samples):
        what = _desc(op, sample)
        arrays, diff = materialize(op, sample, F64, seed=k)
        if not any(diff):
            continue
        cx, cout = run(cr, op, arrays, diff)
        ws = weights(cout, k)
        loss, _ = weighted_sum(cr, cout, ws)
        cdiff = [x for x, d in zip(cx, diff) if d]
        analytic = grads(cr, loss, cdiff)
        j = 0
        for i, d in enumerate(diff):
            if not d:
                continue
            num = np.zeros(arrays[i].shape)
            for idx in np.ndindex(arrays[i].shape):
                vals = []
                for s in (eps, -eps):
                    pert = [a.copy() for a in arrays]
                    pert[i][idx] += s
                    vals.append(_f64_loss(op, pert, diff, ws))
                num[idx] = (vals[0] - vals[1]) / (2 * eps)
            a = np.zeros(num.shape) if analytic[j] is None else _np(analytic[j])
            np.testing.assert_allclose(a, num, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{what}: finite differences, input {i}")
            j += 1


@pytest.mark.parametrize("op", [p.values[0] for p in _params(
    lambda op: op.gradgrad and op.grad, (F64,))], ids=lambda op: op.name)
def test_gradgrad(op):
    rtol, atol = _tols(op, F64)
    for k, sample in enumerate(op.samples):
        what = _desc(op, sample)
        arrays, diff = materialize(op, sample, F64, seed=k)
        if not any(diff):
            continue
        cx, cout = run(cr, op, arrays, diff)
        tx, tout = run(torch, op, arrays, diff)
        ws = weights(cout, k)
        vs = [np.random.default_rng(2000 + k).standard_normal(a.shape)
              for a, d in zip(arrays, diff) if d]
        second = []
        for m, xs, out in ((cr, cx, cout), (torch, tx, tout)):
            loss, wts = weighted_sum(m, out, ws, rg=True)
            xd = [x for x, d in zip(xs, diff) if d]
            g1 = grads(m, loss, xd, create_graph=True)
            make = cr.tensor if m is cr else torch.from_numpy
            loss2 = None
            for g, v in zip(g1, vs):
                if g is not None and g.requires_grad:
                    term = (g * make(v)).sum()
                    loss2 = term if loss2 is None else loss2 + term
            second.append((g1, grads(m, loss2, xd + wts)))
        (cg1, cg2), (tg1, tg2) = second
        shapes = [a.shape for a, d in zip(arrays, diff) if d]
        _assert_grads(cg1, tg1, shapes, rtol, atol, f"{what}: first order")
        _assert_grads(cg2, tg2, shapes + [w.shape for w in ws if w is not None],
                      rtol, atol, f"{what}: second order")


# -- the checks above can fail ---------------------------------------------------------
def _unregistered(name, forward, vjp):
    """A primitive outside the table (so the registry test never sees it)."""
    from chainrule.ops._core import Primitive, apply

    p = Primitive(name, forward, vjp, None, None, False, 1, False, False)
    return lambda x: apply(p, x)


def test_harness_catches_wrong_values_and_gradients():
    from tests.op_db_base import Op

    wrong_value = Op("bad", lambda m, x: x * (2.0 if m is cr else 2.001), [((3,),)])
    with pytest.raises(AssertionError, match="output 0"):
        test_oracle(wrong_value, F64)

    # f(x) = 2x with a vjp that says 3.
    double = _unregistered("bad_double", lambda x: 2 * x, lambda n, g: (g * 3.0,))
    wrong_grad = Op("bad", lambda m, x: double(x) if m is cr else 2 * x, [((3,),)])
    with pytest.raises(AssertionError, match="gradient"):
        test_oracle(wrong_grad, F64)
    with pytest.raises(AssertionError, match="finite differences"):
        test_finite_differences(wrong_grad)

    # f(x) = x^2 whose vjp is right once but constant in x: wrong second order.
    square = _unregistered("bad_square", np.square,
                           lambda n, g: (g * 2.0 * n.inputs[0].detach(),))
    wrong_gg = Op("bad", lambda m, x: square(x) if m is cr else x * x, [((3,),)])
    test_oracle(wrong_gg, F64)
    with pytest.raises(AssertionError, match="second order"):
        test_gradgrad(wrong_gg)
