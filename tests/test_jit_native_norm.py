"""The native layer norm, softmax (forward and backward) and gather-gradient
kernels (``chainrule/jit/native_norm.py``) against eager chainrule and PyTorch:
rows shorter than 8, of 128 and longer (NumPy's pairwise sums), with and
without affine weights, an upstream gradient in a permuted layout (as the
transformer's), masked attention rows that are all -inf, NaN rows, scores
plus a mask folded into the softmax (bit-identical), repeated
and negative gather indices; the nodes really are kernels; with
``CHAINRULE_JIT_NATIVE=0`` the replay runs NumPy."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.jit import native

pytestmark = pytest.mark.skipif(not native.available(), reason="no C compiler")
TOL = {np.float32: 1e-6, np.float64: 1e-10}


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_CACHE", str(tmp_path_factory.getbasetemp()
                                                  / "jit-cache"))


def _kernels(fn):
    return sorted({n.prim.name.split(":")[-1] for n in fn.graphs()[-1].nodes
                   if n.kind == "kernel" and ":" in n.prim.name})


def _eager_and_jit(build, loss, dtype, calls=3, backend="native"):
    """(loss, grads) of eager and of the jitted step after ``calls`` calls
    (the third replays), on two identically seeded copies of ``build()``."""
    out = []
    for jit in (False, True):
        cr.manual_seed(0)
        mod = build()
        mod = mod.double() if dtype == np.float64 else mod

        def step():
            mod.zero_grad()
            v = loss(mod)
            v.backward()
            return v

        fn = cr.jit(step, backend=backend) if jit else step
        for _ in range(calls if jit else 1):
            v = fn()
        out.append((v._data, {n: p.grad._data.copy()
                              for n, p in mod.named_parameters()}))
    return out[0], out[1], fn


def _close(a, b, rtol):
    (l0, g0), (l1, g1) = a, b
    np.testing.assert_allclose(l1, l0, rtol=rtol, atol=0)
    for n in g0:  # NaN where eager has NaN, else within rtol of the largest
        finite = np.abs(g0[n][np.isfinite(g0[n])])
        scale = (finite.max() if finite.size else 0.0) + 1e-30
        np.testing.assert_allclose(g1[n], g0[n], rtol=0, atol=rtol * scale,
                                   err_msg=n)


class LN(cr.nn.Module):
    def __init__(self, shape, d, affine, permute):
        super().__init__()
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape + (d,)) * 3 + 1
        self.x = cr.nn.Parameter(cr.tensor(x.astype(np.float32)))  # .double() later
        self.norm = cr.nn.LayerNorm(d, elementwise_affine=affine)
        if affine:
            with cr.no_grad():
                self.norm.weight.copy_(cr.tensor(rng.standard_normal(d)))
                self.norm.bias.copy_(cr.tensor(rng.standard_normal(d)))
        self.wts = cr.tensor(rng.standard_normal(shape + (d,)))  # cast when used
        self.permute = permute

    def forward(self):
        h = self.norm(self.x)
        if self.permute:  # the gradient reaching the norm is then permuted
            h = h.permute(1, 0, 2).reshape(-1).reshape(h.shape[1], h.shape[0], -1)
            return (h * self.wts.to(h.dtype).permute(1, 0, 2) * h).sum()
        return (h * self.wts.to(h.dtype) * h).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [5, 128, 300])
@pytest.mark.parametrize("affine,permute", [(True, False), (False, False),
                                            (True, True)])
def test_layer_norm_matches_eager(d, affine, permute, dtype):
    a, b, fn = _eager_and_jit(lambda: LN((4, 6), d, affine, permute), lambda m: m(),
                              dtype)
    assert {"layer_norm", "layer_norm_backward"} <= set(_kernels(fn))
    _close(a, b, TOL[dtype])


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_gradients_match_torch(affine):
    d = 130
    cr_m = [None]

    def build():
        cr_m[0] = LN((3, 5), d, affine, False)
        return cr_m[0]

    _, (loss, grads), _ = _eager_and_jit(build, lambda m: m(), np.float64)
    m = cr_m[0]
    x = torch.tensor(m.x._data, requires_grad=True)
    norm = torch.nn.LayerNorm(d, elementwise_affine=affine).double()
    if affine:
        with torch.no_grad():
            norm.weight.copy_(torch.from_numpy(m.norm.weight._data))
            norm.bias.copy_(torch.from_numpy(m.norm.bias._data))
    h = norm(x)
    t = (h * torch.from_numpy(m.wts._data) * h).sum()
    t.backward()
    np.testing.assert_allclose(loss, t.item(), rtol=1e-10)
    np.testing.assert_allclose(grads["x"], x.grad.numpy(), rtol=1e-9, atol=1e-12)
    if affine:
        np.testing.assert_allclose(grads["norm.weight"], norm.weight.grad.numpy(),
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(grads["norm.bias"], norm.bias.grad.numpy(),
                                   rtol=1e-9, atol=1e-12)


class Attn(cr.nn.Module):
    """Scores through the masked softmax of attention (the transformer's)."""

    def __init__(self, n, nan):
        super().__init__()
        rng = np.random.default_rng(1)
        self.q = cr.nn.Parameter(cr.tensor(rng.standard_normal((2, 3, n, 8))
                                           .astype(np.float32)))
        self.k = cr.nn.Parameter(cr.tensor(rng.standard_normal((2, 3, n, 8))
                                           .astype(np.float32)))
        mask = np.triu(np.full((n, n), -np.inf), 1)
        mask[2] = -np.inf  # a row with every key masked: zeros, not NaN
        if nan:
            mask[4, 1] = np.nan
        self.mask = cr.tensor(mask)
        self.wts = cr.tensor(rng.standard_normal((2, 3, n, n)))

    def forward(self):
        s = self.q @ self.k.transpose(-2, -1) + self.mask.to(self.q.dtype)
        p = cr.nn.attention._masked_softmax(s)
        plain = cr.nn.functional.softmax(s[..., 3:, :] * 0.5, dim=-1)
        return (cr.nan_to_num(p) * self.wts.to(p.dtype)).sum() + \
            cr.nan_to_num(plain).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,nan", [(7, False), (131, False), (16, True)])
def test_softmax_matches_eager(n, nan, dtype):
    a, b, fn = _eager_and_jit(lambda: Attn(n, nan), lambda m: m(), dtype)
    assert {"softmax", "softmax_backward"} <= set(_kernels(fn))
    _close(a, b, TOL[dtype])


class AttnAdd(cr.nn.Module):
    """Scores plus a mask read only by the softmax (the transformer's shape):
    the add and the softmax become one kernel.  ``mask_first``: mask + s;
    ``full``: an addend of the scores' own shape."""

    def __init__(self, n, mask_first, full, all_masked_row):
        super().__init__()
        rng = np.random.default_rng(2)
        self.q = cr.nn.Parameter(cr.tensor(rng.standard_normal((2, 3, n, 8))
                                           .astype(np.float32)))  # .double()
        self.k = cr.nn.Parameter(cr.tensor(rng.standard_normal((2, 3, n, 8))
                                           .astype(np.float32)))
        mask = np.triu(np.full((n, n), -np.inf), 1)
        if all_masked_row:
            mask[2] = -np.inf  # zeros, not NaN
        if full:
            mask = mask + rng.standard_normal((2, 3, n, n))
        self.mask, self.mask_first = cr.tensor(mask), mask_first
        self.wts = cr.tensor(rng.standard_normal((2, 3, n, n)))

    def forward(self):
        s = self.q @ self.k.transpose(-2, -1)
        mask = self.mask.to(s.dtype)
        p = cr.nn.attention._masked_softmax(mask + s if self.mask_first
                                            else s + mask)
        return (p * self.wts.to(p.dtype)).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,mask_first,full", [(7, False, False), (131, True, False),
                                               (16, False, True)])
def test_scores_plus_mask_softmax_is_one_kernel_bit_identical(n, mask_first,
                                                              full, dtype):
    a, b, fn = _eager_and_jit(lambda: AttnAdd(n, mask_first, full, True),
                              lambda m: m(), dtype)
    assert "add_softmax" in _kernels(fn)
    np.testing.assert_array_equal(b[0], a[0])
    for name in a[1]:
        np.testing.assert_array_equal(b[1][name], a[1][name], err_msg=name)


def test_scores_plus_mask_softmax_gradients_match_torch():
    (loss, grads), _, _ = _eager_and_jit(
        lambda: AttnAdd(16, False, False, False), lambda m: m(), np.float64)
    m = AttnAdd(16, False, False, False).double()
    q = torch.tensor(m.q._data, requires_grad=True)
    k = torch.tensor(m.k._data, requires_grad=True)
    s = q @ k.transpose(-2, -1) + torch.from_numpy(m.mask._data)
    ref = (torch.softmax(s, -1) * torch.from_numpy(m.wts._data)).sum()
    ref.backward()
    np.testing.assert_allclose(loss, ref.item(), rtol=1e-12)
    np.testing.assert_allclose(grads["q"], q.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads["k"], k.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_softmax_values_nan_and_masked_rows_as_eager():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 9)).astype(np.float32)
    x[0, 1] = -np.inf
    x[1, 2, 3] = np.nan
    x[2, 0, :4] = np.inf
    xt = cr.tensor(x)
    for masked in (False, True):
        ref = cr.ops.fused.softmax(xt, 2, masked=masked)._data
        fn = cr.jit(lambda t: cr.ops.fused.softmax(t, 2, masked=masked),
                    backend="native")
        for _ in range(2):
            got = fn(xt)._data
        assert "softmax" in _kernels(fn)
        np.testing.assert_array_equal(got, ref)


class Gather(cr.nn.Module):
    """An embedding with repeated tokens, and a gather with negative indices."""

    def __init__(self):
        super().__init__()
        self.emb = cr.nn.Embedding(11, 6)
        self.table = cr.nn.Parameter(cr.tensor(np.random.default_rng(2)
                                               .standard_normal((9, 4))
                                               .astype(np.float32)))
        self.tok = cr.tensor(np.array([[1, 3, 3, 10], [0, 3, 1, 1]]))
        self.neg = cr.tensor(np.array([-1, 2, -9, 2, 8, -1]))

    def forward(self):
        e = self.emb(self.tok)
        r = self.table[self.neg]
        return (e * e).sum() + (r * r * r).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gather_gradient_matches_eager_and_torch(dtype):
    a, b, fn = _eager_and_jit(Gather, lambda m: m(), dtype)
    # the gather's gradient is native_scatter's row loop
    assert any(n.kind == "kernel" and n.prim.name.startswith("scatter_add")
               for n in fn.graphs()[-1].nodes)
    _close(a, b, TOL[dtype])
    if dtype == np.float64:
        cr.manual_seed(0)
        m = Gather().double()
        w = torch.tensor(m.emb.weight._data, requires_grad=True)
        t = torch.tensor(m.table._data, requires_grad=True)
        e = torch.nn.functional.embedding(torch.from_numpy(m.tok._data), w)
        r = t[torch.from_numpy(m.neg._data)]
        ((e * e).sum() + (r * r * r).sum()).backward()
        np.testing.assert_allclose(b[1]["emb.weight"], w.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(b[1]["table"], t.grad.numpy(), rtol=1e-12)


def test_native_off_replays_numpy(monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_NATIVE", "0")
    native._notice.append(1)  # the one notice may have been given already
    a, b, fn = _eager_and_jit(lambda: LN((2, 3), 16, True, False), lambda m: m(),
                              np.float64, backend="auto")
    assert _kernels(fn) == []
    assert {"layer_norm", "layer_norm_backward"} <= {n.name for n in
                                                     fn.graphs()[-1].nodes}
    np.testing.assert_array_equal(b[0], a[0])
    for n in a[1]:
        np.testing.assert_array_equal(b[1][n], a[1][n])
