"""chainrule.jit / chainrule.compile: replay equals eager, guards, breaks."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import chainrule as cr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    """Kernels built by the tests go to a temporary cache, not the user's."""
    monkeypatch.setenv("CHAINRULE_JIT_CACHE", str(tmp_path_factory.getbasetemp()
                                                  / "jit-cache"))


def _state(model, opt):
    out = [p._data.copy() for p in model.parameters()]
    out += [None if p.grad is None else p.grad._data.copy() for p in model.parameters()]
    out += [b._data.copy() for b in model.buffers()]
    for st in opt.state.values():
        out += [v._data.copy() for v in st.values() if isinstance(v, cr.Tensor)]
    return out


def _assert_same_state(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if x is None or y is None:
            assert x is None and y is None
        else:
            np.testing.assert_array_equal(x, y)


def _pair(build, make_opt, seed=0):
    out = []
    for _ in range(2):
        cr.manual_seed(seed)
        m = build()
        out.append((m, make_opt(m)))
    return out


def _run_both(build, make_opt, batches, loss_fn, backend="replay", steps=4):
    (m1, o1), (m2, o2) = _pair(build, make_opt)

    def step1(x, y):
        o1.zero_grad()
        loss = loss_fn(m1(x), y)
        loss.backward()
        o1.step()
        return loss

    @cr.jit(backend=backend)
    def step2(x, y):
        o2.zero_grad()
        loss = loss_fn(m2(x), y)
        loss.backward()
        o2.step()
        return loss

    for i in range(steps):
        x, y = batches(i)
        cr.manual_seed(100 + i)
        a = step1(x, y)
        r1 = cr.get_rng_state()
        cr.manual_seed(100 + i)
        b = step2(x, y)
        assert cr.get_rng_state() == r1, "generator state differs after the call"
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        _assert_same_state(_state(m1, o1), _state(m2, o2))
    return step2


def _mlp_batches(i):
    rng = np.random.default_rng(i)
    return (cr.tensor(rng.standard_normal((16, 8)).astype(np.float32)),
            cr.tensor(rng.integers(0, 3, 16)))


def _ce(out, y):
    return cr.nn.functional.cross_entropy(out, y)


def test_mlp_adam_replay_is_bit_identical():
    step = _run_both(lambda: cr.nn.Sequential(cr.nn.Linear(8, 16), cr.nn.ReLU(),
                                              cr.nn.Linear(16, 3)),
                     lambda m: cr.optim.Adam(m.parameters(), lr=1e-2),
                     _mlp_batches, _ce)
    assert step.traces == 2  # the first step creates Adam's state
    assert sum(e.hits for e in step._cache.values()) == 2


def test_batchnorm_dropout_sgd_buffers_and_rng():
    def build():
        return cr.nn.Sequential(cr.nn.Linear(8, 16), cr.nn.BatchNorm1d(16),
                                cr.nn.ReLU(), cr.nn.Dropout(0.3), cr.nn.Linear(16, 3))

    step = _run_both(build, lambda m: cr.optim.SGD(m.parameters(), lr=0.1,
                                                   momentum=0.9),
                     _mlp_batches, _ce)
    assert "not replayable" not in cr.jit.explain(step)


def test_native_backend_matches_eager_closely():
    from chainrule.jit import native
    if not native.available():
        pytest.skip("no C compiler")
    (m1, o1), (m2, o2) = _pair(lambda: cr.nn.Sequential(
        cr.nn.Linear(8, 16), cr.nn.Tanh(), cr.nn.Linear(16, 3)).double(),
        lambda m: cr.optim.Adam(m.parameters(), lr=1e-2))

    def make(m, o):
        def step(x, y):
            o.zero_grad()
            loss = _ce(m(x), y)
            loss.backward()
            o.step()
            return loss
        return step

    s1, s2 = make(m1, o1), cr.jit(make(m2, o2), backend="native")
    for i in range(20):
        x, y = _mlp_batches(i)
        x = x.double()
        a, b = s1(x, y), s2(x, y)
        np.testing.assert_allclose(a.item(), b.item(), rtol=1e-10)
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    assert any(n.kind == "kernel" for g in s2.graphs() for n in g.nodes)


def test_retrace_on_shape_dtype_and_mode():
    model = cr.nn.Sequential(cr.nn.Linear(4, 4), cr.nn.Dropout(0.5))

    @cr.jit
    def f(x):
        return model(x) * 2

    x = cr.randn(3, 4)
    f(x)
    f(x)
    assert f.traces == 1
    f(cr.randn(5, 4))
    assert f.retraces == 1 and "(3, 4)" in f.reasons[-1] and "(5, 4)" in f.reasons[-1]
    g = cr.jit(lambda x: x * 2)
    g(cr.randn(5, 4))
    g(cr.randn(5, 4).double())
    assert g.retraces == 1 and "float64" in g.reasons[-1]
    model.eval()
    f(cr.randn(5, 4))
    assert f.retraces == 2 and "training mode" in f.reasons[-1]
    text = cr.jit.explain(f)
    assert "2 retrace(s)" in text and "training mode" in text
    with cr.no_grad():
        np.testing.assert_array_equal(f(x).detach().numpy(), (model(x) * 2).numpy())


def test_warns_once_past_eight_retraces():
    f = cr.jit(lambda x: x + 1)
    with pytest.warns(RuntimeWarning, match="retraced 9 times"):
        for n in range(1, 11):
            f(cr.ones(n))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(cr.ones(20))


def test_data_dependent_branch_names_the_line():
    @cr.jit
    def f(x):
        y = (x * 2).sum()
        if y > 0:  # the line the error names
            return y
        return -y

    with pytest.raises(cr.jit.JitError, match=r"test_jit\.py:\d+: if y > 0"):
        f(cr.ones(3))
    g = cr.jit(lambda x: int(x.sum()))
    with pytest.raises(cr.jit.JitError, match="int\\(x.sum\\(\\)\\)"):
        g(cr.ones(3))


def test_compile_falls_back_to_eager_with_one_warning():
    def f(x):
        y = (x * 2).sum()
        return y if y.item() > 0 else -y

    c = cr.compile(f)
    with pytest.warns(RuntimeWarning, match="running eagerly"):
        assert c(cr.ones(3)).item() == 6.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert c(-cr.ones(3)).item() == 6.0  # eager: the other branch
    assert c.eager_calls == 1
    with pytest.raises(cr.jit.JitError, match=r"item\(\) > 0"):
        cr.compile(lambda x: x if (x.sum()).item() > 0 else -x, fullgraph=True)(
            cr.ones(2))


def test_compiled_module_inference_and_training_fallback():
    m = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.ReLU())
    fast = cr.compile(m)
    x = cr.randn(2, 4)
    with cr.no_grad():
        for _ in range(3):
            np.testing.assert_array_equal(fast(x).numpy(), m(x).numpy())
    out = fast(x)  # needs gradients: runs eagerly so backward works
    out.sum().backward()
    assert m[0].weight.grad is not None


def test_indexed_store_is_replayed():
    m = cr.nn.Linear(3, 3)

    @cr.jit
    def f(x):
        with cr.no_grad():
            m.weight[0, 0] = 1.0  # a store primitive: traced and replayed
        return m(x)

    x = cr.randn(2, 3)
    f(x)
    m.weight.data = cr.zeros(3, 3)
    out = f(x)
    assert m.weight[0, 0].item() == 1.0
    np.testing.assert_array_equal(out.detach().numpy(), m(x).detach().numpy())
    assert "1 replay(s)" in cr.jit.explain(f)


def test_library_guard_hands_bad_input_to_eager():
    emb = cr.nn.Embedding(5, 2)

    @cr.jit
    def f(i):
        with cr.no_grad():
            return emb(i)

    f(cr.tensor([1, 2]))
    f(cr.tensor([3, 4]))
    with pytest.raises(cr.IndexOutOfRange):
        f(cr.tensor([1, 7]))


def test_mask_from_values_is_an_input_and_its_count_a_guard():
    """``x[x > 0]`` and ``x[x > 0] = 0``: the mask is computed in the call, so
    a replay on other values must use the new mask; a mask with another
    number of True values changes shapes and hands the call to eager."""
    def f(x):
        y = (x[x > 0] ** 2).sum()
        (g,) = cr.autograd.grad(y, [x])
        z = x.clone()
        z[x > 0] = 0.0
        return y, g, z

    c = cr.compile(f, backend="replay")
    a = np.random.default_rng(0).standard_normal((3, 4))
    samples = [a] + [np.random.default_rng(k).permutation(a.ravel()).reshape(3, 4)
                     for k in (1, 2)]  # the same number of positives
    samples.append(np.abs(a))  # all positive
    for b in samples:
        got = c(cr.tensor(b, requires_grad=True))
        want = f(cr.tensor(b, requires_grad=True))
        for u, v in zip(got, want):
            np.testing.assert_array_equal(u.detach().numpy(), v.detach().numpy())
    assert "2 replay(s), 1 guard miss(es)" in cr.jit.explain(c)


@pytest.mark.parametrize("name", ["W1", "W2", "W3", "W4", "W5"])
def test_workloads_replay_equals_eager(name):
    sys.path.insert(0, ROOT)
    from benchmarks.workloads import WORKLOADS

    w = [w for w in WORKLOADS if w.name == name][0]
    x, y = w.batch(np.random.default_rng(0))
    x, y = cr.from_numpy(x), cr.from_numpy(y)
    _run_both(lambda: w.build(cr), lambda m: cr.optim.Adam(m.parameters(), lr=1e-3),
              lambda i: (x, y), lambda out, t: w.loss(cr, out, t), steps=3)


def test_native_float32_adam_is_bit_identical():
    from chainrule.jit import native
    if not native.available():
        pytest.skip("no C compiler")
    _run_both(lambda: cr.nn.Sequential(cr.nn.Linear(8, 16), cr.nn.ReLU(),
                                       cr.nn.Linear(16, 3)),
              lambda m: cr.optim.Adam(m.parameters(), lr=1e-2, weight_decay=0.1),
              _mlp_batches, _ce, backend="native")


_CHILD = """
import numpy as np, chainrule as cr
from chainrule.jit import native
m = cr.nn.Linear(3, 2); o = cr.optim.Adam(m.parameters())
@cr.jit
def step(x):
    o.zero_grad(); l = m(x).sum(); l.backward(); o.step(); return l
for _ in range(3):
    step(cr.ones(4, 3))
ks = [n.prim for g in step.graphs() for n in g.nodes if n.kind == 'kernel']
print(len(ks) > 0, all(k.cache_hit for k in ks))
"""


def test_kernel_cache_is_reused_by_a_second_process(tmp_path):
    from chainrule.jit import native
    if not native.available():
        pytest.skip("no C compiler")
    env = dict(os.environ, CHAINRULE_JIT_CACHE=str(tmp_path), PYTHONPATH=ROOT)

    def child(**extra):
        out = subprocess.run([sys.executable, "-c", _CHILD], env=dict(env, **extra),
                             capture_output=True, text=True, check=True)
        return out.stdout.split()

    assert child() == ["True", "False"]  # built here
    assert child() == ["True", "True"]  # loaded from the cache
    assert any(f.endswith(".c") for f in os.listdir(tmp_path))
    # Native disabled: one notice, replay runs, no kernels.
    out = subprocess.run([sys.executable, "-W", "always", "-c", _CHILD],
                         env=dict(env, CHAINRULE_JIT_NATIVE="0"),
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    assert out.stderr.count("no C compiler") == 1


def test_trainer_compile_equals_eager():
    from chainrule.train import Trainer

    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((64, 8)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 3, 64))
    runs = []
    for compile in (False, True):
        cr.manual_seed(0)
        model = cr.nn.Sequential(cr.nn.Linear(8, 16), cr.nn.ReLU(), cr.nn.Linear(16, 3))
        t = Trainer(model, cr.optim.Adam(model.parameters(), lr=1e-2), compile=compile)
        hist = t.fit((x, y), epochs=3, batch_size=16, verbose=0)
        runs.append((hist.history["loss"], [p.detach().numpy().copy()
                                            for p in model.parameters()], t))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    assert sum(e.hits for e in runs[1][2]._step_fn._cache.values()) > 0
