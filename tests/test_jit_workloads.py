"""Every benchmark workload (W1-W6) compiled with the native backend against
eager: within 1e-10 relative over 20 float64 steps and 1e-6 after one
float32 step (fused kernels may round differently from NumPy's passes).
Batches are cut to a few short samples to keep the suite fast; the models are the
workloads' own."""
import os
import sys

import numpy as np
import pytest

import chainrule as cr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from benchmarks.runner import training_step  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402


@pytest.fixture(autouse=True)
def _kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CHAINRULE_JIT_CACHE", str(tmp_path_factory.getbasetemp()
                                                  / "jit-cache"))


def _setup(w, dtype, compile):
    cr.manual_seed(0)
    model = w.build(cr)
    if dtype == np.float64:
        model = model.double()
    x, y = w.batch(np.random.default_rng(0))
    # Fewer samples and shorter sequences (W5's causal mask fixes its length).
    cut = {"W4": np.s_[:2, :16], "W5": np.s_[:2], "W6": np.s_[:8, :2]}.get(
        w.name, np.s_[:4])
    x, y = x[cut].copy(), y[cut].copy()
    if x.dtype.kind == "f":
        x = x.astype(dtype)
    cx, cy = cr.from_numpy(x), cr.from_numpy(y)
    if w.make_step is not None:
        return model, w.make_step(cr, model, cx, cy, compile=compile)
    step = training_step(cr, w, model)
    step = step if compile is None else compile(step)
    return model, lambda: step(cx, cy)


def _compare(w, dtype, steps, rtol):
    from chainrule.jit import native

    if not native.available():
        pytest.skip("no C compiler")
    jitted = []

    def compile(f):
        jitted.append(cr.jit(f, backend="native"))
        return jitted[-1]

    (m1, s1), (m2, s2) = _setup(w, dtype, None), _setup(w, dtype, compile)
    for i in range(steps):
        cr.manual_seed(10 + i)  # the same dropout masks in both
        a = s1()
        cr.manual_seed(10 + i)
        b = s2()
        np.testing.assert_allclose(b._data, a._data, rtol=rtol, atol=0)
    # Two traces (before and after the optimizer has state), then replays.
    assert sum(e.hits for e in jitted[0]._cache.values()) == steps - 2
    for (n, p), q in zip(m1.named_parameters(), m2.parameters()):
        scale = np.abs(p._data).max() + 1e-30
        err = np.abs(p._data - q._data).max() / scale
        assert err <= rtol, f"{w.name} {n}: relative difference {err:.3g}"


@pytest.mark.parametrize("w", WORKLOADS, ids=lambda w: w.name)
def test_workload_native_float64_20_steps(w):
    _compare(w, np.float64, 20, 1e-10)


@pytest.mark.parametrize("w", WORKLOADS, ids=lambda w: w.name)
def test_workload_native_float32_one_step(w):
    _compare(w, np.float32, 3, 1e-6)  # the third call is the first replay


def _example(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "example_" + name, os.path.join(ROOT, "examples", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # examples run only under __main__
    return mod


_EXAMPLES = {  # the example models whose builders a test can import
    "digits_cnn": (lambda: _example("digits_cnn").convnet(), (8, 1, 8, 8),
                   cr.nn.functional.nll_loss),
    "regularization": (lambda: _example("regularization").mlp(0.3), (8, 64),
                       cr.nn.functional.cross_entropy),
}


@pytest.mark.parametrize("name", sorted(_EXAMPLES))
def test_example_model_native_float64_20_steps(name):
    from chainrule.jit import native

    if not native.available():
        pytest.skip("no C compiler")
    build, shape, loss_fn = _EXAMPLES[name]
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal(shape))
    y = cr.tensor(rng.integers(0, 10, shape[0]))
    runs = []
    for compile in (None, lambda f: cr.jit(f, backend="native")):
        cr.manual_seed(0)
        model = build().double()
        opt = cr.optim.Adam(model.parameters(), lr=1e-3)

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = step if compile is None else compile(step)
        losses = []
        for i in range(20):
            cr.manual_seed(10 + i)  # the same dropout masks in both runs
            losses.append(float(fn(x, y)._data))
        if compile is not None:  # replayed, not run eagerly
            assert sum(e.hits for e in fn._cache.values()) == 18
        runs.append((losses, [p._data.copy() for p in model.parameters()]))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-10, atol=0)
    for p, q in zip(runs[0][1], runs[1][1]):
        assert np.abs(p - q).max() <= 1e-10 * (np.abs(p).max() + 1e-30)
