"""Gradient clipping, applied in place to ``.grad`` between backward and step."""
from ...autograd.grad_mode import no_grad
from ...errors import ArgumentError
from ...ops import clamp, isfinite, stack, tensor
from ...ops.reduce import vector_norm
from ...tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so that their joint ``norm_type``-norm is at
    most ``max_norm``; returns the norm before clipping (a 0-d tensor).

    The joint norm is the norm of the per-parameter norms, i.e. the norm of
    all gradients concatenated.  Scaling uses ``max_norm / (norm + 1e-6)``
    when that is below 1, as in PyTorch.
    """
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return tensor(0.0)
    with no_grad():
        norms = [vector_norm(g, norm_type) for g in grads]
        dt = norms[0].dtype
        total = vector_norm(stack([n.to(dt) for n in norms]), norm_type)
        if error_if_nonfinite and not bool(isfinite(total)):
            raise ArgumentError(
                f"clip_grad_norm_: the total norm of order {norm_type} of the "
                "gradients is non-finite, so it cannot be clipped; set "
                "error_if_nonfinite=False to skip this check")
        coef = clamp(max_norm / (total + 1e-6), max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated alias of :func:`clip_grad_norm_`."""
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
