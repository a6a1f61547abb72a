"""The whole-step kernel (chainrule/jit/whole_step.py): a dense training step
compiled into one C function equals eager, falls back to replay when an
input is off, and steps aside when a node is not covered."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.jit import blas, native


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_CACHE", str(tmp_path_factory.getbasetemp()
                                                  / "jit-cache"))
    if not native.available() or blas.gemm_pair() is None:
        pytest.skip("no C compiler or no CBLAS in NumPy's BLAS")


def _mlp(dtype, act=cr.nn.ReLU):
    return cr.nn.Sequential(cr.nn.Linear(12, 32), act(), cr.nn.Linear(32, 32), act(),
                            cr.nn.Linear(32, 5)).to(dtype)


def _ce(out, y):
    return cr.nn.functional.cross_entropy(out, y)


def _make(loss_fn, dtype, act=cr.nn.ReLU, jit=False, **opt):
    cr.manual_seed(0)
    model = _mlp(dtype, act)
    o = cr.optim.Adam(model.parameters(), lr=1e-2, **opt)

    def step(x, y):
        o.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        o.step()
        return loss

    return model, o, (cr.jit(step) if jit else step)


def _batch(i, dtype, n=24):
    rng = np.random.default_rng(i)
    x = cr.from_numpy(rng.standard_normal((n, 12)).astype(dtype))
    return x, cr.from_numpy(rng.integers(0, 5, n))


def _state(model, o):
    out = [p._data.copy() for p in model.parameters()]
    out += [p.grad._data.copy() for p in model.parameters()]
    for st in o.state.values():
        out += [v._data.copy() for v in st.values() if isinstance(v, cr.Tensor)]
    return out


def _compare(loss_fn, dtype, steps, rtol=0.0, act=cr.nn.ReLU, batch=_batch, **opt):
    m1, o1, s1 = _make(loss_fn, dtype, act, **opt)
    m2, o2, s2 = _make(loss_fn, dtype, act, jit=True, **opt)
    for i in range(steps):
        x, y = batch(i, dtype)
        a, b = s1(x, y), s2(x, y)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=rtol,
                                   atol=0)
        for u, v in zip(_state(m1, o1), _state(m2, o2)):
            np.testing.assert_allclose(v, u, rtol=rtol, atol=0)
    return s2


def _is_whole(step):
    nodes = step.graphs()[-1].nodes
    return len(nodes) == 1 and nodes[0].kind == "kernel" and \
        nodes[0].prim.name.startswith("step_")


def test_float32_steps_equal_eager_bit_for_bit():
    step = _compare(_ce, np.float32, steps=4)
    assert _is_whole(step)
    assert "ucall" in step.graphs()[-1].nodes[0].prim.src  # NumPy's exp/log


def test_float64_twenty_steps_within_1e10():
    step = _compare(_ce, np.float64, steps=20, rtol=1e-10, weight_decay=0.1)
    assert _is_whole(step)


def test_adamw_and_a_loss_with_broadcasts_and_a_transpose():
    c = cr.from_numpy(np.linspace(-1, 1, 5).astype(np.float32))

    def loss(out, y):  # (N, 5) * (5,), a transpose read elementwise, full sum
        return (out.t() * out.t()).sum() * 0.01 + (out * c).sum(1).sum(0) * 0.1 + \
            _ce(out, y)

    step = _compare(loss, np.float32, steps=3)
    assert _is_whole(step)


def test_native_disabled_runs_replay(monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_NATIVE", "0")
    with warnings.catch_warnings():  # the one "no C compiler" notice
        warnings.simplefilter("ignore", RuntimeWarning)
        step = _compare(_ce, np.float32, steps=3)
    assert all(n.kind != "kernel" for n in step.graphs()[-1].nodes)


def test_whole_step_off_uses_per_node_kernels(monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_WHOLE", "0")
    step = _compare(_ce, np.float32, steps=3)
    names = [n.name for n in step.graphs()[-1].nodes]
    assert "linear" in names and not _is_whole(step)


def test_uncovered_node_keeps_the_per_node_backends():
    step = _compare(_ce, np.float32, steps=3, act=cr.nn.Sigmoid)
    assert not _is_whole(step)


def test_non_contiguous_argument_falls_back_to_replay():
    def batch(i, dtype):
        x, y = _batch(i, dtype)
        if i == 3:  # same shape and dtype (same cache key), not C-contiguous
            x = cr.from_numpy(np.asfortranarray(x.numpy()))
            assert not x._data.flags.c_contiguous
        return x, y

    step = _compare(_ce, np.float32, steps=4, batch=batch)
    assert _is_whole(step)


def test_bad_class_index_raises_eagers_error_and_writes_nothing():
    model, o, step = _make(_ce, np.float32, jit=True)
    for i in range(3):
        step(*_batch(i, np.float32))
    assert _is_whole(step)
    n = len(list(model.parameters()))
    before = _state(model, o)
    x, y = _batch(9, np.float32)
    y._data[4] = 7  # 5 classes
    m1, o1, s1 = _make(_ce, np.float32)
    with pytest.raises(Exception) as eager:
        s1(x, y)
    with pytest.raises(type(eager.value), match="out of bounds"):
        step(x, y)
    # zero_grad ran (as in eager), nothing else was written
    assert all(p.grad is None for p in model.parameters())
    after = [p._data for p in model.parameters()] + [
        v._data for st in o.state.values() for v in st.values()
        if isinstance(v, cr.Tensor)]
    for u, v in zip(before[:n] + before[2 * n:], after):
        np.testing.assert_array_equal(u, v)


def test_nan_in_a_batch_propagates_as_in_eager():
    def batch(i, dtype):
        x, y = _batch(i, dtype)
        if i == 2:
            x._data[3, 1] = np.nan
        return x, y

    step = _compare(_ce, np.float32, steps=4, batch=batch)
    assert _is_whole(step)
