"""The native convolution and pooling kernels (``chainrule/jit/native_conv.py``)
against eager chainrule and PyTorch: values and gradients of conv2d, max
pooling (ties, NaN, padding, overlapping windows) and their backward over
several geometries, float32 and float64; the nodes really are kernels; an
input gradient nobody reads is skipped; ``CHAINRULE_JIT_NATIVE=0`` replays
NumPy."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.jit import blas, native, native_conv

pytestmark = pytest.mark.skipif(
    not native.available() or not blas.gemms(),
    reason="no C compiler or no CBLAS gemm")


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_CACHE", str(tmp_path_factory.getbasetemp()
                                                  / "jit-cache"))


class Net(cr.nn.Module):
    """The input as a parameter (so its gradient is state the step writes),
    a convolution and a max pooling; ``input_grad`` False: a plain buffer."""

    def __init__(self, x, conv, pool, input_grad=True, relu=None):
        super().__init__()
        self.relu = relu  # None, "only" (folded into the kernel), "shared"
        if input_grad:
            self.inp = cr.nn.Parameter(cr.tensor(x))
        else:
            self.register_buffer("inp", cr.tensor(x))
        self.conv = cr.nn.Conv2d(**conv)
        self.pool = pool

    def forward(self, wts):
        h = pre = self.conv(self.inp)
        if self.relu is not None:
            h = cr.nn.functional.relu(h)
        if self.pool is not None:
            h = cr.nn.functional.max_pool2d(h, **self.pool)
        out = (h * wts).sum()
        if self.relu == "shared":  # the pre-activation has a second reader
            out = out + (pre * pre).sum()
        return out


def _build(x, conv, pool, dtype, input_grad=True, seed=0, relu=None):
    cr.manual_seed(seed)
    net = Net(x, conv, pool, input_grad, relu)
    return net.double() if dtype == np.float64 else net


def _step(net):
    def step(wts):
        net.zero_grad()
        loss = net(wts)
        loss.backward()
        return loss

    return step


def _out_shape(net, dtype):
    with cr.no_grad():
        h = net.conv(net.inp)
        if net.pool is not None:
            h = cr.nn.functional.max_pool2d(h, **net.pool)
    return h.shape


def _run(x, conv, pool, dtype, input_grad=True, calls=3, backend="native",
         relu=None):
    """(loss, {name: grad}) of eager and of the jitted step after ``calls``
    calls, and the jitted function."""
    rng = np.random.default_rng(1)
    ref_net = _build(x, conv, pool, dtype, input_grad, relu=relu)
    wts = cr.tensor(rng.standard_normal(_out_shape(ref_net, dtype)).astype(dtype))
    ref = _step(ref_net)(wts)
    net = _build(x, conv, pool, dtype, input_grad, relu=relu)
    fn = cr.jit(_step(net), backend=backend)
    for _ in range(calls):
        out = fn(wts)
    grads = lambda m: {n: p.grad._data.copy() for n, p in m.named_parameters()}  # noqa: E731
    return (ref._data, grads(ref_net)), (out._data, grads(net)), fn


def _kernel_names(fn):
    g = fn.graphs()[-1]
    return sorted({n.prim.name.split(":")[-1] for n in g.nodes
                   if n.kind == "kernel" and ":" in n.prim.name})


GEOMETRIES = [
    # (in channels, image, conv kwargs beyond channels, pool kwargs or None)
    (1, (9, 9), dict(kernel_size=3, padding=1), dict(kernel_size=2)),
    (3, (8, 10), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
     dict(kernel_size=3, stride=1, padding=1)),  # overlapping, padded windows
    (2, (11, 9), dict(kernel_size=3, dilation=2, padding=2, bias=False),
     dict(kernel_size=2, stride=2, ceil_mode=True)),
    (4, (7, 7), dict(kernel_size=1), dict(kernel_size=3, stride=2, dilation=2,
                                           padding=1)),
    (2, (6, 6), dict(kernel_size=5, padding=(2, 1), stride=3), None),
]


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-6), (np.float64, 1e-10)])
@pytest.mark.parametrize("geom", GEOMETRIES, ids=lambda g: f"c{g[0]}-{g[1]}")
def test_native_conv_pool_matches_eager(geom, dtype, rtol):
    cin, hw, conv, pool = geom
    x = np.random.default_rng(0).standard_normal((3, cin) + hw).astype(dtype)
    conv = dict(conv, in_channels=cin, out_channels=5)
    (l0, g0), (l1, g1), fn = _run(x, conv, pool, dtype)
    kinds = _kernel_names(fn)
    assert "conv2d" in kinds and "conv2d_backward" in kinds
    if pool is not None:
        assert "max_pool" in kinds and "pool_scatter" in kinds
    assert sum(e.hits for e in fn._cache.values()) >= 1
    np.testing.assert_allclose(l1, l0, rtol=rtol, atol=0)
    for n in g0:
        scale = np.abs(g0[n]).max() + 1e-30
        assert np.abs(g1[n] - g0[n]).max() <= rtol * scale, n


@pytest.mark.parametrize("geom", GEOMETRIES, ids=lambda g: f"c{g[0]}-{g[1]}")
def test_native_conv_pool_gradients_match_torch(geom):
    """float64 oracle: the jitted (native) gradients against PyTorch's."""
    cin, hw, conv, pool = geom
    x = np.random.default_rng(0).standard_normal((3, cin) + hw)
    conv = dict(conv, in_channels=cin, out_channels=5)
    _, (loss, grads), fn = _run(x, conv, pool, np.float64)
    net = _build(x, conv, pool, np.float64)
    tx = torch.tensor(x, requires_grad=True)
    tconv = torch.nn.Conv2d(**conv).double()
    with torch.no_grad():
        tconv.weight.copy_(torch.from_numpy(net.conv.weight._data))
        if tconv.bias is not None:
            tconv.bias.copy_(torch.from_numpy(net.conv.bias._data))
    h = tconv(tx)
    if pool is not None:
        h = torch.nn.functional.max_pool2d(h, **pool)
    rng = np.random.default_rng(1)
    wts = torch.from_numpy(rng.standard_normal(tuple(h.shape)))
    (h * wts).sum().backward()
    np.testing.assert_allclose(loss, (h * wts).sum().item(), rtol=1e-10)
    np.testing.assert_allclose(grads["inp"], tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["conv.weight"], tconv.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    if tconv.bias is not None:
        np.testing.assert_allclose(grads["conv.bias"], tconv.bias.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-6), (np.float64, 1e-10)])
@pytest.mark.parametrize("relu", ["only", "shared"])
def test_relu_after_convolution(relu, dtype, rtol):
    """A relu that is the convolution's only reader is folded into the
    kernel's bias pass; one that shares the output with another reader is
    not.  Both as eager."""
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 7)).astype(dtype)
    x[1, 1] = -0.0
    conv = dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)
    (l0, g0), (l1, g1), fn = _run(x, conv, dict(kernel_size=2), dtype, relu=relu)
    names = [n.prim.name for n in fn.graphs()[-1].nodes if n.kind == "kernel"]
    fused = [n for n in names if n.endswith("conv2d_relu")]
    assert len(fused) == (1 if relu == "only" else 0)
    np.testing.assert_allclose(l1, l0, rtol=rtol)
    for n in g0:
        np.testing.assert_allclose(g1[n], g0[n], rtol=rtol, atol=rtol *
                                   np.abs(g0[n]).max(), err_msg=n)


def test_input_gradient_nobody_reads_is_skipped():
    """The first layer's input needs no gradient: its col2im is not run, and
    the weight and bias gradients are still eager's."""
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    conv = dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)
    (l0, g0), (l1, g1), fn = _run(x, conv, dict(kernel_size=2), np.float32,
                                   input_grad=False)
    bwd = [n for n in fn.graphs()[-1].nodes
           if n.kind == "kernel" and n.prim.name.endswith("conv2d_backward")]
    assert len(bwd) == 1 and bwd[0].prim.needed[0] is False
    np.testing.assert_allclose(l1, l0, rtol=1e-6)
    for n in g0:
        np.testing.assert_allclose(g1[n], g0[n], rtol=1e-6, atol=1e-7 *
                                   np.abs(g0[n]).max())


def _pool_eager_and_native(x, **pool):
    """max_pool2d values and indices, eager and through the native kernel."""
    xt = cr.tensor(x)
    ref = cr.nn.functional.max_pool2d(xt, return_indices=True, **pool)
    fn = cr.jit(lambda t: cr.nn.functional.max_pool2d(t, return_indices=True,
                                                      **pool), backend="native")
    for _ in range(2):
        out = fn(xt)
    assert "max_pool" in _kernel_names(fn)
    return [r._data for r in ref], [o._data for o in out]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_ties_nan_and_padding_as_eager_and_torch(dtype):
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, (2, 3, 9, 8)).astype(dtype)  # many ties
    x[0, 0, 1, 1] = x[1, 2, 4, 5] = np.nan
    x[0, 1, :3, :3] = -np.inf  # a window of -inf beside the padding
    even = x[:, :, :8, :6].copy()  # 2x2 windows tiling it: the kernel's fast path
    even[1, 1, 2:4, 2:4] = [[0, 1], [1, 1]]  # ties across the window's rows
    # one NaN per window: with several, PyTorch reports the last one and the
    # eager primitive (which the kernel follows) the first
    even[1, 0, 0:2, 0:2] = [[1, 1], [np.nan, 2]]
    even[0, 2, 4:6, 0:2] = [[0, 1], [np.nan, 1]]
    for x, pool in ((x, dict(kernel_size=2)), (even, dict(kernel_size=2)),
                    (x, dict(kernel_size=3, stride=2, padding=1)),
                    (x, dict(kernel_size=3, stride=1, padding=1, dilation=1)),
                    (x, dict(kernel_size=2, stride=2, ceil_mode=True))):
        (v0, i0), (v1, i1) = _pool_eager_and_native(x, **pool)
        np.testing.assert_array_equal(i1, i0)
        np.testing.assert_array_equal(v1, v0)
        tv, ti = torch.nn.functional.max_pool2d(torch.from_numpy(x),
                                                return_indices=True, **pool)
        np.testing.assert_array_equal(i1, ti.numpy())
        np.testing.assert_array_equal(v1, tv.numpy())
    multi = even.copy()  # several NaNs in a window: as eager (the first)
    multi[1, 0, 0:2, 0:2] = [[1, np.nan], [np.nan, np.nan]]
    (v0, i0), (v1, i1) = _pool_eager_and_native(multi, kernel_size=2)
    np.testing.assert_array_equal(i1, i0)
    np.testing.assert_array_equal(v1, v0)


def test_native_off_replays_numpy(monkeypatch):
    """``CHAINRULE_JIT_NATIVE=0``: no convolution kernels, same results."""
    monkeypatch.setenv("CHAINRULE_JIT_NATIVE", "0")
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6))
    conv = dict(in_channels=2, out_channels=3, kernel_size=3, padding=1)
    with pytest.warns(RuntimeWarning) if not native._notice else _nothing():
        (l0, g0), (l1, g1), fn = _run(x, conv, dict(kernel_size=2), np.float64,
                                       backend="auto")
    assert _kernel_names(fn) == []
    assert {n.name for n in fn.graphs()[-1].nodes} >= {"conv2d", "max_pool"}
    np.testing.assert_array_equal(l1, l0)
    for n in g0:
        np.testing.assert_array_equal(g1[n], g0[n])


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_folded_into_convolution_keeps_nan_and_zeros(dtype):
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6)).astype(dtype)
    x[0, 1, 2, 2] = np.nan
    cr.manual_seed(0)
    conv = cr.nn.Conv2d(2, 3, 3, padding=1)
    conv = conv.double() if dtype == np.float64 else conv
    with cr.no_grad():
        conv.bias.zero_()
    xt = cr.tensor(x)
    xt._data[1] = 0.0  # zero windows: outputs exactly 0
    f = lambda t: cr.nn.functional.relu(conv(t))  # noqa: E731
    fn = cr.jit(f, backend="native")
    with cr.no_grad():
        ref = f(xt)._data
        for _ in range(2):
            got = fn(xt)._data
    assert any(n.kind == "kernel" and n.prim.name.endswith("conv2d_relu")
               for n in fn.graphs()[-1].nodes)
    assert np.isnan(ref).any()
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))


def test_kernel_falls_back_to_numpy_on_another_dtype():
    """A lowered convolution (with its relu folded in) handed arrays of a dtype
    it was not built for runs the NumPy forwards instead."""
    from chainrule.ops import conv as C
    from chainrule.ops.elementwise import relu_p
    from chainrule.jit.ir import Graph, Node

    geom = dict(kernel=(3, 3), dilation=(1, 1), padding=(1, 1, 1, 1),
                stride=(1, 1), windows=(5, 5), size=(5, 5))
    g = Graph()
    ids = [g.new_value("arg", i, s, np.dtype(np.float32), True)
           for i, s in enumerate([(2, 3, 5, 5), (4, 3, 3, 3), (4,)])]
    out, cols, act = (g.new_value("node", k, (), np.dtype(np.float32), True)
                      for k in range(3))
    g.nodes = [Node("prim", C.conv2d_p, ids, dict(geom), [out, cols]),
               Node("prim", relu_p, [out], {}, [act])]
    g.outputs = [act, cols]
    native_conv.lower(g)
    assert len(g.nodes) == 1 and g.nodes[0].prim.name.endswith("conv2d_relu")
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s) for s in [(2, 3, 5, 5), (4, 3, 3, 3), (4,)])
    env = [x, w, b, None, None, None]
    g.nodes[0].prim.step(g.nodes[0])(env)  # float64 arrays: the fallback
    ref, ref_cols = C._conv2d_fwd(x, w, b, **geom)
    np.testing.assert_array_equal(env[act], np.maximum(ref, 0))
    np.testing.assert_array_equal(env[cols], ref_cols)
    assert env[out] is None
