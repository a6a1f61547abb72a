"""Adam and AdamW: adaptive moment estimation, with bias correction."""
from ..autograd.grad_mode import no_grad
from ..ops import tensor, zeros_like
from ..ops.optim_ops import adam_step
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam, optionally AMSGrad and decoupled (AdamW-style) weight decay.

    Algorithm, per parameter ``p`` with gradient ``g``; ``m = v = vmax = 0``::

        t <- t + 1
        g <- -g                                   if maximize
        if weight_decay != 0:
            p <- p * (1 - lr * weight_decay)      if decoupled_weight_decay
            g <- g + weight_decay * p             otherwise (L2 penalty)
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        if amsgrad: vmax <- max(vmax, v); v_used = vmax  else v_used = v
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v_used / (1 - beta2^t)) + eps)

    State per parameter: ``step`` (a 0-d float32 tensor), ``exp_avg`` (m),
    ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq`` (vmax).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=_pair(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        self._check_range(group, "lr", where=where)
        self._check_range(group, "eps", where=where)
        self._check_betas(group, where)
        self._check_range(group, "weight_decay", where=where)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2) = group["lr"], group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = tensor(0.0)
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                if group["amsgrad"] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = zeros_like(p)
                # One fused primitive per parameter (see ops/optim_ops.py): the
                # algorithm above, step count included, in a few array passes.
                adam_step(p, p.grad, state["exp_avg"], state["exp_avg_sq"],
                          state["step"],
                          state["max_exp_avg_sq"] if group["amsgrad"] else None,
                          lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=wd,
                          decoupled=group["decoupled_weight_decay"],
                          maximize=group["maximize"])
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2).

    Same algorithm as :class:`Adam` with ``decoupled_weight_decay=True``:
    the parameters shrink by ``lr * weight_decay`` each step instead of the
    decay being added to the gradient, so it bypasses the adaptive scaling::

        p <- p * (1 - lr * weight_decay)
        (then the Adam update of p with the raw gradient)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=1e-2, amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)


def _pair(betas):
    """Betas as a tuple (a list from a saved state dict is accepted too)."""
    return tuple(betas) if isinstance(betas, list) else betas
