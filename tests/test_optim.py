"""Optimizers against PyTorch: trajectories, parameter groups, checkpoints.

Each trajectory test starts chainrule and torch from the same parameters of
a small MLP and, at every step, hands torch the gradient chainrule computed,
so both optimizers see the same gradient sequence; after each of 50 steps
the parameters must agree within 1e-5.
"""
import copy
import itertools

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule import optim

STEPS = 50
RNG = np.random.default_rng(5)
X = RNG.standard_normal((16, 4)).astype(np.float32)
Y = RNG.standard_normal((16, 3)).astype(np.float32)
INIT = [RNG.standard_normal(s).astype(np.float32) * 0.5
        for s in [(4, 8), (8,), (8, 3), (3,)]]


def mlp_loss(params):
    w1, b1, w2, b2 = params
    h = (cr.tensor(X) @ w1 + b1).relu()
    return ((h @ w2 + b2 - cr.tensor(Y)) ** 2).mean()


def groups_of(params, group_opts):
    """Split the 4 MLP parameters into groups: layer 1 and layer 2."""
    if group_opts is None:
        return params
    return [dict(params=params[:2], **group_opts[0]),
            dict(params=params[2:], **group_opts[1])]


def run_pair(cr_cls, torch_cls, kwargs, group_opts=None, steps=STEPS, atol=1e-5):
    """Step both optimizers on the same gradients; compare after every step."""
    cps = [nn.Parameter(cr.tensor(a.copy())) for a in INIT]
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in INIT]
    copt = cr_cls(groups_of(cps, group_opts), **kwargs)
    topt = torch_cls(groups_of(tps, group_opts), **kwargs)
    # Maximizing the negated loss keeps the run bounded (and still descends).
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for step in range(steps):
        copt.zero_grad()
        topt.zero_grad()
        (mlp_loss(cps) * sign).backward()
        for c, t in zip(cps, tps):
            t.grad = torch.from_numpy(c.grad.numpy().copy())
        copt.step()
        topt.step()
        for c, t in zip(cps, tps):  # .grad is read, never written
            np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())
        for i, (c, t) in enumerate(zip(cps, tps)):
            np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(),
                                       rtol=1e-5, atol=atol,
                                       err_msg=f"param {i} after step {step + 1}")
    return copt, topt


def combos(**options):
    """Every combination of the given option values, as kwargs dicts."""
    keys = list(options)
    return [dict(zip(keys, vals)) for vals in itertools.product(*options.values())]


def _id(kw):
    return ",".join(f"{k}={v}" for k, v in kw.items()) or "default"


SGD_CASES = [kw for kw in combos(momentum=[0, 0.9], dampening=[0, 0.3],
                                 nesterov=[False, True], weight_decay=[0, 0.05],
                                 maximize=[False, True])
             if not (kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"]))]


@pytest.mark.parametrize("kw", SGD_CASES, ids=_id)
def test_sgd_trajectory(kw):
    run_pair(optim.SGD, torch.optim.SGD, dict(lr=0.05, **kw))


@pytest.mark.parametrize("kw", combos(amsgrad=[False, True], weight_decay=[0, 0.1],
                                      maximize=[False, True]), ids=_id)
def test_adam_trajectory(kw):
    run_pair(optim.Adam, torch.optim.Adam, dict(lr=0.01, **kw))


@pytest.mark.parametrize("kw", combos(amsgrad=[False, True], maximize=[False, True]),
                         ids=_id)
def test_adam_decoupled_weight_decay(kw):
    run_pair(optim.Adam, torch.optim.Adam,
             dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, **kw))


@pytest.mark.parametrize("kw", combos(amsgrad=[False, True], weight_decay=[0, 0.1],
                                      maximize=[False, True]), ids=_id)
def test_adamw_trajectory(kw):
    run_pair(optim.AdamW, torch.optim.AdamW, dict(lr=0.01, betas=(0.8, 0.99), **kw))


@pytest.mark.parametrize("kw", combos(weight_decay=[0, 0.1], maximize=[False, True]),
                         ids=_id)
def test_adamax_trajectory(kw):
    run_pair(optim.Adamax, torch.optim.Adamax, dict(lr=0.01, **kw))


@pytest.mark.parametrize("kw", combos(weight_decay=[0, 0.1],
                                      decoupled_weight_decay=[False, True],
                                      maximize=[False, True],
                                      momentum_decay=[4e-3, 0.05]), ids=_id)
def test_nadam_trajectory(kw):
    run_pair(optim.NAdam, torch.optim.NAdam, dict(lr=0.01, **kw))


@pytest.mark.parametrize("kw", combos(momentum=[0, 0.8], centered=[False, True],
                                      weight_decay=[0, 0.1], maximize=[False, True]),
                         ids=_id)
def test_rmsprop_trajectory(kw):
    run_pair(optim.RMSprop, torch.optim.RMSprop, dict(lr=0.003, alpha=0.9, **kw))


@pytest.mark.parametrize("kw", combos(lr_decay=[0, 0.01], weight_decay=[0, 0.1],
                                      initial_accumulator_value=[0, 0.5],
                                      maximize=[False, True]), ids=_id)
def test_adagrad_trajectory(kw):
    run_pair(optim.Adagrad, torch.optim.Adagrad, dict(lr=0.05, **kw))


@pytest.mark.parametrize("kw", combos(weight_decay=[0, 0.1], maximize=[False, True],
                                      rho=[0.9, 0.5]), ids=_id)
def test_adadelta_trajectory(kw):
    run_pair(optim.Adadelta, torch.optim.Adadelta, dict(lr=0.5, **kw))


GROUP_CASES = [
    (optim.SGD, torch.optim.SGD, dict(lr=0.05),
     [dict(lr=0.1, momentum=0.9, nesterov=True), dict(weight_decay=0.1)]),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01),
     [dict(betas=(0.8, 0.9), amsgrad=True), dict(lr=0.003, weight_decay=0.1)]),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.01),
     [dict(weight_decay=0.0), dict(weight_decay=0.3, eps=1e-4)]),
    (optim.Adamax, torch.optim.Adamax, dict(lr=0.01),
     [dict(lr=0.02), dict(betas=(0.5, 0.9))]),
    (optim.NAdam, torch.optim.NAdam, dict(lr=0.01),
     [dict(momentum_decay=0.01), dict(weight_decay=0.1, decoupled_weight_decay=True)]),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.003),
     [dict(centered=True), dict(momentum=0.5, alpha=0.8)]),
    (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.05),
     [dict(lr_decay=0.1), dict(eps=1e-3, weight_decay=0.1)]),
    (optim.Adadelta, torch.optim.Adadelta, dict(lr=0.5),
     [dict(rho=0.5), dict(lr=1.0, weight_decay=0.1)]),
]


@pytest.mark.parametrize("cr_cls,torch_cls,kw,groups", GROUP_CASES,
                         ids=[c[0].__name__ for c in GROUP_CASES])
def test_param_groups_with_different_hyperparameters(cr_cls, torch_cls, kw, groups):
    copt, topt = run_pair(cr_cls, torch_cls, kw, group_opts=groups)
    for cg, tg in zip(copt.param_groups, topt.param_groups):
        for k in cg:
            if k not in ("params",):
                assert cg[k] == tg[k], k


def test_adagrad_honours_a_groups_initial_accumulator_value():
    # (torch fills every group's accumulator with the constructor's value.)
    a = nn.Parameter(cr.tensor([1.0, -2.0]))
    b = nn.Parameter(cr.tensor([3.0]))
    opt = optim.Adagrad([{"params": [a]}, {"params": [b],
                                           "initial_accumulator_value": 3.0}], lr=0.5)
    (a.sum() * 2 + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.5, -2.5], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [3 - 0.5 / np.sqrt(4.0)], rtol=1e-6)


def test_add_param_group_mid_run_matches_torch():
    cps = [nn.Parameter(cr.tensor(a.copy())) for a in INIT]
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in INIT]
    copt = optim.Adam(cps[:2], lr=0.01)
    topt = torch.optim.Adam(tps[:2], lr=0.01)
    for step in range(20):
        if step == 10:
            copt.add_param_group({"params": cps[2:], "lr": 0.05, "amsgrad": True})
            topt.add_param_group({"params": tps[2:], "lr": 0.05, "amsgrad": True})
        copt.zero_grad()
        mlp_loss(cps).backward()
        for c, t in zip(cps, tps):
            t.grad = torch.from_numpy(c.grad.numpy().copy())
        copt.step()
        topt.step()
    for c, t in zip(cps, tps):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), atol=1e-5)
    assert copt.param_groups[1]["amsgrad"] and not copt.param_groups[0]["amsgrad"]


def test_parameters_without_grad_are_skipped_and_grad_is_not_mutated():
    a = nn.Parameter(cr.tensor([1.0, 2.0]))
    b = nn.Parameter(cr.tensor([3.0, 4.0]))
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.5, maximize=True)
    (a * a).sum().backward()
    g = a.grad
    before = g.numpy().copy()
    opt.step()
    np.testing.assert_array_equal(g.numpy(), before)  # .grad was not changed in place
    np.testing.assert_array_equal(b.detach().numpy(), [3.0, 4.0])
    assert b not in opt.state
    # maximize: g = -2a + 0.5a (decay still pulls to 0); momentum buffer = g at t=1
    np.testing.assert_allclose(a.detach().numpy(), [1 + 0.1 * 1.5, 2 + 0.1 * 3],
                               rtol=1e-6)


def test_zero_grad():
    a = nn.Parameter(cr.tensor([1.0, 2.0]))
    opt = optim.SGD([a], lr=0.1)
    (a * a).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None


def test_closure_is_evaluated_with_grad_and_loss_returned():
    a = nn.Parameter(cr.tensor([1.0, -2.0]))
    opt = optim.Adam([a], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(a.detach().numpy(), [0.9, -1.9], rtol=1e-5)


def test_step_hooks():
    a = nn.Parameter(cr.tensor([1.0]))
    opt = optim.SGD([a], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kw: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kw: calls.append("post"))
    (a * 2).sum().backward()
    opt.step()
    h1.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]


# -- checkpoints ----------------------------------------------------------------------
ROUND_TRIP = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.Adamax, dict(lr=0.01)),
    (optim.NAdam, dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.003, momentum=0.5, centered=True)),
    (optim.Adagrad, dict(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1)),
    (optim.Adadelta, dict(lr=0.5)),
]


def _train(opt, params, steps):
    for _ in range(steps):
        opt.zero_grad()
        mlp_loss(params).backward()
        opt.step()


@pytest.mark.parametrize("cls,kw", ROUND_TRIP, ids=[c[0].__name__ for c in ROUND_TRIP])
def test_state_dict_round_trip_resumes_exactly(cls, kw):
    ref = [nn.Parameter(cr.tensor(a.copy())) for a in INIT]
    ref_opt = cls(groups_of(ref, [{}, {"lr": kw["lr"] / 2}]), **kw)
    _train(ref_opt, ref, 20)

    # A "restarted process": new parameters with the saved values, new optimizer.
    sd = ref_opt.state_dict()
    params = [nn.Parameter(cr.tensor(p.detach().numpy().copy())) for p in ref]
    opt = cls(groups_of(params, [{}, {}]), **kw)
    opt.load_state_dict(sd)
    assert opt.param_groups[1]["lr"] == kw["lr"] / 2
    for p_new, p_ref in zip(params, ref):
        for k, v in opt.state[p_new].items():
            r = ref_opt.state[p_ref][k]
            if isinstance(v, cr.Tensor):
                assert v is not r and not np.shares_memory(v.numpy(), r.numpy()), k
                np.testing.assert_array_equal(v.numpy(), r.numpy())

    # Both continue; the loaded state was copied, so each evolves on its own.
    _train(ref_opt, ref, 30)
    _train(opt, params, 30)
    for p_new, p_ref in zip(params, ref):
        np.testing.assert_array_equal(p_new.detach().numpy(), p_ref.detach().numpy())


def test_state_dict_layout():
    ps = [nn.Parameter(cr.tensor(a.copy())) for a in INIT]
    opt = optim.Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.1}], lr=0.01)
    _train(opt, ps, 2)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.1
    assert sd["param_groups"][0]["betas"] == [0.9, 0.999]
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    st = sd["state"][2]
    assert set(st) == {"step", "exp_avg", "exp_avg_sq"}
    assert st["step"].shape == () and st["step"].item() == 2.0
    assert st["exp_avg"].shape == (8, 3)
    # The same layout as torch's (keys and group entries).
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in INIT]
    topt = torch.optim.Adam([{"params": tps[:2]}, {"params": tps[2:], "lr": 0.1}],
                            lr=0.01)
    for t in tps:
        t.grad = torch.zeros_like(t)
    topt.step()
    tsd = topt.state_dict()
    assert set(tsd["state"][2]) == set(st)
    # torch adds implementation switches (foreach, fused...) chainrule lacks.
    assert set(sd["param_groups"][0]) <= set(tsd["param_groups"][0])


def test_named_parameters_are_accepted_and_saved():
    ps = [nn.Parameter(cr.tensor(a.copy())) for a in INIT]
    named = list(zip(["w1", "b1", "w2", "b2"], ps))
    opt = optim.SGD(named, lr=0.1)
    assert opt.param_groups[0]["params"] == ps
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w1", "b1", "w2",
                                                                    "b2"]


def test_load_state_dict_casts_to_parameter_dtype_and_betas_stay_tuples():
    a = nn.Parameter(cr.tensor([1.0, 2.0]))
    opt = optim.Adam([a], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    sd = opt.state_dict()
    b = nn.Parameter(cr.tensor([1.0, 2.0], dtype=cr.float64))
    opt2 = optim.Adam([b], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.state[b]["exp_avg"].dtype == cr.float64
    assert opt2.state[b]["step"].dtype == cr.float32
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)
    # A plain-number step (older checkpoints) becomes a 0-d tensor again.
    sd_num = copy.deepcopy(sd)
    sd_num["state"][0]["step"] = 1
    opt2.load_state_dict(sd_num)
    assert opt2.state[b]["step"].shape == () and opt2.state[b]["step"].item() == 1.0
    # String keys (as a JSON-style checkpoint would have) are accepted too.
    sd_str = {"state": {str(k): v for k, v in sd["state"].items()},
              "param_groups": sd["param_groups"]}
    opt2.load_state_dict(sd_str)
    assert b in opt2.state


def test_deepcopy_of_state_dict_is_a_snapshot():
    ps = [nn.Parameter(cr.tensor(a.copy())) for a in INIT]
    opt = optim.SGD(ps, lr=0.05, momentum=0.9)
    _train(opt, ps, 3)
    snap = copy.deepcopy(opt.state_dict())
    buf = snap["state"][0]["momentum_buffer"].numpy().copy()
    _train(opt, ps, 1)
    np.testing.assert_array_equal(snap["state"][0]["momentum_buffer"].numpy(), buf)


# -- closure-based optimizers: L-BFGS and CG ------------------------------------------
XL = RNG.standard_normal((12, 3))
YL = np.tanh(XL @ RNG.standard_normal((3, 2)))
INIT_L = [RNG.standard_normal((3, 5)) * 0.5, RNG.standard_normal((5, 2)) * 0.5]


def tanh_mlp_loss(w1, w2, lib):
    x, y = (cr.tensor(XL), cr.tensor(YL)) if lib is cr else (torch.tensor(XL),
                                                            torch.tensor(YL))
    return (((x @ w1).tanh() @ w2 - y) ** 2).mean()


@pytest.mark.parametrize("kw", [dict(), dict(line_search_fn="strong_wolfe"),
                                dict(history_size=3, max_iter=7),
                                dict(line_search_fn="strong_wolfe", history_size=2,
                                     max_iter=9, lr=0.5)], ids=_id)
def test_lbfgs_trajectory_matches_torch(kw):
    cps = [cr.tensor(a.copy(), requires_grad=True) for a in INIT_L]
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in INIT_L]
    copt, topt = optim.LBFGS(cps, **kw), torch.optim.LBFGS(tps, **kw)

    def cclosure():
        copt.zero_grad()
        loss = tanh_mlp_loss(*cps, cr)
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = tanh_mlp_loss(*tps, torch)
        loss.backward()
        return loss

    for step in range(5):
        cl, tl = copt.step(cclosure), topt.step(tclosure)
        assert cl.item() == pytest.approx(tl.item(), rel=1e-7)
        for c, t in zip(cps, tps):
            np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(),
                                       rtol=1e-7, atol=1e-9,
                                       err_msg=f"after step {step + 1}")
    cs, ts = copt.state[cps[0]], topt.state[tps[0]]
    assert cs["n_iter"] == ts["n_iter"] and cs["func_evals"] == ts["func_evals"]


@pytest.mark.parametrize("kw", [dict(), dict(line_search_fn="strong_wolfe")], ids=_id)
def test_lbfgs_float32_matches_torch_over_one_step(kw):
    # In float32 L-BFGS amplifies rounding (torch's own float32 and float64 runs
    # part by ~1e-6 after 20 iterations), so one step of 10 iterations is checked.
    init = [a.astype(np.float32) for a in INIT_L]
    x, y = XL.astype(np.float32), YL.astype(np.float32)
    cps = [cr.tensor(a.copy(), requires_grad=True) for a in init]
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    copt = optim.LBFGS(cps, max_iter=10, **kw)
    topt = torch.optim.LBFGS(tps, max_iter=10, **kw)

    def closure(opt, ps, lib):
        opt.zero_grad()
        loss = (((lib.tensor(x) @ ps[0]).tanh() @ ps[1] - lib.tensor(y)) ** 2).mean()
        loss.backward()
        return loss

    copt.step(lambda: closure(copt, cps, cr))
    topt.step(lambda: closure(topt, tps, torch))
    for c, t in zip(cps, tps):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), atol=1e-5)


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


@pytest.mark.parametrize("make", [
    lambda x: optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=200,
                          tolerance_grad=1e-12, tolerance_change=1e-14),
    lambda x: optim.LBFGS([x], lr=0.5, max_iter=1000, max_eval=2000,
                          tolerance_grad=1e-12, tolerance_change=1e-14),
    lambda x: optim.CG([x], max_iter=500, tolerance_grad=1e-12,
                       tolerance_change=1e-14),
], ids=["lbfgs-wolfe", "lbfgs-fixed-step", "cg"])
def test_rosenbrock_minimised(make):
    x = cr.tensor([-1.5, 2.0], dtype=cr.float64, requires_grad=True)
    opt = make(x)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-6)
    assert rosenbrock(x).item() < 1e-12


def test_cg_beats_steepest_descent_and_resumes_from_state_dict():
    def run(split):
        x = cr.tensor([-1.5, 2.0], dtype=cr.float64, requires_grad=True)
        opt = optim.CG([x], max_iter=10)

        def closure():
            opt.zero_grad()
            loss = rosenbrock(x)
            loss.backward()
            return loss

        for i in range(6):
            if split and i == 3:
                sd = copy.deepcopy(opt.state_dict())
                x = cr.tensor(x.detach().numpy().copy(), requires_grad=True)
                opt = optim.CG([x], max_iter=10)
                opt.load_state_dict(sd)
            opt.step(closure)
        return x.detach().numpy()

    np.testing.assert_array_equal(run(False), run(True))


def test_lbfgs_state_dict_round_trip():
    def run(split):
        ps = [cr.tensor(a.copy(), requires_grad=True) for a in INIT_L]
        opt = optim.LBFGS(ps, history_size=4, max_iter=5,
                          line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = tanh_mlp_loss(*ps, cr)
            loss.backward()
            return loss

        for i in range(6):
            if split and i == 3:
                sd = opt.state_dict()
                ps[:] = [cr.tensor(p.detach().numpy().copy(), requires_grad=True)
                         for p in ps]
                opt = optim.LBFGS(ps, history_size=4, max_iter=5,
                                  line_search_fn="strong_wolfe")
                opt.load_state_dict(sd)
            opt.step(closure)
        return [p.detach().numpy() for p in ps]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)


# -- regularisation helpers ------------------------------------------------------------
class GroupNormLike(nn.Module):
    """Stands in for a normalisation layer: detected by its class name."""

    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(cr.ones(n))
        self.bias = nn.Parameter(cr.zeros(n))
        self.mix = nn.Parameter(cr.ones(n, n))  # 2-d, but in a norm layer


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(cr.tensor(INIT[0].copy()))
        self.b1 = nn.Parameter(cr.tensor(INIT[1].copy()))
        self.norm = GroupNormLike(8)
        self.w2 = nn.Parameter(cr.tensor(INIT[2].copy()))
        self.b2 = nn.Parameter(cr.tensor(INIT[3].copy()))
        self.pos_embed = nn.Parameter(cr.ones(2, 3))
        self.frozen = nn.Parameter(cr.ones(3, 3), requires_grad=False)


def test_param_groups_weight_decay_split():
    net = Net()
    no_decay, decay = optim.param_groups_weight_decay(net, 0.05, skip=("pos_embed",))
    names = {id(p): n for n, p in net.named_parameters()}
    assert sorted(names[id(p)] for p in decay["params"]) == ["w1", "w2"]
    assert sorted(names[id(p)] for p in no_decay["params"]) == [
        "b1", "b2", "norm.bias", "norm.mix", "norm.weight", "pos_embed"]
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0


def test_param_groups_weight_decay_trajectory_matches_torch():
    net = Net()
    cps = [net.w1, net.b1, net.w2, net.b2]
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in INIT]
    copt = optim.AdamW(optim.param_groups_weight_decay(net, 0.5), lr=0.01)
    topt = torch.optim.AdamW([{"params": [tps[1], tps[3]], "weight_decay": 0.0},
                              {"params": [tps[0], tps[2]], "weight_decay": 0.5}],
                             lr=0.01)
    for _ in range(STEPS):
        copt.zero_grad()
        mlp_loss(cps).backward()
        for c, t in zip(cps, tps):
            t.grad = torch.from_numpy(c.grad.numpy().copy())
        copt.step()
        topt.step()
    for c, t in zip(cps, tps):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), atol=1e-5)


def test_l1_penalty_value_and_gradient_match_torch():
    net = Net()
    pen = optim.l1_penalty(net, 0.01)
    pen.backward()
    tw = [torch.tensor(INIT[0].copy(), requires_grad=True),
          torch.tensor(INIT[2].copy(), requires_grad=True)]
    tpen = 0.01 * (tw[0].abs().sum() + tw[1].abs().sum() + 6)  # + pos_embed
    tpen.backward()
    assert pen.item() == pytest.approx(tpen.item(), rel=1e-6)
    np.testing.assert_allclose(net.w1.grad.numpy(), tw[0].grad.numpy())
    np.testing.assert_allclose(net.w2.grad.numpy(), tw[1].grad.numpy())
    assert net.b1.grad is None and net.norm.mix.grad is None

    # Bare tensors: 1-d ones are biases unless skip_bias=False.
    a = cr.tensor([[1.0, -2.0]], requires_grad=True)
    b = cr.tensor([3.0, -4.0], requires_grad=True)
    assert optim.l1_penalty([a, b], 0.5).item() == pytest.approx(1.5)
    assert optim.l1_penalty([a, b], 0.5, skip_bias=False).item() == pytest.approx(5.0)
    assert optim.l1_penalty(net.named_parameters(), 1.0).item() == pytest.approx(
        np.abs(INIT[0]).sum() + np.abs(INIT[2]).sum() + 6 + 64, rel=1e-6)
    assert optim.l1_penalty([], 1.0).item() == 0.0
    assert optim.l1_penalty([b.detach()], 1.0, skip_bias=False).item() == 0.0


def test_weight_decay_groups_on_real_layers_match_torch():
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 3))
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8),
                                 torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with torch.no_grad():
        for (_, c), (_, t) in zip(model.named_parameters(), tmodel.named_parameters()):
            t.copy_(torch.from_numpy(c.detach().numpy().copy()))
    copt = optim.AdamW(optim.param_groups_weight_decay(model, 0.3), lr=0.02)
    tnamed = dict(tmodel.named_parameters())
    topt = torch.optim.AdamW(
        [{"params": [p for n, p in tnamed.items() if n not in ("0.weight", "3.weight")],
          "weight_decay": 0.0},
         {"params": [tnamed["0.weight"], tnamed["3.weight"]], "weight_decay": 0.3}],
        lr=0.02)
    cps, tps = list(model.parameters()), list(tmodel.parameters())
    for _ in range(20):
        copt.zero_grad()
        ((model(cr.tensor(X)) - cr.tensor(Y)) ** 2).mean().backward()
        for c, t in zip(cps, tps):
            t.grad = torch.from_numpy(c.grad.numpy().copy())
        copt.step()
        topt.step()
    for c, t in zip(cps, tps):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("cls,kw", ROUND_TRIP + [(optim.LBFGS, dict(history_size=3))],
                         ids=[c[0].__name__ for c in ROUND_TRIP] + ["LBFGS"])
def test_checkpoint_file_round_trip(cls, kw, tmp_path):
    """Optimizer and scheduler state survive chainrule.save / chainrule.load."""
    from chainrule.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau

    def build(params):
        opt = cls(params, **kw)
        if cls is optim.LBFGS:
            return opt, ReduceLROnPlateau(opt, patience=1)
        return opt, OneCycleLR(opt, max_lr=kw["lr"], total_steps=40,
                               cycle_momentum="momentum" in kw)

    def train(opt, sched, params, steps):
        def closure():
            opt.zero_grad()
            loss = mlp_loss(params)
            loss.backward()
            return loss

        for _ in range(steps):
            loss = opt.step(closure)
            if isinstance(sched, ReduceLROnPlateau):
                sched.step(loss)
            else:
                sched.step()

    ref = [nn.Parameter(cr.tensor(a.copy())) for a in INIT]
    ref_opt, ref_sched = build(ref)
    train(ref_opt, ref_sched, ref, 10)
    path = tmp_path / "ckpt.safetensors"
    cr.save({"optimizer": ref_opt.state_dict(), "scheduler": ref_sched.state_dict(),
             "params": [p.detach() for p in ref]}, path)
    ck = cr.load(path)
    params = [nn.Parameter(t.clone()) for t in ck["params"]]
    opt, sched = build(params)
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["scheduler"])
    train(ref_opt, ref_sched, ref, 15)
    train(opt, sched, params, 15)
    for a, b in zip(params, ref):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]
