"""The native ``index_grad`` (``chainrule/jit/native_scatter.py``): the
gradient of a row lookup, bit-identical to the NumPy forward (``add.at``),
repeated and negative indices included."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.jit import native

needs_cc = pytest.mark.skipif(not native.available(), reason="no C compiler")


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_CACHE", str(tmp_path_factory.getbasetemp()
                                                  / "jit-cache"))


def _scatter_kernels(fn):
    return [n for g in fn.graphs() for n in g.nodes
            if n.kind == "kernel" and n.prim.name.startswith("scatter_add")]


@needs_cc
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lookup_gradient_is_bit_identical(dtype, monkeypatch):
    rng = np.random.default_rng(0)
    idx = np.array([[0, 4, -1, 2], [4, 4, 1, -5], [3, 0, 0, 2]])  # repeats, < 0
    w = cr.from_numpy(rng.standard_normal((5, 3, 2)).astype(dtype)).requires_grad_()
    c = cr.from_numpy(rng.standard_normal((3, 4, 3, 2)).astype(dtype))

    def f(w, c):
        return cr.autograd.grad((w[cr.from_numpy(idx)] * c).sum(), [w])[0]

    from chainrule.ops.index import index_grad_p

    calls = []
    numpy_forward = index_grad_p.forward
    monkeypatch.setattr(index_grad_p, "forward",
                        lambda *a, **k: calls.append(1) or numpy_forward(*a, **k))
    fn = cr.jit(f, backend="native")
    fn(w, c)  # the trace: eager, through the NumPy forward
    assert calls
    calls.clear()
    got = fn(w, c)
    assert len(_scatter_kernels(fn)) == 1 and not calls  # the C loop ran
    ref = f(w, c)
    assert got.dtype == ref.dtype
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    # The oracle: the sum of c's rows per looked-up row, in float64.
    expect = np.zeros((5, 3, 2))
    for p, r in np.ndenumerate(idx):
        expect[r] += c.numpy()[p]
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-6, atol=1e-6)


@needs_cc
def test_embedding_training_equals_eager():
    def run(compile):
        cr.manual_seed(0)
        model = cr.nn.Sequential(cr.nn.Embedding(7, 4), cr.nn.Flatten(),
                                 cr.nn.Linear(12, 2)).double()
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        fn = step if compile is None else compile(step)
        # A new token batch each step: the index array is an input of the
        # compiled step, not a constant of its trace.
        batches = np.random.default_rng(1).integers(0, 7, (4, 2, 3))
        losses = [fn(cr.from_numpy(x)).detach().numpy() for x in batches]
        return fn, losses, [p.detach().numpy() for p in model.parameters()]

    _, l1, p1 = run(None)
    fn, l2, p2 = run(lambda f: cr.jit(f, backend="native"))
    assert _scatter_kernels(fn)
    for a, b in zip(l2 + p2, l1 + p1):
        np.testing.assert_array_equal(a, b)
