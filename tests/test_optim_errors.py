"""Bad input to optimizers, schedulers and regularisation helpers: each gets a
clear exception naming the class, the argument, the value and what is valid."""
import re

import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule import optim
from chainrule.errors import ArgumentError, DTypeError, ShapeError
from chainrule.optim import lr_scheduler as sch


def param(*shape):
    return nn.Parameter(cr.ones(*shape) if shape else cr.ones(2))


def raises(exc, pattern):
    return pytest.raises(exc, match=re.escape(pattern))


# -- hyper-parameters ------------------------------------------------------------------
BAD_HPARAMS = [
    (optim.SGD, dict(lr=-0.1), "SGD: invalid lr: got -0.1; it must be a number in "
                               "[0.0, inf)"),
    (optim.SGD, dict(lr=float("nan")), "SGD: invalid lr: got nan"),
    (optim.SGD, dict(lr="fast"), "SGD: invalid lr: got 'fast'"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), "SGD: invalid momentum: got -0.5"),
    (optim.SGD, dict(lr=0.1, dampening=-1), "SGD: invalid dampening: got -1"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1e-4), "SGD: invalid weight_decay: got "
                                                  "-0.0001; it must be a number in "
                                                  "[0.0, inf)"),
    (optim.SGD, dict(lr=0.1, nesterov=True),
     "SGD: nesterov=True needs momentum > 0 and dampening = 0; got momentum=0, "
     "dampening=0"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     "dampening=0.1"),
    (optim.Adam, dict(lr=-1.0), "Adam: invalid lr: got -1.0"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "Adam: invalid betas[0]: got 1.0; it must "
                                           "be a number in [0.0, 1.0)"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "Adam: invalid betas[1]: got -0.1"),
    (optim.Adam, dict(betas=(0.9,)), "Adam: invalid betas: got (0.9,); it must be a "
                                     "pair (beta1, beta2), each in [0, 1)"),
    (optim.Adam, dict(eps=-1e-8), "Adam: invalid eps: got -1e-08"),
    (optim.Adam, dict(weight_decay=-0.1), "Adam: invalid weight_decay: got -0.1"),
    (optim.AdamW, dict(betas=(0.9, 1.0)), "AdamW: invalid betas[1]: got 1.0"),
    (optim.AdamW, dict(weight_decay=-0.01), "AdamW: invalid weight_decay"),
    (optim.Adamax, dict(betas=(1.5, 0.9)), "Adamax: invalid betas[0]: got 1.5"),
    (optim.Adamax, dict(eps=-1.0), "Adamax: invalid eps: got -1.0"),
    (optim.NAdam, dict(momentum_decay=-1.0), "NAdam: invalid momentum_decay: got -1.0"),
    (optim.NAdam, dict(betas=(0.9, 2.0)), "NAdam: invalid betas[1]: got 2.0"),
    (optim.RMSprop, dict(momentum=-0.9), "RMSprop: invalid momentum: got -0.9"),
    (optim.RMSprop, dict(alpha=-0.9), "RMSprop: invalid alpha: got -0.9"),
    (optim.RMSprop, dict(lr=-0.01), "RMSprop: invalid lr: got -0.01"),
    (optim.Adagrad, dict(lr_decay=-1), "Adagrad: invalid lr_decay: got -1"),
    (optim.Adagrad, dict(initial_accumulator_value=-1),
     "Adagrad: invalid initial_accumulator_value: got -1"),
    (optim.Adadelta, dict(rho=1.5), "Adadelta: invalid rho: got 1.5; it must be a "
                                    "number in [0.0, 1.0]"),
    (optim.Adadelta, dict(eps=-1.0), "Adadelta: invalid eps: got -1.0"),
    (optim.LBFGS, dict(lr=-1), "LBFGS: invalid lr: got -1"),
    (optim.LBFGS, dict(history_size=0), "LBFGS: invalid history_size: got 0; it must "
                                        "be an integer >= 1"),
    (optim.LBFGS, dict(max_iter=0), "LBFGS: invalid max_iter: got 0"),
    (optim.LBFGS, dict(line_search_fn="armijo"),
     "LBFGS: invalid line_search_fn: got 'armijo'; it must be None or 'strong_wolfe'"),
    (optim.CG, dict(c1=0.5, c2=0.1), "CG: the line-search constants need 0 < c1 < c2 "
                                     "< 1; got c1=0.5, c2=0.1"),
    (optim.CG, dict(c2=1.0), "CG: invalid c2: got 1.0; it must be a number in "
                             "(0.0, 1.0)"),
    (optim.CG, dict(lr=0), "CG: invalid lr: got 0"),
    (optim.CG, dict(restart=0), "CG: invalid restart: got 0"),
]


@pytest.mark.parametrize("cls,kw,msg", BAD_HPARAMS,
                         ids=[f"{c.__name__}-{k}" for c, k, _ in BAD_HPARAMS])
def test_bad_hyperparameter(cls, kw, msg):
    with raises(ArgumentError, msg):
        cls([param()], **kw)


def test_argument_error_is_a_value_error():
    with pytest.raises(ValueError):
        optim.SGD([param()], lr=-1)


def test_bad_hyperparameter_in_a_group_names_the_group():
    with raises(ArgumentError, "Adam: invalid lr (parameter group 1): got -0.5"):
        optim.Adam([{"params": [param()]}, {"params": [param()], "lr": -0.5}])
    opt = optim.SGD([param()], lr=0.1)
    with raises(ArgumentError, "SGD: invalid momentum (parameter group 1): got -1"):
        opt.add_param_group({"params": [param()], "momentum": -1})


# -- parameters ------------------------------------------------------------------------
def test_empty_parameter_list():
    with raises(ArgumentError, "SGD: got an empty parameter list; pass the tensors to "
                               "optimize, e.g. model.parameters()"):
        optim.SGD([], lr=0.1)
    with raises(ArgumentError, "Adam: got an empty parameter list"):
        optim.Adam(iter(()))


def test_parameter_in_two_groups():
    p = param()
    with raises(ArgumentError, "SGD: parameter 0 of the new group (shape [2]) is "
                               "already in another parameter group; each parameter "
                               "may appear in only one group"):
        optim.SGD([{"params": [p]}, {"params": [param(), p][1:]}], lr=0.1)
    opt = optim.Adam([p])
    with raises(ArgumentError, "Adam: parameter 1 of the new group"):
        opt.add_param_group({"params": [param(3), p]})


def test_parameter_twice_in_one_group():
    p = param()
    with raises(ArgumentError, "SGD: a parameter group lists the same tensor more than "
                               "once"):
        optim.SGD([p, p], lr=0.1)


def test_non_leaf_parameter():
    p = param(3)
    with raises(ArgumentError, "SGD: can't optimize a non-leaf tensor (parameter 1, "
                               "shape [3]"):
        optim.SGD([param(), p * 2], lr=0.1)


def test_non_floating_parameter():
    with raises(ArgumentError, "Adam: can only optimize floating-point tensors, but "
                               "parameter 0 is int64 [2]; convert it with .float()"):
        optim.Adam([cr.tensor([1, 2])])


def test_params_of_the_wrong_type():
    with raises(DTypeError, "SGD: params must be an iterable of Tensors or of dicts "
                            "(parameter groups), got a single Tensor of shape [2]; "
                            "wrap it in a list"):
        optim.SGD(param(), lr=0.1)
    with raises(DTypeError, "SGD: can only optimize Tensors, but parameter 1 is a "
                            "float"):
        optim.SGD([param(), 1.0], lr=0.1)
    with raises(DTypeError, "SGD: parameters must be given in an ordered collection"):
        optim.SGD({param()}, lr=0.1)
    with raises(DTypeError, "SGD: params must be an iterable of Tensors or of dicts "
                            "(parameter groups), got int"):
        optim.SGD(3, lr=0.1)
    with pytest.raises(TypeError):  # DTypeError is a TypeError, as torch raises
        optim.SGD(param(), lr=0.1)


def test_bad_param_group():
    opt = optim.SGD([param()], lr=0.1)
    with raises(ArgumentError, "SGD.add_param_group: the parameter group has no "
                               "'params' key (keys: ['lr'])"):
        opt.add_param_group({"lr": 0.1})
    with raises(DTypeError, "SGD.add_param_group: a parameter group must be a dict"):
        opt.add_param_group([param()])
    with raises(ArgumentError, "SGD: either every parameter of a group has a name"):
        optim.SGD([("w", param()), param()], lr=0.1)


def test_required_hyperparameter():
    class Plain(optim.Optimizer):
        def __init__(self, params, lr=optim.required):
            super().__init__(params, dict(lr=lr))

        def _check_group(self, group, where):
            self._check_range(group, "lr", where=where)

    with raises(ArgumentError, "Plain: parameter group 0 doesn't set the required "
                               "hyper-parameter 'lr', and it has no default"):
        Plain([param()])
    assert Plain([{"params": [param()], "lr": 0.1}]).param_groups[0]["lr"] == 0.1
    with raises(ArgumentError, "Plain: invalid lr (parameter group 0): got -2"):
        Plain([{"params": [param()], "lr": -2}])
    with pytest.raises(NotImplementedError, match="Plain does not implement step"):
        Plain([param()], lr=0.1).step()


# -- closure optimizers ----------------------------------------------------------------
@pytest.mark.parametrize("cls", [optim.LBFGS, optim.CG])
def test_closure_optimizers(cls):
    name = cls.__name__
    with raises(ArgumentError, f"{name} doesn't support per-parameter options: it "
                               "takes exactly one parameter group"):
        cls([{"params": [param()]}, {"params": [param()]}])
    opt = cls([param()])
    with raises(ArgumentError, f"{name}.step: a closure is required"):
        opt.step()
    with raises(ArgumentError, f"{name} doesn't support per-parameter options"):
        opt.add_param_group({"params": [param()]})


# -- load_state_dict -------------------------------------------------------------------
def trained_adam(*shapes):
    ps = [param(*s) for s in shapes]
    opt = optim.Adam(ps, lr=0.1)
    sum((p * p).sum() for p in ps).backward()
    opt.step()
    return opt


def test_load_state_dict_group_count():
    sd = trained_adam((2,)).state_dict()
    opt = optim.Adam([{"params": [param()]}, {"params": [param()]}])
    with raises(ArgumentError, "Adam.load_state_dict: the state dict has 1 parameter "
                               "group(s) but this optimizer has 2"):
        opt.load_state_dict(sd)


def test_load_state_dict_parameter_count():
    sd = trained_adam((2,), (3,)).state_dict()
    with raises(ArgumentError, "Adam.load_state_dict: parameter group 0 of the state "
                               "dict has 2 parameter(s) but the optimizer's group 0 "
                               "has 1"):
        optim.Adam([param()]).load_state_dict(sd)


def test_load_state_dict_shape_mismatch():
    sd = trained_adam((2,), (3,)).state_dict()
    opt = optim.Adam([param(2), param(4)])
    with raises(ShapeError, "Adam.load_state_dict: state 'exp_avg' of parameter 1 has "
                            "shape [3], but the parameter has shape [4]"):
        opt.load_state_dict(sd)
    assert not opt.state  # nothing was loaded


def test_load_state_dict_malformed():
    opt = optim.Adam([param()])
    with raises(ArgumentError, "Adam.load_state_dict: expected a dict with keys "
                               "'state' and 'param_groups' (from "
                               "Optimizer.state_dict()), got dict with keys "
                               "['exp_avg']"):
        opt.load_state_dict({"exp_avg": 1})
    with raises(ArgumentError, "Adam.load_state_dict: parameter group 0 of the state "
                               "dict must be a dict with a 'params' list, got dict "
                               "with keys ['lr']"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1}]})
    sd = trained_adam((2,)).state_dict()
    sd["state"][7] = sd["state"].pop(0)
    with raises(ArgumentError, "Adam.load_state_dict: the state dict has state for "
                               "parameter 7, which no parameter group lists"):
        opt.load_state_dict(sd)
    sd = trained_adam((2,)).state_dict()
    sd["param_groups"][0]["lr"] = -1.0
    with raises(ArgumentError, "Adam: invalid lr (parameter group 0 of the state "
                               "dict): got -1.0"):
        opt.load_state_dict(sd)


def test_lbfgs_load_state_dict_checks_vector_sizes():
    ps = [param(2)]
    opt = optim.LBFGS(ps)

    def closure():
        opt.zero_grad()
        loss = ((ps[0] - 3) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with raises(ShapeError, "LBFGS.load_state_dict: state 'd' holds a vector of shape "
                            "[2], but the parameters have 3 elements in all"):
        optim.LBFGS([param(3)]).load_state_dict(opt.state_dict())


# -- schedulers ------------------------------------------------------------------------
def sgd():
    return optim.SGD([param()], lr=0.1, momentum=0.9)


BAD_SCHEDULERS = [
    (lambda o: sch.StepLR(o, step_size=0), ArgumentError,
     "StepLR: invalid step_size: got 0; it must be an integer in [1, inf)"),
    (lambda o: sch.StepLR(o, step_size=2.5), ArgumentError,
     "StepLR: invalid step_size: got 2.5"),
    (lambda o: sch.StepLR(o, 3, gamma=-0.1), ArgumentError,
     "StepLR: invalid gamma: got -0.1"),
    (lambda o: sch.MultiStepLR(o, [3, -1]), ArgumentError,
     "MultiStepLR: invalid milestone: got -1"),
    (lambda o: sch.ExponentialLR(o, gamma="x"), ArgumentError,
     "ExponentialLR: invalid gamma: got 'x'"),
    (lambda o: sch.InverseTimeLR(o, gamma=-1), ArgumentError,
     "InverseTimeLR: invalid gamma: got -1; it must be a number in [0, inf)"),
    (lambda o: sch.ConstantLR(o, factor=1.5), ArgumentError,
     "ConstantLR: invalid factor: got 1.5; it must be a number in (0, 1]"),
    (lambda o: sch.LinearLR(o, start_factor=0), ArgumentError,
     "LinearLR: invalid start_factor: got 0; it must be a number in (0, 1]"),
    (lambda o: sch.LinearLR(o, end_factor=2), ArgumentError,
     "LinearLR: invalid end_factor: got 2"),
    (lambda o: sch.PolynomialLR(o, total_iters=0), ArgumentError,
     "PolynomialLR: invalid total_iters: got 0"),
    (lambda o: sch.CosineAnnealingLR(o, T_max=0), ArgumentError,
     "CosineAnnealingLR: invalid T_max: got 0; it must be a number in (0, inf)"),
    (lambda o: sch.CosineAnnealingWarmRestarts(o, T_0=0), ArgumentError,
     "CosineAnnealingWarmRestarts: invalid T_0: got 0"),
    (lambda o: sch.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5), ArgumentError,
     "CosineAnnealingWarmRestarts: invalid T_mult: got 1.5"),
    (lambda o: sch.LambdaLR(o, [lambda t: 1.0, lambda t: 1.0]), ArgumentError,
     "LambdaLR: got 2 lr_lambdas for 1 parameter groups"),
    (lambda o: sch.MultiplicativeLR(o, 0.9), DTypeError,
     "MultiplicativeLR: lr_lambda must be a function of the step count, got float"),
    (lambda o: sch.OneCycleLR(o, max_lr=1.0), ArgumentError,
     "OneCycleLR: pass total_steps, or both epochs and steps_per_epoch"),
    (lambda o: sch.OneCycleLR(o, 1.0, total_steps=0), ArgumentError,
     "OneCycleLR: invalid total_steps: got 0"),
    (lambda o: sch.OneCycleLR(o, 1.0, 10, pct_start=1.5), ArgumentError,
     "OneCycleLR: invalid pct_start: got 1.5"),
    (lambda o: sch.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ArgumentError,
     "OneCycleLR: invalid anneal_strategy 'exp'; use 'cos' or 'linear'"),
    (lambda o: sch.OneCycleLR(o, [1.0, 2.0], 10), ArgumentError,
     "OneCycleLR: max_lr has 2 values but the optimizer has 1 parameter groups"),
    (lambda o: sch.CyclicLR(o, 0.01, 0.1, mode="sine"), ArgumentError,
     "CyclicLR: invalid mode 'sine'; use 'triangular', 'triangular2' or 'exp_range', "
     "or pass scale_fn"),
    (lambda o: sch.CyclicLR(o, 0.01, 0.1, step_size_up=0), ArgumentError,
     "CyclicLR: invalid step_size_up: got 0"),
    (lambda o: sch.ReduceLROnPlateau(o, factor=1.0), ArgumentError,
     "ReduceLROnPlateau: invalid factor: got 1.0; it must be a number in [0, 1)"),
    (lambda o: sch.ReduceLROnPlateau(o, mode="lowest"), ArgumentError,
     "ReduceLROnPlateau: invalid mode 'lowest'; use 'min' or 'max'"),
    (lambda o: sch.ReduceLROnPlateau(o, threshold_mode="pct"), ArgumentError,
     "ReduceLROnPlateau: invalid threshold_mode 'pct'; use 'rel' or 'abs'"),
    (lambda o: sch.ReduceLROnPlateau(o, patience=-1), ArgumentError,
     "ReduceLROnPlateau: invalid patience: got -1"),
    (lambda o: sch.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), ArgumentError,
     "ReduceLROnPlateau: min_lr has 2 values but the optimizer has 1 parameter "
     "groups"),
    (lambda o: sch.SequentialLR(o, [sch.StepLR(o, 2), sch.StepLR(o, 3)], [2, 4]),
     ArgumentError, "SequentialLR: needs one milestone fewer than schedulers; got 2 "
                    "schedulers and 2 milestones"),
    (lambda o: sch.SequentialLR(o, [sch.StepLR(o, 2), sch.ReduceLROnPlateau(o)], [2]),
     ArgumentError, "SequentialLR: schedulers[1] is a ReduceLROnPlateau"),
    (lambda o: sch.SequentialLR(o, [sch.StepLR(o, 2), sch.StepLR(sgd(), 2)], [2]),
     ArgumentError, "SequentialLR: schedulers[1] (StepLR) belongs to a different "
                    "optimizer"),
    (lambda o: sch.ChainedScheduler([]), ArgumentError,
     "ChainedScheduler: expects at least one scheduler, got none"),
    (lambda o: sch.StepLR(o, 3, last_epoch=5), ArgumentError,
     "StepLR: resuming with last_epoch=5 needs 'initial_lr' in param_groups[0]"),
]


@pytest.mark.parametrize("make,exc,msg", BAD_SCHEDULERS,
                         ids=[m.split(":")[0] + str(i)
                              for i, (_, _, m) in enumerate(BAD_SCHEDULERS)])
def test_bad_scheduler_argument(make, exc, msg):
    with raises(exc, msg):
        make(sgd())


def test_scheduler_needs_an_optimizer():
    import torch

    with raises(DTypeError, "StepLR: expected a chainrule Optimizer, got SGD"):
        sch.StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)]), 3)
    with raises(DTypeError, "ReduceLROnPlateau: expected a chainrule Optimizer, got "
                            "list"):
        sch.ReduceLROnPlateau([])


def test_cycle_momentum_needs_momentum():
    opt = optim.Adagrad([param()])
    with raises(ArgumentError, "OneCycleLR: cycle_momentum=True needs an optimizer "
                               "with momentum or betas; Adagrad has neither (pass "
                               "cycle_momentum=False)"):
        sch.OneCycleLR(opt, 1.0, 10)
    with raises(ArgumentError, "CyclicLR: cycle_momentum=True needs an optimizer"):
        sch.CyclicLR(opt, 0.01, 0.1)


def test_one_cycle_stepped_too_far():
    opt = sgd()
    s = sch.OneCycleLR(opt, 1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        s.step()
    with raises(ArgumentError, "OneCycleLR: stepped 4 times, but total_steps is 3"):
        s.step()


def test_plateau_metric_must_be_a_number():
    s = sch.ReduceLROnPlateau(sgd())
    with raises(ArgumentError, "ReduceLROnPlateau.step: the metric must be a number or "
                               "a one-element tensor, got 'low'"):
        s.step("low")
    with raises(ArgumentError, "ReduceLROnPlateau.step: the metric must be a number"):
        s.step(cr.tensor([1.0, 2.0]))


def test_warm_restarts_negative_epoch():
    s = sch.CosineAnnealingWarmRestarts(sgd(), T_0=3)
    with raises(ArgumentError, "CosineAnnealingWarmRestarts: epoch must be >= 0, got "
                               "-1"):
        s.step(-1)


# -- regularisation helpers ------------------------------------------------------------
def test_regularisation_helpers_bad_input():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = param(2, 2)

    with raises(ArgumentError, "param_groups_weight_decay: weight_decay must be a "
                               "number >= 0, got -0.1"):
        optim.param_groups_weight_decay(M(), -0.1)
    with raises(DTypeError, "param_groups_weight_decay: expected an nn.Module, got "
                            "list"):
        optim.param_groups_weight_decay([param()], 0.1)
    with raises(ArgumentError, "l1_penalty: weight must be a number >= 0, got -1"):
        optim.l1_penalty(M(), -1)
    with raises(DTypeError, "l1_penalty: expected tensors, got a str"):
        optim.l1_penalty(["w"], 0.1)
