"""Adamax: Adam with the infinity norm in place of the second moment."""
from ..autograd.grad_mode import no_grad
from .._dtype import float64
from ..ops import tensor, zeros_like
from .optimizer import Optimizer


class Adamax(Optimizer):
    """Adamax (the infinity-norm variant of Adam).

    Algorithm, per parameter ``p`` with gradient ``g``; ``m = u = 0``::

        t <- t + 1
        g <- -g                              if maximize
        g <- g + weight_decay * p            if weight_decay != 0
        m <- beta1 * m + (1 - beta1) * g
        u <- max(beta2 * u, |g| + eps)
        p <- p - lr / (1 - beta1^t) * m / u

    State per parameter: ``step``, ``exp_avg`` (m) and ``exp_inf`` (u).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 *, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
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
                g = self._grad(p, group["maximize"])
                state = self.state[p]
                if not state:
                    state["step"] = tensor(0.0)
                    state["exp_avg"] = zeros_like(p)
                    state["exp_inf"] = zeros_like(p)
                # 0-d float64 tensors, as Python numbers would be: no host read.
                t = state["step"].add_(1).to(float64)
                if wd != 0:
                    g = g.add(p, alpha=wd)
                m, u = state["exp_avg"], state["exp_inf"]
                m.lerp_(g, 1 - beta1)
                u.copy_(u.mul_(beta2).maximum(g.abs().add_(eps)))
                p.sub_(m.div(u).mul_(lr / (1 - beta1 ** t)))
        return loss
