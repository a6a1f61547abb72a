"""Flatten parameters to one vector and back (for second-order methods,
evolution strategies, weight averaging...)."""
from ...autograd.grad_mode import no_grad
from ...errors import ArgumentError, ShapeError, fmt_shape
from ...ops import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """All ``parameters`` flattened and concatenated, in order: ``(total,)``.

    The result is differentiable with respect to the parameters.
    """
    if isinstance(parameters, Tensor):
        raise ArgumentError("parameters_to_vector: expected an iterable of tensors, "
                            "got a single Tensor")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` ``(total,)`` into ``parameters``."""
    if not isinstance(vec, Tensor):
        raise ArgumentError(f"vector_to_parameters: expected vec to be a Tensor, got "
                            f"{type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ShapeError(f"vector_to_parameters: vec of shape {fmt_shape(vec.shape)} "
                         f"does not hold the {total} parameter values; expected "
                         f"[{total}]")
    at = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[at:at + n].reshape(p.shape))
            at += n
