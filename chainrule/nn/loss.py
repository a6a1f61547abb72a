"""Loss functions: functional forms first, then the Module wrappers.

Every loss computes a per-element loss and reduces it by ``reduction``:
``'none'`` (keep it), ``'mean'`` or ``'sum'``.  Losses on logits never take
the log of a probability: cross-entropy uses ``log_softmax`` and the binary
ones ``logsigmoid``, both of which subtract the max first, so logits of any
magnitude give finite losses and gradients.

Where PyTorch would broadcast an ``input`` and a ``target`` of different
shapes with only a warning, chainrule raises: that broadcast is almost always
a bug (``(N, 1)`` against ``(N,)`` gives an ``(N, N)`` loss).
"""
import builtins
import math

from ..errors import ArgumentError, DTypeError, ShapeError, fmt_shape
from ..ops import (
    abs, clamp, exp, gather, log, minimum, mean, one_hot, sum, where,
    xlogy,
)
from ..ops._util import floating
from ..ops import full as _full
from ..ops import tensor as _tensor
from ..ops import fused as _fused
from ..ops.index import index_in_range
from ..tensor import Tensor
from .activation import log_softmax, logsigmoid
from .module import Module

_REDUCTIONS = ("none", "mean", "sum")
_BCE_EPS = 1e-12  # PyTorch's floor on p (1 - p) in the gradient of BCE


# -- helpers ---------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce, reduction):
    """Map PyTorch's deprecated ``size_average``/``reduce`` flags to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ArgumentError(f"{op}: reduction must be one of 'none', 'mean', 'sum', got "
                        f"{reduction!r}")


def _check_reduction(reduction, op, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        valid = ", ".join(repr(r) for r in _REDUCTIONS + tuple(extra))
        raise ArgumentError(f"{op}: reduction must be one of {valid}, got "
                            f"{reduction!r}")


def _same_shape(input, target, op):
    if input.shape != target.shape:
        raise ShapeError(
            f"{op}: input of shape {fmt_shape(input.shape)} and target of shape "
            f"{fmt_shape(target.shape)} must have the same shape (broadcasting them "
            "would compare every input with every target); reshape one of them")


def _pair(input, target, op):
    """Float input and target of the same shape and dtype."""
    x = floating(input)
    t = target if isinstance(target, Tensor) else _tensor(target)
    _same_shape(x, t, op)
    if t.dtype is not x.dtype:
        t = t.to(x.dtype)
    return x, t


def _weighted(loss, weight, op):
    if weight is None:
        return loss
    if weight.shape != loss.shape:
        raise ShapeError(f"{op}: weight of shape {fmt_shape(weight.shape)} must have "
                         f"the input's shape {fmt_shape(loss.shape)}")
    return loss * weight


def _weighted_reduce(loss, weight, reduction, op):
    """A weighted mean divides by the total weight (PyTorch's mse/l1 rule)."""
    if weight is not None and reduction == "mean":
        return sum(_weighted(loss, weight, op)) / sum(weight)
    return _reduce(_weighted(loss, weight, op), reduction, op)


# -- regression ------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean",
             weight=None):
    """``(input - target)^2``, any shape (input and target alike)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _pair(input, target, "mse_loss")
    d = x - t
    return _weighted_reduce(d * d, weight, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
            weight=None):
    """``|input - target|``, any shape."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _pair(input, target, "l1_loss")
    return _weighted_reduce(abs(x - t), weight, reduction, "l1_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    x, t = _pair(input, target, "smooth_l1_loss")
    a = abs(x - t)
    if beta == 0:
        return _reduce(a, reduction, "smooth_l1_loss")
    loss = where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    if delta <= 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta}")
    x, t = _pair(input, target, "huber_loss")
    a = abs(x - t)
    loss = where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))
    return _reduce(_weighted(loss, weight, "huber_loss"), reduction, "huber_loss")


def epsilon_insensitive_loss(input, target, epsilon=0.1, reduction="mean"):
    """``max(0, |target - input| - epsilon)``: the SVR loss, zero inside the tube."""
    if epsilon < 0:
        raise ArgumentError(f"epsilon_insensitive_loss: epsilon must be non-negative, "
                            f"got {epsilon}")
    x, t = _pair(input, target, "epsilon_insensitive_loss")
    loss = clamp(abs(t - x) - epsilon, min=0.0)
    return _reduce(loss, reduction, "epsilon_insensitive_loss")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None,
                     eps=1e-8, reduce=None, reduction="mean"):
    """Negative log-likelihood of ``target ~ Poisson(rate)``.

    ``log_input``: input is ``log(rate)`` and the loss ``exp(input) - target *
    input``; otherwise input is the rate and the loss ``input - target *
    log(input + eps)``.  ``full`` adds Stirling's term for ``log(target!)``.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _pair(input, target, "poisson_nll_loss")
    if log_input:
        loss = exp(x) - t * x
    else:
        loss = x - t * log(x + eps)
    if full:
        # Stirling: log(t!) ~ t log t - t + 0.5 log(2 pi t), used where t > 1.
        safe = where(t > 1, t, 1.0)
        stirling = safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe)
        loss = loss + where(t > 1, stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """``0.5 (log var + (input - target)^2 / var)`` (+ ``0.5 log 2 pi`` if full).

    ``var`` has the input's shape, or one dim fewer or one dim of size 1
    (one variance shared along it), or is a number.  It is clamped to at
    least ``eps`` for stability, with the gradient passing as if unclamped,
    as in PyTorch.
    """
    x, t = _pair(input, target, "gaussian_nll_loss")
    _check_reduction(reduction, "gaussian_nll_loss")
    if not isinstance(var, Tensor):
        var = _full((), float(var), dtype=x.dtype)
        var = var.expand(x.shape) if x.ndim else var
    if var.shape != x.shape:
        if var.shape == x.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.ndim == x.ndim and builtins.sum(
                b for a, b in zip(x.shape, var.shape) if a != b) == 1):
            raise ShapeError(f"gaussian_nll_loss: var of shape {fmt_shape(var.shape)} "
                             f"does not fit input {fmt_shape(x.shape)}; give the same "
                             "shape, the shape without the last dim, or size 1 in one "
                             "dim")
    if (var < 0).any():
        raise ArgumentError("gaussian_nll_loss: var has negative entries")
    v = var + (clamp(var, min=eps) - var).detach()
    d = x - t
    loss = 0.5 * (log(v) + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


# -- classification --------------------------------------------------------------------
def _class_setup(input, target, op):
    """Check (N, C, *) / (N, *) shapes; returns (input, target, class dim, C)."""
    x = floating(input)
    if x.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dim, got a 0-d tensor")
    cdim = 0 if x.ndim == 1 else 1
    c = x.shape[cdim]
    t = target if isinstance(target, Tensor) else _tensor(target)
    return x, t, cdim, c


def _check_index_target(x, t, cdim, c, ignore_index, op):
    if t.dtype.category != 1:
        raise DTypeError(
            f"{op}: expected class indices of an integer dtype (int64), got target "
            f"{t.dtype.name} {fmt_shape(t.shape)}; for class probabilities the target "
            f"must have the input's shape {fmt_shape(x.shape)}")
    want = x.shape[:cdim] + x.shape[cdim + 1:]
    if t.shape != want:
        raise ShapeError(f"{op}: input of shape {fmt_shape(x.shape)} needs a target of "
                         f"class indices of shape {fmt_shape(want)}, got "
                         f"{fmt_shape(t.shape)}")
    # Checked in a kernel (a primitive), so on every call; the checked
    # targets are returned for the caller to use.
    return index_in_range(t, c, f"{op}: target {{v}} is out of bounds for {c} "
                          f"classes (valid: 0 to {c - 1}, or ignore_index="
                          f"{ignore_index})", ignore=ignore_index)


def _check_class_weight(weight, c, op):
    if weight is not None and weight.shape != (c,):
        raise ShapeError(f"{op}: weight must have one entry per class, shape [{c}], "
                         f"got {fmt_shape(weight.shape)}")


def _pick(logp, t, cdim, ignore_index, weight):
    """Per-element ``-w[t] * logp[t]`` and ``w[t]`` (0 where ignored)."""
    keep = t != ignore_index
    safe = where(keep, t, 0)
    picked = gather(logp, cdim, safe.unsqueeze(cdim)).squeeze(cdim)
    w = keep.to(logp.dtype)
    if weight is not None:
        w = w * weight.to(logp.dtype)[safe]
    return -picked * w, w


def _nll(logp, t, cdim, weight, ignore_index, reduction):
    loss, w = _pick(logp, t, cdim, ignore_index, weight)
    if reduction == "mean":
        # Weighted mean over the kept elements: 0/0 = nan when all are ignored.
        return sum(loss) / sum(w)
    return sum(loss) if reduction == "sum" else loss


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100,
             reduce=None, reduction="mean"):
    """``-input[n, target[n]]`` for log-probabilities ``input``.

    input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; target class indices
    ``(N,)``, ``()`` or ``(N, d1, ...)``.  ``'mean'`` divides by the summed
    weights of the non-ignored targets.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    x, t, cdim, c = _class_setup(input, target, "nll_loss")
    _check_class_weight(weight, c, "nll_loss")
    if _plain_indices(x, t, weight):
        return _fused.nll_loss(x, t, ignore_index, reduction, "nll_loss")
    t = _check_index_target(x, t, cdim, c, ignore_index, "nll_loss")
    return _nll(x, t, cdim, weight, ignore_index, reduction)


def _plain_indices(x, t, weight):
    """The common case -- (N, C) scores, (N,) integer targets, no class weights
    -- which the promoted ``nll`` primitive computes in one call (it also
    checks the target range)."""
    return (weight is None and x.ndim == 2 and t.ndim == 1
            and t.shape[0] == x.shape[0] and t.dtype.category == 1)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` against class indices or class
    probabilities ``target``.

    input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``.  target: class indices
    ``(N,)`` / ``()`` / ``(N, d1, ...)`` (integers; ``ignore_index`` entries
    are skipped), or probabilities of the input's shape (floats).
    ``label_smoothing`` mixes the target with the uniform distribution.
    ``weight`` ``(C,)`` rescales each class.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"cross_entropy: label_smoothing must be between 0.0 and "
                            f"1.0, got {label_smoothing}")
    x, t, cdim, c = _class_setup(input, target, "cross_entropy")
    _check_class_weight(weight, c, "cross_entropy")
    logp = log_softmax(x, cdim)
    if label_smoothing == 0 and _plain_indices(x, t, weight):
        return _fused.nll_loss(logp, t, ignore_index, reduction, "cross_entropy")
    wshape = (c,) + (1,) * (x.ndim - cdim - 1)
    if t.dtype.is_floating_point:
        if t.shape != x.shape:
            raise ShapeError(
                f"cross_entropy: a target of class probabilities (float) must have the "
                f"input's shape {fmt_shape(x.shape)}, got {fmt_shape(t.shape)}; class "
                "indices must be integers")
        t = t.to(x.dtype)
        if label_smoothing > 0:
            t = t * (1 - label_smoothing) + label_smoothing / c
        term = logp * t
        if weight is not None:
            term = term * weight.to(x.dtype).reshape(wshape)
        loss = -sum(term, cdim)
        if reduction == "mean":
            return sum(loss) / (x.numel() // c) if x.numel() else sum(loss) / 0.0
        return sum(loss) if reduction == "sum" else loss
    t = _check_index_target(x, t, cdim, c, ignore_index, "cross_entropy")
    nll, w = _pick(logp, t, cdim, ignore_index, weight)
    if label_smoothing > 0:
        lp = logp if weight is None else logp * weight.to(x.dtype).reshape(wshape)
        smooth = -sum(lp, cdim) * (t != ignore_index).to(x.dtype)
        nll = (1 - label_smoothing) * nll + (label_smoothing / c) * smooth
    if reduction == "mean":
        return sum(nll) / sum(w)
    return sum(nll) if reduction == "sum" else nll


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """``-w (t log p + (1 - t) log(1 - p))`` for probabilities ``p`` in [0, 1].

    Logs are clamped at -100, as in PyTorch, so p = 0 or 1 stays finite, and
    so do gradients: PyTorch's ``(p - t) / max(p (1 - p), 1e-12)``.
    Prefer :func:`binary_cross_entropy_with_logits` on raw scores.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _pair(input, target, "binary_cross_entropy")
    if ((x < 0) | (x > 1)).any():
        raise ArgumentError("binary_cross_entropy: all elements of input should be "
                            "between 0 and 1 (probabilities); for raw scores use "
                            "binary_cross_entropy_with_logits")
    # Gradient as PyTorch's: (p - t) / max(p (1 - p), 1e-12).  Where p (1 - p)
    # >= 1e-12 that is the derivative of the plain formula, computed on p;
    # elsewhere (p within 1e-12 of 0 or 1) the clamped logs' own derivative
    # would be 0 * inf = nan, so the value comes from detached logs and the
    # gradient from a zero-valued term with derivative (p - t) / 1e-12.
    inside = (x * (1 - x)).detach() >= _BCE_EPS
    xs = where(inside, x, 0.5)  # keeps log's infinite branch out of backward
    loss_in = -(t * log(xs) + (1 - t) * log(1 - xs))
    xd = x.detach()
    d = x - t.detach()
    d2 = d * d
    loss_out = (-(t * clamp(log(xd), min=-100.0) + (1 - t) * clamp(log(1 - xd),
                                                                   min=-100.0))
                + (d2 - d2.detach()) / (2 * _BCE_EPS))
    loss = where(inside, loss_in, loss_out)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable expression:
    ``(1 - t) x - (1 + (pos_weight - 1) t) logsigmoid(x)``.

    ``pos_weight`` (broadcast along the last dim, the classes) weighs the
    positive term; ``weight`` weighs each element.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _pair(input, target, "binary_cross_entropy_with_logits")
    ls = logsigmoid(x)
    if pos_weight is not None:
        loss = (1 - t) * x - (1 + (pos_weight - 1) * t) * ls
    else:
        loss = (1 - t) * x - ls
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-y x))`` for labels ``y`` in {-1, 1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _pair(input, target, "soft_margin_loss")
    return _reduce(-logsigmoid(t * x), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None,
                                reduce=None, reduction="mean"):
    """Per sample, the mean over C classes of the binary cross-entropy of
    ``sigmoid(input)`` against 0/1 ``target``; input and target ``(N, C)``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _pair(input, target, "multilabel_soft_margin_loss")
    loss = -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    return _reduce(mean(loss, -1), reduction, "multilabel_soft_margin_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge: ``sum_{i != y} w[y] max(0, margin - x[y] + x[i])^p / C``.

    input ``(N, C)`` or ``(C,)``, target class indices ``(N,)`` or ``()``;
    ``p`` is 1 or 2.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ArgumentError(f"multi_margin_loss: only p == 1 and p == 2 are supported, "
                            f"got {p}")
    x, t, cdim, c = _class_setup(input, target, "multi_margin_loss")
    if x.ndim > 2:
        raise ShapeError(f"multi_margin_loss: expected input (N, C) or (C,), got "
                         f"{fmt_shape(x.shape)}")
    _check_class_weight(weight, c, "multi_margin_loss")
    t = _check_index_target(x, t, cdim, c, -100, "multi_margin_loss")
    xt = gather(x, cdim, t.unsqueeze(cdim))
    z = margin - xt + x
    z = where(z > 0, z, 0.0)  # PyTorch: no gradient at z == 0, unlike clamp's
    if p == 2:
        z = z * z
    z = z * (1 - one_hot(t, c).to(x.dtype))  # the target class does not count
    if weight is not None:
        z = z * weight.to(x.dtype)[t].unsqueeze(cdim)
    return _reduce(sum(z, cdim) / c, reduction, "multi_margin_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``x`` where ``y = 1``, ``max(0, margin - x)`` where ``y = -1``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _pair(input, target, "hinge_embedding_loss")
    loss = where(t != 1, clamp(margin - x, min=0.0), 0.0) + where(t != -1, x, 0.0)
    return _reduce(loss, reduction, "hinge_embedding_loss")


def perceptron_loss(input, target, reduction="mean"):
    """``max(0, -y * score)`` for labels ``y`` in {-1, +1}: zero for correctly
    classified points, the score's magnitude for mistakes."""
    x, t = _pair(input, target, "perceptron_loss")
    return _reduce(clamp(-t * x, min=0.0), reduction, "perceptron_loss")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",
           log_target=False):
    """``target * (log target - input)`` for log-probabilities ``input``.

    ``log_target``: the target is given as log-probabilities too.
    ``reduction='batchmean'`` divides the sum by the batch size (dim 0), which
    is the true KL divergence; ``'mean'`` divides by the number of elements.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "kl_div", ("batchmean",))
    x, t = _pair(input, target, "kl_div")
    if log_target:
        loss = exp(t) * (t - x)
    else:
        loss = xlogy(t, t) - t * x
    if reduction == "batchmean":
        return sum(loss) / (x.shape[0] if x.ndim else 1)
    return _reduce(loss, reduction, "kl_div")


# -- embeddings and distances ----------------------------------------------------------
def _norm(x, p, dim, keepdim=False):
    from ..ops.reduce import vector_norm

    return vector_norm(x, p, dim, keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``x / max(||x||_p, eps)`` along ``dim``."""
    x = floating(input)
    return x / clamp(_norm(x, p, dim, keepdim=True), min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / (max(||x1||, eps) max(||x2||, eps))`` along ``dim`` (the
    inputs broadcast; ``dim`` is removed)."""
    a, b = floating(x1), floating(x2)
    na = clamp(_norm(a, 2, dim, keepdim=True), min=eps)
    nb = clamp(_norm(b, 2, dim, keepdim=True), min=eps)
    return sum((a / na) * (b / nb), dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` along the last dim."""
    a, b = floating(x1), floating(x2)
    return _norm(a - b + eps, p, max(a.ndim, b.ndim) - 1, keepdim)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None,
                          reduce=None, reduction="mean"):
    """``1 - cos(x1, x2)`` where ``y = 1``, ``max(0, cos - margin)`` where ``y = -1``.

    inputs ``(N, D)`` or ``(D,)``, target ``(N,)`` or ``()``.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    a, b = floating(input1), floating(input2)
    if a.shape != b.shape or a.ndim not in (1, 2):
        raise ShapeError(f"cosine_embedding_loss: inputs must both be (N, D) or (D,), "
                         f"got {fmt_shape(a.shape)} and {fmt_shape(b.shape)}")
    t = target if isinstance(target, Tensor) else _tensor(target)
    if t.shape != a.shape[:-1]:
        raise ShapeError(f"cosine_embedding_loss: target must have shape "
                         f"{fmt_shape(a.shape[:-1])}, got {fmt_shape(t.shape)}")
    d = a.ndim - 1
    eps = 1e-12  # keeps zero vectors finite, as PyTorch does
    cos = sum(a * b, d) / ((sum(a * a, d) + eps) * (sum(b * b, d) + eps)).sqrt()
    loss = where(t == 1, 1 - cos, 0.0) + where(t == -1, clamp(cos - margin, min=0.0),
                                               0.0)
    return _reduce(loss, reduction, "cosine_embedding_loss")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None,
                        reduce=None, reduction="mean"):
    """``max(0, -y (x1 - x2) + margin)``: ``y = 1`` wants x1 ranked above x2."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    a, b = floating(input1), floating(input2)
    t = target if isinstance(target, Tensor) else _tensor(target)
    if not (a.shape == b.shape == t.shape):
        raise ShapeError(f"margin_ranking_loss: input1, input2 and target must have "
                         f"the same shape, got {fmt_shape(a.shape)}, "
                         f"{fmt_shape(b.shape)} and {fmt_shape(t.shape)}")
    loss = clamp(-t.to(a.dtype) * (a - b) + margin, min=0.0)
    return _reduce(loss, reduction, "margin_ranking_loss")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6,
                        swap=False, size_average=None, reduce=None, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the pairwise p-distance;
    ``swap`` uses ``min(d(a, n), d(p, n))`` as the negative distance.
    Inputs ``(N, D)`` or ``(D,)``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    a, ps, n = floating(anchor), floating(positive), floating(negative)
    if not (a.shape == ps.shape == n.shape) or a.ndim not in (1, 2):
        raise ShapeError(f"triplet_margin_loss: anchor, positive and negative must all "
                         f"be (N, D) or (D,), got {fmt_shape(a.shape)}, "
                         f"{fmt_shape(ps.shape)} and {fmt_shape(n.shape)}")
    d_pos = pairwise_distance(a, ps, p, eps)
    d_neg = pairwise_distance(a, n, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(ps, n, p, eps))
    loss = clamp(d_pos - d_neg + margin, min=0.0)
    return _reduce(loss, reduction, "triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *,
                                      distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` for any ``distance_function(x1,
    x2)`` returning one distance per sample (default: pairwise L2)."""
    if margin <= 0:
        raise ArgumentError(f"triplet_margin_with_distance_loss: margin must be "
                            f"greater than 0, got {margin}")
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, dist(positive, negative))
    loss = clamp(d_pos - d_neg + margin, min=0.0)
    return _reduce(loss, reduction, "triplet_margin_with_distance_loss")


# -- modules ---------------------------------------------------------------------------
class _Loss(Module):
    """Base of the losses: stores ``reduction`` (legacy flags mapped to it)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    """A loss with a per-class ``weight``, kept as a buffer (as in PyTorch)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Module form of :func:`mse_loss`."""

    def forward(self, input, target):
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Module form of :func:`l1_loss`."""

    def forward(self, input, target):
        return l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Module form of :func:`smooth_l1_loss`."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Module form of :func:`huber_loss`."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits; see :func:`cross_entropy`."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction,
                             label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities; see :func:`nll_loss`."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Module form of :func:`binary_cross_entropy`."""

    def forward(self, input, target):
        return binary_cross_entropy(input, target, self.weight,
                                    reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Module form of :func:`binary_cross_entropy_with_logits`."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(input, target, self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class MultiMarginLoss(_WeightedLoss):
    """Module form of :func:`multi_margin_loss`."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ArgumentError(f"MultiMarginLoss: only p == 1 and p == 2 are "
                                f"supported, got {p}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                 reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Module form of :func:`multilabel_soft_margin_loss`."""

    def forward(self, input, target):
        return multilabel_soft_margin_loss(input, target, self.weight,
                                           reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """Module form of :func:`hinge_embedding_loss`."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return hinge_embedding_loss(input, target, self.margin,
                                    reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Module form of :func:`soft_margin_loss`."""

    def forward(self, input, target):
        return soft_margin_loss(input, target, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Module form of :func:`poisson_nll_loss`."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8,
                 reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return poisson_nll_loss(log_input, target, self.log_input, self.full,
                                eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Module form of :func:`gaussian_nll_loss`."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return gaussian_nll_loss(input, target, var, self.full, self.eps,
                                 self.reduction)


class KLDivLoss(_Loss):
    """Module form of :func:`kl_div`."""

    def __init__(self, size_average=None, reduce=None, reduction="mean",
                 log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return kl_div(input, target, reduction=self.reduction,
                      log_target=self.log_target)


class CosineEmbeddingLoss(_Loss):
    """Module form of :func:`cosine_embedding_loss`."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return cosine_embedding_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """Module form of :func:`margin_ranking_loss`."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return margin_ranking_loss(input1, input2, target, self.margin,
                                   reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Module form of :func:`triplet_margin_loss`."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                 reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p,
                                   self.eps, self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Module form of :func:`triplet_margin_with_distance_loss`."""

    def __init__(self, *, distance_function=None, margin=1.0, swap=False,
                 reduction="mean"):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ArgumentError(f"TripletMarginWithDistanceLoss: margin must be "
                                f"greater than 0, got {margin}")
        self.distance_function = distance_function
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class CosineSimilarity(Module):
    """Module form of :func:`cosine_similarity`."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """Module form of :func:`pairwise_distance`."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
