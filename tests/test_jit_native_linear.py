"""The native ``linear -> relu`` kernel (``chainrule/jit/native_linear.py``)
against eager chainrule and PyTorch: 2-d and 3-d inputs (the reshapes
between), with and without bias, a single row (NumPy's gemv: the replay
runs), a pre-activation with a second reader (not folded), NaN and zeros;
float32 and float64."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.jit import blas, native

pytestmark = pytest.mark.skipif(
    not native.available() or not blas.gemms(),
    reason="no C compiler or no CBLAS gemm")
TOL = {np.float32: 1e-6, np.float64: 1e-10}


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_CACHE", str(tmp_path_factory.getbasetemp()
                                                  / "jit-cache"))
    # These small networks are whole-step graphs (one C function for the
    # step); the per-node kernel under test runs when that is off.
    monkeypatch.setenv("CHAINRULE_JIT_WHOLE", "0")


class MLP(cr.nn.Module):
    def __init__(self, shape, bias, shared):
        super().__init__()
        rng = np.random.default_rng(0)
        self.x = cr.nn.Parameter(cr.tensor(rng.standard_normal(shape)
                                           .astype(np.float32)))
        self.fc1 = cr.nn.Linear(shape[-1], 9, bias=bias)
        self.fc2 = cr.nn.Linear(9, 3)
        self.shared = shared

    def forward(self):
        pre = self.fc1(self.x)
        out = self.fc2(cr.nn.functional.relu(pre))
        loss = (out * out).sum()
        return loss + (pre * pre).sum() if self.shared else loss


def _folded(fn):
    return sum(n.kind == "kernel" and n.prim.name.endswith(":linear_relu")
               for n in fn.graphs()[-1].nodes)


def _run(shape, bias, shared, dtype):
    out = []
    for jit in (False, True):
        cr.manual_seed(0)
        m = MLP(shape, bias, shared)
        m = m.double() if dtype == np.float64 else m

        def step():
            m.zero_grad()
            v = m()
            v.backward()
            return v

        fn = cr.jit(step, backend="native") if jit else step
        for _ in range(3 if jit else 1):
            v = fn()
        out.append((v._data, {n: p.grad._data.copy()
                              for n, p in m.named_parameters()}, m))
    return out, fn


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,bias,shared,folded", [
    ((6, 5), True, False, 1), ((2, 4, 5), True, False, 1),
    ((6, 5), False, False, 1), ((1, 5), True, False, 1),  # one row: replay
    ((6, 5), True, True, 0)])
def test_linear_relu_matches_eager(shape, bias, shared, folded, dtype):
    ((l0, g0, _), (l1, g1, _)), fn = _run(shape, bias, shared, dtype)
    assert _folded(fn) == folded
    np.testing.assert_allclose(l1, l0, rtol=TOL[dtype])
    for n in g0:
        np.testing.assert_allclose(g1[n], g0[n], rtol=TOL[dtype],
                                   atol=TOL[dtype] * np.abs(g0[n]).max(), err_msg=n)


def test_linear_relu_gradients_match_torch():
    ((_, _, m0), (loss, grads, _)), _ = _run((2, 4, 5), True, False, np.float64)
    x = torch.tensor(m0.x._data, requires_grad=True)
    fc1, fc2 = torch.nn.Linear(5, 9).double(), torch.nn.Linear(9, 3).double()
    with torch.no_grad():
        for t, c in ((fc1, m0.fc1), (fc2, m0.fc2)):
            t.weight.copy_(torch.from_numpy(c.weight._data))
            t.bias.copy_(torch.from_numpy(c.bias._data))
    out = fc2(torch.relu(fc1(x)))
    (out * out).sum().backward()
    np.testing.assert_allclose(loss, (out * out).sum().item(), rtol=1e-10)
    np.testing.assert_allclose(grads["x"], x.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["fc1.weight"], fc1.weight.grad.numpy(),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["fc1.bias"], fc1.bias.grad.numpy(), rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_relu_keeps_nan_and_zeros(dtype):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(dtype)
    x[1, 2] = np.nan
    x[3] = 0.0
    cr.manual_seed(0)
    fc = cr.nn.Linear(4, 6)
    fc = fc.double() if dtype == np.float64 else fc
    with cr.no_grad():
        fc.bias.zero_()
    f = lambda t: cr.nn.functional.relu(fc(t))  # noqa: E731
    fn = cr.jit(f, backend="native")
    xt = cr.tensor(x)
    with cr.no_grad():
        ref = f(xt)._data
        for _ in range(2):
            got = fn(xt)._data
    assert _folded(fn) == 1 and np.isnan(ref).any()
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))
