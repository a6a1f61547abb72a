"""Fused elementwise chains (``chainrule/jit/fusion.py``) with comparisons:
a relu's backward mask (``gt``, ``to_dtype``, ``mul``), a dropout-like mask
(``ge``, ``to_dtype``, two ``mul``), a chain whose output is boolean and
integer bounds checks (per-node kernels: the whole-step kernel is off);
bit-identical to eager and to PyTorch, the chains
really are fused kernels, and ``CHAINRULE_JIT_NATIVE=0`` replays NumPy."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.jit import native

pytestmark = pytest.mark.skipif(not native.available(), reason="no C compiler")


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_CACHE", str(tmp_path_factory.getbasetemp()
                                                  / "jit-cache"))
    # these small graphs would otherwise become one whole-step kernel
    monkeypatch.setenv("CHAINRULE_JIT_WHOLE", "0")


def _fused(fn):
    return [n.prim.name for n in fn.graphs()[-1].nodes
            if n.kind == "kernel" and n.prim.name.startswith("fused_")]


def _relu_grad(m, x, g):
    return (x > 0).to(x.dtype) * g


def _dropout_like(m, x, u):
    return (u >= 0.25).to(x.dtype) * x * (1 / 0.75)


def _bool_out(m, x, u):
    return x * 2 - u > 0.5


def _bounds(m, i, _):
    return (i < 0) | (i >= 3)


CASES = [(_relu_grad, "gt"), (_dropout_like, "ge"), (_bool_out, "gt"),
         (_bounds, "lt")]


def _args(f, dtype, rng):
    # odd sizes: the vectorised loop's remainder runs too
    x = rng.standard_normal((5, 37)).astype(dtype)
    x[0, :4] = 0.0  # the comparison's boundary
    u = rng.random((5, 37)).astype(dtype)
    if f is _bounds:
        return rng.integers(-2, 6, (5, 37)), None
    return x, u


def _run(m, f, a, b):
    return [f(m, m.tensor(a), None if b is None else m.tensor(b)).numpy()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("f,op", CASES)
def test_fused_comparisons_match_eager_and_torch(f, op, dtype):
    a, b = _args(f, dtype, np.random.default_rng(0))
    eager = _run(cr, f, a, b)[0]
    ref = _run(torch, f, a, b)[0]
    jf = cr.jit(lambda s, t: f(cr, s, t) if t is not None else f(cr, s, None),
                backend="native")
    ta, tb = cr.tensor(a), None if b is None else cr.tensor(b)
    for _ in range(3):
        got = (jf(ta, tb) if tb is not None else jf(ta, None)).numpy()
    assert any(op in name for name in _fused(jf)), _fused(jf)
    assert got.dtype == eager.dtype == ref.dtype
    np.testing.assert_array_equal(got, eager)
    np.testing.assert_array_equal(got, ref)


def test_native_off_replays_numpy(monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_NATIVE", "0")
    native._notice.append(1)  # the one notice may have been given already
    a, b = _args(_relu_grad, np.float64, np.random.default_rng(1))
    jf = cr.jit(lambda s, t: _relu_grad(cr, s, t), backend="auto")
    ta, tb = cr.tensor(a), cr.tensor(b)
    for _ in range(3):
        got = jf(ta, tb).numpy()
    assert _fused(jf) == []
    np.testing.assert_array_equal(got, _run(cr, _relu_grad, a, b)[0])
