"""The native LSTM kernels (``chainrule/jit/native_lstm.py``): ``lstm_seq``
and its backward as generated C with BLAS gemms, against eager (the NumPy
primitive), the NumPy replay and PyTorch, in float64 and float32, and the
fallbacks when the kernel cannot be had."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.jit import blas, native, native_lstm
from chainrule.ops.fused import lstm_seq

needs_cc = pytest.mark.skipif(not native.available() or not blas.gemms(),
                              reason="no C compiler or no CBLAS gemm found")


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_CACHE", str(tmp_path_factory.getbasetemp()
                                                  / "jit-cache"))


def _rel(a, b):
    """Largest difference relative to the reference's largest entry."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def _lstm_kernels(fn):
    return [n for g in fn.graphs() for n in g.nodes
            if n.kind == "kernel" and n.prim.name.startswith("lstm_")]


def _seq_and_grads(xg, whh, h0, c0, w_out, w_h, w_c, reverse):
    """The sequence primitive's outputs and the gradients of a loss that
    weights every output (so each incoming gradient is non-trivial)."""
    out, h, c = lstm_seq(xg, whh, h0, c0, reverse=reverse)
    loss = (out * w_out).sum() + (h * w_h).sum() + (c * w_c).sum()
    grads = cr.autograd.grad(loss, [xg, whh, h0, c0])
    return (out, h, c, *grads)


def _inputs(steps, batch, hid, dtype, seed=0):
    rng = np.random.default_rng(seed)

    def t(*shape, scale=1.0, grad=False):
        x = cr.from_numpy((rng.standard_normal(shape) * scale).astype(dtype))
        return x.requires_grad_() if grad else x

    return (t(steps, batch, 4 * hid, scale=2.0, grad=True),
            t(4 * hid, hid, scale=0.5, grad=True), t(batch, hid, grad=True),
            t(batch, hid, grad=True), t(steps, batch, hid), t(batch, hid),
            t(batch, hid))


@needs_cc
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("shape", [(7, 3, 5), (1, 1, 4), (2, 4, 1)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("reverse", [False, True])
def test_kernel_equals_eager_and_replay(dtype, tol, shape, reverse):
    # Bit for bit, except with a batch or hidden size of 1: there NumPy's
    # matmul takes a gemv or its own loop, which round unlike the gemm.
    exact = min(shape[1:]) > 1
    args = _inputs(*shape, dtype)

    def f(*a):
        return _seq_and_grads(*a, reverse=reverse)

    eager = f(*args)
    nat = cr.jit(f, backend="native")
    rep = cr.jit(f, backend="replay")
    for _ in range(2):  # trace (eager), then the compiled graph
        got, ref = nat(*args), rep(*args)
    assert len(_lstm_kernels(nat)) == 2  # forward and backward
    assert not _lstm_kernels(rep)
    names = ["out", "h_T", "c_T", "d xg", "d W_hh", "d h0", "d c0"]
    for name, e, n, r in zip(names, eager, got, ref):
        assert n.dtype == e.dtype and n.shape == e.shape, name
        np.testing.assert_array_equal(r.numpy(), e.detach().numpy(), err_msg=name)
        if exact:
            np.testing.assert_array_equal(n.numpy(), e.detach().numpy(),
                                          err_msg=name)
        err = _rel(n.numpy(), e.detach().numpy())
        assert err <= tol, f"{name}: relative difference {err:.3g}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eager_hidden_size_one_matches_the_composite(dtype):
    """The NumPy primitive with one hidden unit (gate slices are column
    views) against its definition, step by step in chainrule ops."""
    from chainrule.ops.fused import lstm_seq_composite

    xg, whh, h0, c0 = _inputs(4, 3, 1, dtype)[:4]
    for a, b in zip(lstm_seq(xg, whh, h0, c0),
                    lstm_seq_composite(xg, whh, h0, c0, False)):
        assert _rel(a.detach().numpy(), b.detach().numpy()) <= 1e-6


class _Net(cr.nn.Module):
    """Two bidirectional LSTM layers and a linear head: forward and reverse
    kernels, a layer fed by another, h0/c0 from the argument."""

    def __init__(self, bias=True):
        super().__init__()
        self.lstm = cr.nn.LSTM(3, 6, num_layers=2, bidirectional=True, bias=bias)
        self.head = cr.nn.Linear(12, 2)

    def forward(self, x, h0, c0):
        out, (h, c) = self.lstm(x, (h0, c0))
        return self.head(out).pow(2).mean() + h.sum() * 0.1 + c.sum() * 0.1


def _batch(i, dtype):
    rng = np.random.default_rng(100 + i)
    return [cr.from_numpy(rng.standard_normal(s).astype(dtype))
            for s in [(5, 4, 3), (4, 4, 6), (4, 4, 6)]]


def _training(dtype, steps, backend, optim="Adam", bias=True):
    """Losses, parameters and gradients of ``steps`` optimizer steps: eager
    or (with a ``backend``) compiled."""
    cr.manual_seed(0)
    model = _Net(bias).to(dtype=cr.float64 if dtype == np.float64 else cr.float32)
    opt = getattr(cr.optim, optim)(model.parameters(), lr=1e-2)

    def step(x, h0, c0):
        opt.zero_grad()
        loss = model(x, h0, c0)
        loss.backward()
        opt.step()
        return loss

    fn = step if backend is None else cr.jit(step, backend=backend)
    losses = [fn(*_batch(i, dtype)).detach().numpy() for i in range(steps)]
    params = [p.detach().numpy() for p in model.parameters()]
    grads = [p.grad.numpy() for p in model.parameters()]
    return fn, losses, params, grads


@needs_cc
@pytest.mark.parametrize("dtype,steps,bias", [(np.float64, 20, True),
                                              (np.float64, 4, False),
                                              (np.float32, 4, True)])
def test_training_steps_match_eager(dtype, steps, bias):
    # Bit for bit.  The third call is the first compiled one (two traces:
    # before and after Adam has state).
    _, l1, p1, g1 = _training(dtype, steps, None, bias=bias)
    fn, l2, p2, g2 = _training(dtype, steps, "native", bias=bias)
    kernels = _lstm_kernels(fn)
    assert len(kernels) >= 8  # 2 layers x 2 directions x forward/backward
    # Each forward computes its input projection (and bias) itself, each
    # backward the bias gradient.
    assert sum("_proj" in n.params for n in kernels) >= 4
    assert sum("_bias_grad" in n.params for n in kernels) == (4 if bias else 0)
    assert sum(e.hits for e in fn._cache.values()) == steps - 2
    for a, b in zip(l2 + p2 + g2, l1 + p1 + g1):
        np.testing.assert_array_equal(a, b)


@needs_cc
def test_gradients_match_pytorch_float64():
    torch = pytest.importorskip("torch")
    cr.manual_seed(0)
    model = _Net().double()
    tl = torch.nn.LSTM(3, 6, num_layers=2, bidirectional=True).double()
    th = torch.nn.Linear(12, 2).double()
    with torch.no_grad():
        for (name, p) in model.lstm.named_parameters():
            getattr(tl, name).copy_(torch.from_numpy(p.detach().numpy()))
        th.weight.copy_(torch.from_numpy(model.head.weight.detach().numpy()))
        th.bias.copy_(torch.from_numpy(model.head.bias.detach().numpy()))

    def grads(x, h0, c0):
        loss = model(x, h0, c0)
        return [loss, *cr.autograd.grad(loss, list(model.lstm.parameters()))]

    fn = cr.jit(grads, backend="native")
    for _ in range(2):
        got = fn(*_batch(0, np.float64))
    assert len(_lstm_kernels(fn)) == 8
    x, h0, c0 = (torch.from_numpy(a.numpy()) for a in _batch(0, np.float64))
    out, (h, c) = tl(x, (h0, c0))
    loss = th(out).pow(2).mean() + h.sum() * 0.1 + c.sum() * 0.1
    ref = [loss, *torch.autograd.grad(loss, list(tl.parameters()))]
    for a, b in zip(got, ref):
        assert _rel(a.numpy(), b.detach().numpy()) <= 1e-10


def _exact_with(optim="Adam"):
    """Three compiled float64 steps against eager, bit for bit (the LSTM runs
    as NumPy replay; Adam's kernel is bit-identical to its primitive)."""
    _, l1, p1, g1 = _training(np.float64, 3, None, optim)
    fn, l2, p2, g2 = _training(np.float64, 3, "auto", optim)
    for a, b in zip(l2 + p2 + g2, l1 + p1 + g1):
        np.testing.assert_array_equal(a, b)
    return fn


def test_native_disabled_runs_replay(monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_NATIVE", "0")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "chainrule.jit: no C compiler")
        fn = _exact_with()
    assert not _lstm_kernels(fn)
    assert any(n.name == "lstm_seq" for g in fn.graphs() for n in g.nodes)


def test_failed_build_leaves_replay_nodes(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    with pytest.warns(RuntimeWarning) as rec:  # SGD: no Adam kernel to fail first
        fn = _exact_with("SGD")
    assert any("LSTM kernel build failed" in str(w.message) for w in rec)
    assert not _lstm_kernels(fn)


def test_no_blas_leaves_replay_nodes(monkeypatch):
    if not native.available():
        pytest.skip("no C compiler")
    monkeypatch.setattr(blas, "gemms", lambda: {})
    fn = _exact_with()
    assert not _lstm_kernels(fn)
    assert any(n.name == "lstm_seq_backward" for g in fn.graphs() for n in g.nodes)


@needs_cc
def test_run_time_fallback_is_the_numpy_steps(monkeypatch):
    """Arrays a kernel cannot take (another dtype, an empty dimension) run
    the NumPy steps the node stands for, projection and bias gradient
    included: forced here, the compiled steps equal eager bit for bit."""
    monkeypatch.setattr(native_lstm.LstmKernel, "_ready", lambda self, arrays: None)
    fn = _exact_with()
    kernels = _lstm_kernels(fn)
    assert any("_proj" in n.params for n in kernels)
    assert any("_bias_grad" in n.params for n in kernels)


@needs_cc
@pytest.mark.parametrize("share", [False, True])
def test_projection_fused_only_when_nothing_else_reads_it(share):
    rng = np.random.default_rng(3)
    x, w, b = (cr.from_numpy(rng.standard_normal(s)) for s in [(12, 3), (8, 3), (8,)])
    whh, h0, c0 = (cr.from_numpy(rng.standard_normal(s)) for s in [(8, 2), (4, 2),
                                                                   (4, 2)])

    def f(x, w, b, whh, h0, c0):
        xg = (x @ w.t() + b).reshape(3, 4, 8)
        out = lstm_seq(xg, whh, h0, c0)[0]
        return (out, xg * 2) if share else (out,)

    fn = cr.jit(f, backend="native")
    for _ in range(2):
        got = fn(x, w, b, whh, h0, c0)
    (k,) = _lstm_kernels(fn)
    assert ("_proj" in k.params) is not share
    for a, e in zip(got, f(x, w, b, whh, h0, c0)):
        assert _rel(a.numpy(), e.numpy()) <= 1e-12
