"""Every loss against torch, for every reduction and option: values and the
gradients of the input (and of float targets where torch has them)."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from tests.oracle import assert_close, check_against_torch, numeric_grad_check

TF = torch.nn.functional
REDUCTIONS = ["none", "mean", "sum"]


def _r(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _both(name, *args, **kwargs):
    """``(chainrule F.<name>, torch F.<name>)`` with the given fixed arguments."""
    cf, tf = getattr(F, name), getattr(TF, name)
    return (lambda *xs: cf(*xs, *args, **kwargs),
            lambda *xs: tf(*xs, *args, **kwargs))


def _const(arr):
    """A non-differentiable input: a chainrule tensor the oracle mirrors."""
    return cr.tensor(arr)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regression_losses(reduction, dtype):
    x, y = _r(4, 5, dtype=dtype), _r(4, 5, seed=1, dtype=dtype)
    w = np.abs(_r(4, 5, seed=2, dtype=dtype))
    for name, kw in [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
                     ("smooth_l1_loss", {"beta": 0.5}),
                     ("smooth_l1_loss", {"beta": 0.0}),
                     ("huber_loss", {}), ("huber_loss", {"delta": 0.3})]:
        cf, tf = _both(name, reduction=reduction, **kw)
        check_against_torch(cf, tf, [x, y])
    for name in ("mse_loss", "l1_loss", "huber_loss"):
        cf, tf = getattr(F, name), getattr(TF, name)
        check_against_torch(lambda a, b, c: cf(a, b, reduction=reduction, weight=c),
                            lambda a, b, c: tf(a, b, reduction=reduction, weight=c),
                            [x, y, w])
    check_against_torch(nn.MSELoss(reduction=reduction),
                        torch.nn.MSELoss(reduction=reduction), [x, y])
    check_against_torch(nn.HuberLoss(reduction, 0.5),
                        torch.nn.HuberLoss(reduction, 0.5), [x, y])
    check_against_torch(nn.SmoothL1Loss(reduction=reduction, beta=2.0),
                        torch.nn.SmoothL1Loss(reduction=reduction, beta=2.0), [x, y])
    check_against_torch(nn.L1Loss(reduction=reduction),
                        torch.nn.L1Loss(reduction=reduction), [x, y])
    ysign = _const(np.sign(y))
    check_against_torch(nn.SoftMarginLoss(reduction=reduction),
                        torch.nn.SoftMarginLoss(reduction=reduction), [x, ysign])


def test_legacy_size_average_and_reduce_flags():
    x, y = _r(3, 4), _r(3, 4, seed=1)
    for sa, rd in [(None, False), (False, None), (True, True), (False, True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_against_torch(lambda a, b: F.mse_loss(a, b, sa, rd),
                                lambda a, b: TF.mse_loss(a, b, sa, rd), [x, y])
            check_against_torch(nn.L1Loss(sa, rd), torch.nn.L1Loss(sa, rd), [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_class_indices(reduction):
    rng = np.random.default_rng(0)
    cases = [((6, 4), (6,)), ((3, 4, 2, 5), (3, 2, 5)), ((4,), ())]
    for xs, ts in cases:
        x = _r(*xs)
        t = rng.integers(0, 4, ts)
        w = np.abs(_r(4, seed=3)) + 0.1
        for kw in [{}, {"weight": w}, {"ignore_index": 2}, {"label_smoothing": 0.2},
                   {"weight": w, "ignore_index": 1, "label_smoothing": 0.3}]:
            ckw = {k: cr.tensor(v) if k == "weight" else v for k, v in kw.items()}
            tkw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
            check_against_torch(
                lambda a: F.cross_entropy(a, cr.tensor(t), reduction=reduction, **ckw),
                lambda a: TF.cross_entropy(a, torch.tensor(t), reduction=reduction,
                                           **tkw), [x])
            check_against_torch(
                nn.CrossEntropyLoss(reduction=reduction, **ckw),
                torch.nn.CrossEntropyLoss(reduction=reduction, **tkw),
                [x, _const(t)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_class_probabilities(reduction):
    for xs in [(6, 4), (2, 4, 3)]:
        x = _r(*xs)
        p = np.exp(_r(*xs, seed=1))
        p = p / p.sum(1, keepdims=True)
        w = np.abs(_r(4, seed=3)) + 0.1
        for kw in [{}, {"label_smoothing": 0.1}, {"weight": w}]:
            ckw = {k: cr.tensor(v) if k == "weight" else v for k, v in kw.items()}
            tkw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
            check_against_torch(
                lambda a, b: F.cross_entropy(a, b, reduction=reduction, **ckw),
                lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **tkw), [x, p])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_and_bce_with_logits_are_stable_at_1e8(dtype):
    x = _r(5, 3, dtype=dtype) * 1e8
    t = np.array([0, 2, 1, 1, 0])
    out = check_against_torch(lambda a: F.cross_entropy(a, cr.tensor(t)),
                              lambda a: TF.cross_entropy(a, torch.tensor(t)), [x],
                              rtol=1e-5, atol=1e-3)
    assert np.isfinite(out[0].item())
    xb, yb = _r(4, 3, dtype=dtype) * 1e8, (_r(4, 3, seed=1) > 0).astype(dtype)
    pw = np.abs(_r(3, seed=2, dtype=dtype)) + 0.5
    out = check_against_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=cr.tensor(pw)),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b,
                                                         pos_weight=torch.tensor(pw)),
        [xb, yb], rtol=1e-5, atol=1e-3)
    assert np.isfinite(out[0].item())
    # Gradients stay finite too.
    cx = cr.tensor(x, requires_grad=True)
    F.cross_entropy(cx, cr.tensor(t)).backward()
    assert np.all(np.isfinite(cx.grad.numpy()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    rng = np.random.default_rng(0)
    for xs, ts in [((6, 4), (6,)), ((2, 4, 3), (2, 3)), ((4,), ())]:
        x = _r(*xs)
        t = rng.integers(0, 4, ts)
        w = np.abs(_r(4, seed=3)) + 0.1
        for kw in [{}, {"weight": w}, {"ignore_index": 0}]:
            ckw = {k: cr.tensor(v) if k == "weight" else v for k, v in kw.items()}
            tkw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
            check_against_torch(
                nn.NLLLoss(reduction=reduction, **ckw),
                torch.nn.NLLLoss(reduction=reduction, **tkw), [x, _const(t)])


def test_cross_entropy_all_ignored_mean_is_nan_like_torch():
    x = _r(3, 4)
    t = np.array([-100, -100, -100])
    c = F.cross_entropy(cr.tensor(x), cr.tensor(t))
    tt = TF.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.isnan(c.item()) and np.isnan(tt.item())


def test_classification_errors():
    x = cr.randn(4, 5)
    with pytest.raises(cr.IndexOutOfRange, match="target 7 is out of bounds for 5 "
                                                 "classes"):
        F.cross_entropy(x, cr.tensor([0, 7, 1, 2]))
    with pytest.raises(cr.IndexOutOfRange, match="target -3"):
        F.nll_loss(x, cr.tensor([0, -3, 1, 2]))
    with pytest.raises(cr.ShapeError,
                       match=r"needs a target .* shape \[4\], got \[3\]"):
        F.cross_entropy(x, cr.tensor([0, 1, 2]))
    with pytest.raises(cr.ShapeError, match="probabilities"):
        F.cross_entropy(x, cr.randn(4))
    with pytest.raises(cr.ShapeError, match=r"weight must have one entry per class"):
        F.cross_entropy(x, cr.tensor([0, 1, 2, 3]), weight=cr.ones(3))
    with pytest.raises(cr.ArgumentError, match="reduction must be one of"):
        F.cross_entropy(x, cr.tensor([0, 1, 2, 3]), reduction="avg")
    with pytest.raises(cr.ShapeError, match=r"mse_loss: .*\[4, 5\].*\[4\]"):
        F.mse_loss(x, cr.randn(4))
    with pytest.raises(cr.ArgumentError, match="between 0 and 1"):
        F.binary_cross_entropy(x, cr.rand(4, 5))
    with pytest.raises(cr.ArgumentError, match="label_smoothing"):
        F.cross_entropy(x, cr.tensor([0, 1, 2, 3]), label_smoothing=1.5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses(reduction):
    rng = np.random.default_rng(0)
    x = _r(5, 3)
    p = 1 / (1 + np.exp(-x))
    y = rng.uniform(0, 1, (5, 3))
    w = np.abs(_r(5, 3, seed=2))
    pw = np.abs(_r(3, seed=3)) + 0.2
    check_against_torch(nn.BCELoss(reduction=reduction),
                        torch.nn.BCELoss(reduction=reduction), [p, y])
    check_against_torch(nn.BCELoss(cr.tensor(w), reduction=reduction),
                        torch.nn.BCELoss(torch.tensor(w), reduction=reduction), [p, y])
    for kw in [{}, {"weight": w}, {"pos_weight": pw}, {"weight": w, "pos_weight": pw}]:
        ckw = {k: cr.tensor(v) for k, v in kw.items()}
        tkw = {k: torch.tensor(v) for k, v in kw.items()}
        check_against_torch(nn.BCEWithLogitsLoss(reduction=reduction, **ckw),
                            torch.nn.BCEWithLogitsLoss(reduction=reduction, **tkw),
                            [x, y])
    # Probabilities of exactly 0 and 1: logs clamped at -100, as in torch.
    edge = np.array([0.0, 1.0, 0.5])
    lab = np.array([1.0, 0.0, 1.0])
    check_against_torch(
        lambda a: F.binary_cross_entropy(a, cr.tensor(lab), reduction=reduction),
        lambda a: TF.binary_cross_entropy(a, torch.tensor(lab), reduction=reduction),
        [edge], grads=False)
    check_against_torch(nn.MultiLabelSoftMarginLoss(reduction=reduction),
                        torch.nn.MultiLabelSoftMarginLoss(reduction=reduction),
                        [x, _const((y > 0.5).astype(np.float64))])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction):
    rng = np.random.default_rng(0)
    x = _r(6, 4)
    t = rng.integers(0, 4, 6)
    w = np.abs(_r(4, seed=3)) + 0.1
    for p in (1, 2):
        for margin in (1.0, 0.4):
            for kw in ({}, {"weight": w}):
                ckw = {k: cr.tensor(v) for k, v in kw.items()}
                tkw = {k: torch.tensor(v) for k, v in kw.items()}
                check_against_torch(
                    nn.MultiMarginLoss(p, margin, reduction=reduction, **ckw),
                    torch.nn.MultiMarginLoss(p, margin, reduction=reduction, **tkw),
                    [x, _const(t)])
    check_against_torch(lambda a: F.multi_margin_loss(a, cr.tensor(2)),
                        lambda a: TF.multi_margin_loss(a, torch.tensor(2)), [x[0]])
    y = np.sign(_r(6, 4, seed=5))
    y[0, 0] = 0.0  # neither 1 nor -1: both terms, as torch computes it
    for margin in (1.0, 2.0):
        check_against_torch(nn.HingeEmbeddingLoss(margin, reduction=reduction),
                            torch.nn.HingeEmbeddingLoss(margin, reduction=reduction),
                            [x, _const(y)])
    a, b = _r(7), _r(7, seed=1)
    ys = np.sign(_r(7, seed=2))
    for margin in (0.0, 0.5):
        check_against_torch(nn.MarginRankingLoss(margin, reduction=reduction),
                            torch.nn.MarginRankingLoss(margin, reduction=reduction),
                            [a, b, _const(ys)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_embedding_losses(reduction):
    a, b, c = _r(5, 4), _r(5, 4, seed=1), _r(5, 4, seed=2)
    y = np.array([1, -1, 1, -1, -1])
    for margin in (0.0, 0.3):
        check_against_torch(nn.CosineEmbeddingLoss(margin, reduction=reduction),
                            torch.nn.CosineEmbeddingLoss(margin, reduction=reduction),
                            [a, b, _const(y)])
    check_against_torch(nn.CosineEmbeddingLoss(reduction=reduction),
                        torch.nn.CosineEmbeddingLoss(reduction=reduction),
                        [a[0], b[0], _const(np.array(-1))])
    for kw in [{}, {"margin": 0.5, "p": 1.0}, {"swap": True}, {"p": 3.0, "eps": 1e-3}]:
        check_against_torch(nn.TripletMarginLoss(reduction=reduction, **kw),
                            torch.nn.TripletMarginLoss(reduction=reduction, **kw),
                            [a, b, c])
    check_against_torch(nn.TripletMarginLoss(reduction=reduction),
                        torch.nn.TripletMarginLoss(reduction=reduction),
                        [a[0], b[0], c[0]])
    for swap in (False, True):
        check_against_torch(
            nn.TripletMarginWithDistanceLoss(swap=swap, reduction=reduction),
            torch.nn.TripletMarginWithDistanceLoss(swap=swap, reduction=reduction),
            [a, b, c])
    check_against_torch(
        lambda x, y, z: F.triplet_margin_with_distance_loss(
            x, y, z, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v),
            margin=0.5, reduction=reduction),
        lambda x, y, z: TF.triplet_margin_with_distance_loss(
            x, y, z, distance_function=lambda u, v: 1 - TF.cosine_similarity(u, v),
            margin=0.5, reduction=reduction), [a, b, c])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_likelihood_losses(reduction):
    x = _r(4, 3)
    rate = np.abs(x) + 0.1
    counts = np.random.default_rng(0).poisson(2.0, (4, 3)).astype(np.float64)
    for log_input in (True, False):
        for full in (False, True):
            inp = x if log_input else rate
            check_against_torch(
                nn.PoissonNLLLoss(log_input, full, reduction=reduction),
                torch.nn.PoissonNLLLoss(log_input, full, reduction=reduction),
                [inp, _const(counts)])
    y = _r(4, 3, seed=1)
    var = np.abs(_r(4, 3, seed=2)) + 0.05
    var[0, 0] = 1e-9  # below eps: clamped, gradient passes as in torch
    for full in (False, True):
        for v in (var, var[:, :1], var[:, 0]):
            check_against_torch(
                nn.GaussianNLLLoss(full=full, reduction=reduction),
                torch.nn.GaussianNLLLoss(full=full, reduction=reduction), [x, y, v])
    check_against_torch(
        lambda a, b: F.gaussian_nll_loss(a, b, 0.5, reduction=reduction),
        lambda a, b: TF.gaussian_nll_loss(a, b, 0.5, reduction=reduction), [x, y])
    with pytest.raises(cr.ShapeError, match="var of shape"):
        F.gaussian_nll_loss(cr.tensor(x), cr.tensor(y), cr.ones(2, 2, dtype=cr.float64))
    with pytest.raises(cr.ArgumentError, match="negative"):
        F.gaussian_nll_loss(cr.tensor(x), cr.tensor(y), -cr.tensor(var))


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div(reduction):
    logp = np.log(np.random.default_rng(0).dirichlet(np.ones(4), 5))
    q = np.random.default_rng(1).dirichlet(np.ones(4), 5)
    q[0, 1] = 0.0  # 0 log 0 = 0
    with warnings.catch_warnings():  # torch warns that 'mean' is not the true KL
        warnings.simplefilter("ignore")
        check_against_torch(nn.KLDivLoss(reduction=reduction),
                            torch.nn.KLDivLoss(reduction=reduction), [logp, q])
        check_against_torch(nn.KLDivLoss(reduction=reduction, log_target=True),
                            torch.nn.KLDivLoss(reduction=reduction, log_target=True),
                            [logp, np.log(q + 0.1)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_perceptron_and_epsilon_insensitive_losses(reduction):
    score = np.array([2.0, -1.5, 0.5, -0.2, 3.0])
    y = np.array([1.0, 1.0, -1.0, -1.0, -1.0])
    expected = np.maximum(0, -y * score)  # [0, 1.5, 0.5, 0, 3]
    expected = {"none": expected, "mean": expected.mean(), "sum": expected.sum()}
    out = F.perceptron_loss(cr.tensor(score), cr.tensor(y), reduction=reduction)
    assert_close(out, expected[reduction])
    ty = torch.tensor(y)
    check_against_torch(
        lambda a: F.perceptron_loss(a, cr.tensor(y), reduction),
        lambda a: _torch_reduce(torch.clamp(-ty * a, min=0), reduction), [_r(5)])
    yhat, target = _r(6), _r(6, seed=1)
    for eps in (0.0, 0.5):
        check_against_torch(
            lambda a, b: F.epsilon_insensitive_loss(a, b, eps, reduction),
            lambda a, b: _torch_reduce(torch.clamp((b - a).abs() - eps, min=0),
                                       reduction),
            [yhat, target])
    numeric_grad_check(lambda a: F.epsilon_insensitive_loss(a, cr.tensor(target), 0.5,
                                                            "none"), [yhat])


def _torch_reduce(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def test_losses_finite_differences():
    x, y = _r(3, 4), _r(3, 4, seed=1)
    t = cr.tensor([0, 3, 1])
    numeric_grad_check(lambda a: F.cross_entropy(a, t, label_smoothing=0.1), [x])
    numeric_grad_check(lambda a: F.binary_cross_entropy_with_logits(a, cr.tensor(y > 0)
                                                                    .double()), [x])
    numeric_grad_check(lambda a, b: F.huber_loss(a, b, delta=0.5), [x, y])
    numeric_grad_check(lambda a: F.multi_margin_loss(a, t, p=2), [x])


def test_loss_modules_keep_weight_as_buffer():
    w = cr.ones(3)
    c = nn.CrossEntropyLoss(weight=w)
    t = torch.nn.CrossEntropyLoss(weight=torch.ones(3))
    assert list(c.state_dict()) == list(t.state_dict()) == ["weight"]
    b = nn.BCEWithLogitsLoss(pos_weight=cr.ones(2))
    tb = torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(2))
    assert list(b.state_dict()) == list(tb.state_dict())
    assert repr(nn.MSELoss()) == "MSELoss()"


@pytest.mark.parametrize("call,err,pattern", [
    (lambda: F.smooth_l1_loss(cr.randn(3), cr.randn(3), beta=-1.0), cr.ArgumentError,
     "beta must be non-negative"),
    (lambda: F.huber_loss(cr.randn(3), cr.randn(3), delta=0.0), cr.ArgumentError,
     "delta must be positive"),
    (lambda: F.epsilon_insensitive_loss(cr.randn(3), cr.randn(3), -0.1),
     cr.ArgumentError, "epsilon must be non-negative"),
    (lambda: F.kl_div(cr.randn(3), cr.rand(3), reduction="batch"), cr.ArgumentError,
     "'batchmean'"),
    (lambda: F.multi_margin_loss(cr.randn(2, 3), cr.tensor([0, 1]), p=3),
     cr.ArgumentError, "only p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(cr.randn(2, 3, 4), cr.tensor([0, 1])), cr.ShapeError,
     r"expected input \(N, C\) or \(C,\)"),
    (lambda: F.cosine_embedding_loss(cr.randn(2, 3), cr.randn(2, 4), cr.ones(2)),
     cr.ShapeError, r"\[2, 3\] and \[2, 4\]"),
    (lambda: F.cosine_embedding_loss(cr.randn(2, 3), cr.randn(2, 3), cr.ones(3)),
     cr.ShapeError, r"target must have shape \[2\]"),
    (lambda: F.margin_ranking_loss(cr.randn(3), cr.randn(3), cr.ones(2)),
     cr.ShapeError, r"\[3\], \[3\] and \[2\]"),
    (lambda: F.triplet_margin_loss(cr.randn(2, 3), cr.randn(2, 3), cr.randn(3, 3)),
     cr.ShapeError, "anchor, positive and negative"),
    (lambda: nn.TripletMarginWithDistanceLoss(margin=0.0), cr.ArgumentError,
     "margin must be greater than 0"),
    (lambda: nn.MultiMarginLoss(p=0), cr.ArgumentError, "only p == 1 and p == 2"),
    (lambda: F.nll_loss(cr.randn(3, 4), cr.tensor([0.0, 1.0, 2.0])), cr.DTypeError,
     "class indices of an integer dtype"),
    (lambda: F.cross_entropy(cr.randn(()), cr.tensor(0)), cr.ShapeError,
     "must have a class dim"),
])
def test_loss_error_messages(call, err, pattern):
    with pytest.raises(err, match=pattern):
        call()


def test_forward_mode_through_losses_and_norms_matches_torch():
    from chainrule.autograd import forward_ad as fwAD
    from tests.test_nn_activations import torch_jvp

    x, v = _r(4, 3, 5), _r(4, 3, 5, seed=9)
    t = np.random.default_rng(0).integers(0, 3, (4, 5))
    w, b = _r(5, seed=2), _r(5, seed=3)
    cases = [
        (lambda a: F.cross_entropy(a, cr.tensor(t), label_smoothing=0.1),
         lambda a: TF.cross_entropy(a, torch.tensor(t), label_smoothing=0.1)),
        (lambda a: F.binary_cross_entropy_with_logits(a, cr.tensor(x > 0).double()),
         lambda a: TF.binary_cross_entropy_with_logits(a,
                                                       torch.tensor(x > 0).double())),
        (lambda a: nn.functional.layer_norm(a, (5,), cr.tensor(w), cr.tensor(b)),
         lambda a: TF.layer_norm(a, (5,), torch.tensor(w), torch.tensor(b))),
        (lambda a: nn.functional.batch_norm(a, None, None, training=True),
         lambda a: TF.batch_norm(a, None, None, training=True)),
        (lambda a: nn.functional.group_norm(a, 3), lambda a: TF.group_norm(a, 3)),
        (lambda a: F.smooth_l1_loss(a, cr.zeros(4, 3, 5, dtype=cr.float64)),
         lambda a: TF.smooth_l1_loss(a, torch.zeros(4, 3, 5, dtype=torch.float64))),
    ]
    for cf, tf in cases:
        with fwAD.dual_level():
            d = fwAD.make_dual(cr.tensor(x), cr.tensor(v))
            out = fwAD.unpack_dual(cf(d)).tangent
        assert_close(out, torch_jvp(tf, x, v), 1e-7, 1e-9)
