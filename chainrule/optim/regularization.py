"""Regularisation helpers: weight decay that spares biases, and an L1 penalty.

Decaying biases and normalisation scales/shifts towards zero does not
regularise the function a network computes in any useful way and can hurt,
so the usual recipe applies weight decay to weight matrices and kernels
only::

    groups = param_groups_weight_decay(model, weight_decay=0.05)
    opt = chainrule.optim.AdamW(groups, lr=1e-3)

    loss = loss_fn(model(x), y) + l1_penalty(model, 1e-4)
"""
from ..errors import ArgumentError, DTypeError
from ..ops import tensor
from ..tensor import Tensor

_NORM_WORDS = ("Norm",)


def _is_norm_layer(module):
    """BatchNorm*, LayerNorm, GroupNorm, InstanceNorm*, RMSNorm, LocalResponseNorm..."""
    return any(w in type(module).__name__ for w in _NORM_WORDS)


def _named_params(model, op):
    from ..nn.module import Module

    if not isinstance(model, Module):
        raise DTypeError(f"{op}: expected an nn.Module, got {type(model).__name__}")
    norm_params = set()
    for m in model.modules():
        if _is_norm_layer(m):
            norm_params.update(id(p) for p in m.parameters(recurse=False))
    return list(model.named_parameters()), norm_params


def _skipped(name, p, norm_params, skip):
    """True for parameters that weight decay / L1 should leave alone."""
    return (p.ndim <= 1 or id(p) in norm_params or name in skip
            or name.split(".")[-1] in skip)


def param_groups_weight_decay(model, weight_decay=1e-5, skip=()):
    """Two parameter groups for an optimizer: with and without weight decay.

    Parameters with at most one dimension (biases, normalisation scales),
    every parameter of a normalisation layer, and those named in ``skip``
    (full dotted names like ``'pos_embed'``/``'head.scale'``, or a last
    component like ``'cls_token'``) get ``weight_decay=0``; all other
    trainable parameters get ``weight_decay``.  Frozen parameters
    (``requires_grad=False``) are left out.

    Returns ``[{'params': [...], 'weight_decay': 0.0},
    {'params': [...], 'weight_decay': weight_decay}]``, ready to pass to any
    optimizer that has a ``weight_decay`` option.
    """
    op = "param_groups_weight_decay"
    if (isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float))
            or not weight_decay >= 0):
        raise ArgumentError(f"{op}: weight_decay must be a number >= 0, got "
                            f"{weight_decay!r}")
    if isinstance(skip, str):
        skip = (skip,)
    skip = set(skip)
    named, norm_params = _named_params(model, op)
    decay, no_decay = [], []
    for name, p in named:
        if not p.requires_grad:
            continue
        (no_decay if _skipped(name, p, norm_params, skip) else decay).append(p)
    return [{"params": no_decay, "weight_decay": 0.0},
            {"params": decay, "weight_decay": weight_decay}]


def l1_penalty(parameters, weight, skip_bias=True):
    """``weight * sum(|p|)`` over parameters: a differentiable 0-d tensor.

    ``parameters``: an ``nn.Module``, an iterable of tensors, or of
    ``(name, tensor)`` pairs (``model.named_parameters()``).  With
    ``skip_bias`` the parameters weight decay would spare are left out: for a
    module, those of :func:`param_groups_weight_decay`; for bare tensors,
    those with at most one dimension.  Tensors that don't require grad
    (frozen parameters) are left out.  Add the result to the loss.
    """
    from ..nn.module import Module

    op = "l1_penalty"
    if (isinstance(weight, bool) or not isinstance(weight, (int, float))
            or not weight >= 0):
        raise ArgumentError(f"{op}: weight must be a number >= 0, got {weight!r}")
    norm_params = set()
    if isinstance(parameters, Module):
        named, norm_params = _named_params(parameters, op)
    elif isinstance(parameters, Tensor):
        named = [("", parameters)]
    else:
        named = [item if isinstance(item, tuple) else ("", item) for item in parameters]
    total = None
    for name, p in named:
        if not isinstance(p, Tensor):
            raise DTypeError(f"{op}: expected tensors, got a {type(p).__name__}")
        if not p.requires_grad or (skip_bias and _skipped(name, p, norm_params, ())):
            continue
        term = p.abs().sum()
        total = term if total is None else total + term
    if total is None:
        return tensor(0.0)
    return total * weight
