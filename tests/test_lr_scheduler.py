"""Learning-rate schedulers against PyTorch: 100 steps of rates (and momenta).

Each case builds the same optimizer (two parameter groups with different
rates) and scheduler in chainrule and torch, steps both 100 times, and
compares every group's ``lr`` (and ``momentum``/``betas`` where schedulers
cycle them) and ``get_last_lr()`` after each step.
"""
import copy
import math

import numpy as np
import pytest
import torch
import torch.optim.lr_scheduler as tls

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler as cls

STEPS = 100


def make_opts(kind="sgd"):
    """The same two-group optimizer in chainrule and in torch."""
    cps = [cr.tensor([1.0, 2.0], requires_grad=True),
           cr.tensor([3.0], requires_grad=True)]
    tps = [torch.tensor([1.0, 2.0], requires_grad=True),
           torch.tensor([3.0], requires_grad=True)]
    def make(mod, ps):
        groups = [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.01}]
        if kind == "sgd":
            return mod.SGD(groups, lr=0.1, momentum=0.9)
        return mod.Adam(groups, lr=0.1)

    return make(optim, cps), make(torch.optim, tps)


def assert_same_groups(copt, topt, where):
    for i, (cg, tg) in enumerate(zip(copt.param_groups, topt.param_groups)):
        assert isinstance(cg["lr"], float), f"group {i} lr is not a float ({where})"
        assert cg["lr"] == pytest.approx(tg["lr"], rel=1e-12, abs=1e-15), \
            f"group {i} lr {where}"
        for key in ("momentum", "betas"):
            if key in tg:
                np.testing.assert_allclose(cg[key], tg[key], rtol=1e-12,
                                           err_msg=f"group {i} {key} {where}")


def run_both(make_sched, kind="sgd", steps=STEPS):
    """``make_sched(module, optimizer)`` builds the scheduler for either library."""
    copt, topt = make_opts(kind)
    cs, ts = make_sched(cls, copt), make_sched(tls, topt)
    assert_same_groups(copt, topt, "after construction")
    np.testing.assert_allclose(cs.get_last_lr(), ts.get_last_lr(), rtol=1e-12)
    for step in range(steps):
        copt.step()
        topt.step()
        cs.step()
        ts.step()
        assert_same_groups(copt, topt, f"after step {step + 1}")
        np.testing.assert_allclose(cs.get_last_lr(), ts.get_last_lr(), rtol=1e-12,
                                   atol=1e-15)
    assert getattr(cs, "last_epoch", None) == getattr(ts, "last_epoch", None)
    return copt, cs


class Halve:
    """A callable object: its state is saved with the scheduler."""

    def __init__(self):
        self.factor = 0.97

    def __call__(self, t):
        return self.factor ** t


CASES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 75],
                                              gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.95),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda t: 1.0 / (1 + t) ** 0.5),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(
        o, [lambda t: 0.99 ** t, lambda t: 1 + math.sin(t / 10)]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda t: 0.98),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=1e-3),
    "CosineAnnealingLR-no-floor": lambda m, o: m.CosineAnnealingLR(o, T_max=17),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=10, T_mult=2, eta_min=1e-4),
    "CosineAnnealingWarmRestarts-T_mult-1": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=7),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9,
                                        total_iters=40),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05,
                                              total_iters=60),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=12),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=80, power=2.0),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.01, total_iters=10),
            m.CosineAnnealingLR(o, T_max=50), m.ExponentialLR(o, gamma=0.9)],
        milestones=[10, 60]),
    "SequentialLR-constant-step": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=5), m.StepLR(o, 10, 0.5)],
        milestones=[20]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ExponentialLR(o, gamma=0.97), m.StepLR(o, step_size=9, gamma=0.5)]),
    "OneCycleLR-cos": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.3],
                                                total_steps=STEPS),
    "OneCycleLR-linear-three-phase": lambda m, o: m.OneCycleLR(
        o, max_lr=0.5, epochs=10, steps_per_epoch=10, anneal_strategy="linear",
        three_phase=True, pct_start=0.25, div_factor=10, final_div_factor=100),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(
        o, max_lr=0.5, total_steps=STEPS, cycle_momentum=False),
    "CyclicLR-triangular": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                   step_size_up=8),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(
        o, base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=5,
        step_size_down=10, mode="triangular2", base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-exp-range": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range", gamma=0.98),
    "CyclicLR-custom-scale": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=4, scale_fn=lambda x: 0.5 ** x,
        scale_mode="iterations", cycle_momentum=False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_matches_torch(name):
    run_both(CASES[name])


@pytest.mark.parametrize("name", ["OneCycleLR-cos", "CyclicLR-triangular2"])
def test_momentum_cycling_with_adam_betas(name):
    run_both(CASES[name], kind="adam")


def test_two_schedulers_on_one_optimizer_compose_like_torch():
    def both(m, o):
        a = m.StepLR(o, step_size=10, gamma=0.5)
        b = m.CosineAnnealingLR(o, T_max=25)
        return m.ChainedScheduler([a, b])

    run_both(both)

    # Stepping two schedulers by hand is the same thing.
    copt, topt = make_opts()
    cs = [cls.ExponentialLR(copt, 0.9), cls.MultiStepLR(copt, [5, 20], 0.1)]
    ts = [tls.ExponentialLR(topt, 0.9), tls.MultiStepLR(topt, [5, 20], 0.1)]
    for step in range(40):
        copt.step()
        topt.step()
        for s in cs + ts:
            s.step()
        assert_same_groups(copt, topt, f"after step {step + 1}")


def test_inverse_time_lr_matches_torch_lambda():
    gamma = 0.3
    copt, topt = make_opts()
    cs = cls.InverseTimeLR(copt, gamma=gamma)
    ts = tls.LambdaLR(topt, lambda t: 1.0 / (1.0 + gamma * t))
    for step in range(STEPS):
        copt.step()
        topt.step()
        cs.step()
        ts.step()
        for cg, tg in zip(copt.param_groups, topt.param_groups):
            assert cg["lr"] == pytest.approx(tg["lr"], rel=1e-12)
    assert copt.param_groups[0]["lr"] == pytest.approx(0.1 / (1 + gamma * STEPS))


PLATEAU_METRICS = ([1.0 - 0.05 * i for i in range(10)] + [0.5] * 15
                   + [0.5 - 1e-6 * i for i in range(10)] + [0.4, 0.45, 0.41] * 10
                   + [float(x) for x in np.random.default_rng(0).random(35)])


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="min", factor=0.5, patience=3, threshold=1e-3, cooldown=2),
    dict(mode="min", factor=0.3, patience=2, threshold=0.01, threshold_mode="abs",
         min_lr=[0.02, 1e-3]),
    dict(mode="max", factor=0.7, patience=1, threshold_mode="rel", min_lr=1e-3),
    dict(mode="max", patience=0, threshold=0.05, threshold_mode="abs", cooldown=3,
         eps=1e-3),
], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_reduce_lr_on_plateau_matches_torch(kw):
    copt, topt = make_opts()
    cs, ts = cls.ReduceLROnPlateau(copt, **kw), tls.ReduceLROnPlateau(topt, **kw)
    assert len(PLATEAU_METRICS) == STEPS
    for step, metric in enumerate(PLATEAU_METRICS):
        copt.step()
        topt.step()
        cs.step(cr.tensor(metric) if step % 2 else metric)
        ts.step(metric)
        assert_same_groups(copt, topt, f"after step {step + 1}")
        assert cs.num_bad_epochs == ts.num_bad_epochs
        assert cs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    assert copt.param_groups[0]["lr"] < 0.1  # the sequence did trigger reductions


@pytest.mark.parametrize("name", ["CosineAnnealingLR", "OneCycleLR-cos",
                                  "CyclicLR-triangular2", "SequentialLR",
                                  "CosineAnnealingWarmRestarts", "MultiStepLR",
                                  "LambdaLR", "ChainedScheduler"])
def test_state_dict_round_trip_continues_the_schedule(name):
    make = CASES[name]
    ref_opt, _ = make_opts()
    ref = make(cls, ref_opt)
    lrs_ref = []
    for _ in range(STEPS):
        ref_opt.step()
        ref.step()
        lrs_ref.append(ref.get_last_lr())

    opt, _ = make_opts()
    sched = make(cls, opt)
    lrs = []
    for step in range(STEPS):
        if step == 40:  # "restart the process" from checkpoints
            o_sd = copy.deepcopy(opt.state_dict())
            s_sd = copy.deepcopy(sched.state_dict())
            opt, _ = make_opts()
            sched = make(cls, opt)
            opt.load_state_dict(o_sd)
            sched.load_state_dict(s_sd)
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    np.testing.assert_allclose(lrs, lrs_ref, rtol=1e-12)


def test_reduce_lr_on_plateau_state_dict_round_trip():
    def run(split):
        opt, _ = make_opts()
        s = cls.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1)
        for i, metric in enumerate(PLATEAU_METRICS):
            if split and i == 50:
                o_sd, s_sd = copy.deepcopy(opt.state_dict()), s.state_dict()
                opt, _ = make_opts()
                s = cls.ReduceLROnPlateau(opt)
                opt.load_state_dict(o_sd)
                s.load_state_dict(s_sd)
            opt.step()
            s.step(metric)
        return [g["lr"] for g in opt.param_groups]

    assert run(True) == run(False)


def test_scheduler_state_dict_holds_plain_data():
    opt, _ = make_opts()
    sched = cls.SequentialLR(opt, [cls.LinearLR(opt), cls.MultiStepLR(opt, [3, 5])],
                             milestones=[4])
    for _ in range(6):
        opt.step()
        sched.step()

    def plain(x):
        if isinstance(x, dict):
            return all(isinstance(k, (str, int)) and plain(v) for k, v in x.items())
        if isinstance(x, list):
            return all(plain(v) for v in x)
        return x is None or isinstance(x, (bool, int, float, str))

    sd = sched.state_dict()
    assert plain(sd), sd
    assert sd["_schedulers"][1]["milestones"] == [3, 5]
    assert "optimizer" not in sd


def test_scheduler_sets_initial_lr_and_base_lrs_like_torch():
    copt, topt = make_opts()
    cs, ts = cls.StepLR(copt, 3), tls.StepLR(topt, 3)
    assert cs.base_lrs == ts.base_lrs == [0.1, 0.01]
    assert [g["initial_lr"] for g in copt.param_groups] == [0.1, 0.01]
    assert cs.last_epoch == ts.last_epoch == 0


def test_resuming_with_last_epoch():
    copt, topt = make_opts()
    for o in (copt, topt):
        for g in o.param_groups:
            g["initial_lr"] = g["lr"]
    cs = cls.CosineAnnealingLR(copt, T_max=20, last_epoch=7)
    ts = tls.CosineAnnealingLR(topt, T_max=20, last_epoch=7)
    for step in range(30):
        copt.step()
        topt.step()
        cs.step()
        ts.step()
        assert_same_groups(copt, topt, f"after step {step + 1}")


def test_warns_when_stepped_before_the_optimizer():
    opt, _ = make_opts()
    sched = cls.StepLR(opt, 3)
    with pytest.warns(UserWarning, match=r"StepLR.step\(\) was called before "
                                         r"optimizer.step\(\)"):
        sched.step()


def test_step_with_epoch_uses_the_closed_form():
    copt, topt = make_opts()
    cs, ts = cls.StepLR(copt, 3, gamma=0.5), tls.StepLR(topt, 3, gamma=0.5)
    copt.step()
    topt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        cs.step(10)
    with pytest.warns(UserWarning):
        ts.step(10)
    assert_same_groups(copt, topt, "after step(10)")
