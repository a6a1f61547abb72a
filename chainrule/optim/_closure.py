"""Shared machinery of the closure-driven optimizers (:class:`LBFGS`, :class:`CG`).

They see all parameters as one flat vector: gradients are concatenated,
directions are flat, and a trial step ``x + t d`` is applied to the real
parameters, evaluated with the closure, then undone.
"""
from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import cat, zeros
from ..tensor import Tensor
from .optimizer import Optimizer


class FlatClosureOptimizer(Optimizer):
    """Base for optimizers that need a closure and treat parameters as one vector.

    Only one parameter group is supported; the optimizer's state lives in
    ``state[first parameter]``.
    """

    def __init__(self, params, defaults):
        super().__init__(params, defaults)
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ArgumentError(f"{self._name} doesn't support per-parameter "
                                "options: it takes exactly one parameter group (put "
                                "all parameters in one list)")
        super().add_param_group(param_group)

    def _numel(self):
        return sum(p.numel() for p in self._params)

    def _require_closure(self, closure):
        if closure is None:
            raise ArgumentError(f"{self._name}.step: a closure is required -- a "
                                "function that zeroes the gradients, recomputes the "
                                "loss, calls loss.backward() and returns the loss")

    def _gather_flat_grad(self):
        """All gradients as one vector (zeros for parameters without one)."""
        return cat([p.grad.reshape(-1) if p.grad is not None
                    else zeros(p.numel(), dtype=p.dtype) for p in self._params])

    def _add_grad(self, t, d):
        """Parameters += t * d, with ``d`` flat."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.add_(d[offset:offset + n].reshape(p.shape), alpha=t)
            offset += n

    def _clone_param(self):
        return [p.clone() for p in self._params]

    def _set_param(self, values):
        for p, v in zip(self._params, values):
            p.copy_(v)

    @no_grad()
    def _directional_evaluate(self, closure, x, t, d):
        """Loss and flat gradient at ``x + t d``; the parameters end back at x."""
        self._add_grad(t, d)
        loss = float(self._evaluate(closure))
        g = self._gather_flat_grad()
        self._set_param(x)
        return loss, g

    def _check_state_shapes(self, p, pstate, index, name):
        """State vectors are flat: one entry per element of all parameters."""
        if not isinstance(pstate, dict):
            raise ArgumentError(f"{name}: the state of parameter {index} must be a "
                                f"dict, got {type(pstate).__name__}")
        n = self._numel()
        for k, v in pstate.items():
            for x in (v if isinstance(v, list) else [v]):
                if isinstance(x, Tensor) and x.ndim > 0 and x.shape != (n,):
                    raise ShapeError(
                        f"{name}: state {k!r} holds a vector of shape "
                        f"{fmt_shape(x.shape)}, but the parameters have {n} "
                        f"elements in all (expected shape {fmt_shape((n,))})")
