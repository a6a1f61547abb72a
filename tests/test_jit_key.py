"""The cache key of a compiled step sees every change of captured state
(its fast paths reuse parts only while the very same objects are there)."""
import numpy as np

import chainrule as cr


def _setup():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
    opt = cr.optim.Adam(model.parameters(), lr=1e-2)

    @cr.jit
    def step(x, y, scale=1.0):
        opt.zero_grad()
        loss = cr.nn.functional.cross_entropy(model(x) * scale, y)
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    x = cr.from_numpy(rng.standard_normal((6, 4)).astype(np.float32))
    y = cr.from_numpy(rng.integers(0, 3, 6))
    for _ in range(3):
        step(x, y)
    assert step.retraces == 1
    return model, opt, step, x, y


def test_changing_lr_retraces():
    model, opt, step, x, y = _setup()
    opt.param_groups[0]["lr"] = 5e-3
    step(x, y)
    assert step.retraces == 2 and "hyper-parameters of Adam" in step.reasons[-1]
    step(x, y)
    assert step.retraces == 2


def test_an_equal_new_lr_object_does_not_retrace():
    model, opt, step, x, y = _setup()
    opt.param_groups[0]["lr"] = float(np.float64(1e-2))  # a new, equal float
    step(x, y)
    assert step.retraces == 1


def test_replacing_an_optimizer_buffer_retraces():
    model, opt, step, x, y = _setup()
    p = next(iter(model.parameters()))
    opt.state[p]["exp_avg"] = cr.zeros_like(opt.state[p]["exp_avg"])
    step(x, y)
    assert step.retraces == 2 and "state of Adam" in step.reasons[-1]


def test_replacing_a_parameter_retraces():
    model, opt, step, x, y = _setup()
    model[2].bias = cr.nn.Parameter(cr.zeros(3))
    step(x, y)
    assert step.retraces == 2 and "parameters and buffers" in step.reasons[-1]


def test_static_keyword_argument_is_part_of_the_key():
    model, opt, step, x, y = _setup()
    step(x, y, scale=2.0)
    assert step.retraces == 2
    step(x, y, scale=2.0)
    step(x, y)
    assert step.retraces == 2  # both keys are cached now
