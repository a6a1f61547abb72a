"""Adadelta: step sizes from running averages of gradients and updates."""
from ..autograd.grad_mode import no_grad
from ..ops import tensor, zeros_like
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012).

    Algorithm, per parameter ``p`` with gradient ``g``; ``v = u = 0``::

        g <- -g                                   if maximize
        g <- g + weight_decay * p                 if weight_decay != 0
        v <- rho * v + (1 - rho) * g^2
        dx = sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho * u + (1 - rho) * dx^2
        p <- p - lr * dx

    State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *,
                 maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        self._check_range(group, "lr", where=where)
        self._check_range(group, "rho", 0.0, 1.0, where=where)
        self._check_range(group, "eps", where=where)
        self._check_range(group, "weight_decay", where=where)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group[
                "weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = self._grad(p, group["maximize"])
                state = self.state[p]
                if not state:
                    state["step"] = tensor(0.0)
                    state["square_avg"] = zeros_like(p)
                    state["acc_delta"] = zeros_like(p)
                state["step"].add_(1)
                if wd != 0:
                    g = g.add(p, alpha=wd)
                v, u = state["square_avg"], state["acc_delta"]
                v.mul_(rho).addcmul_(g, g, value=1 - rho)
                dx = u.add(eps).sqrt_().div_(v.add(eps).sqrt_()).mul_(g)
                u.mul_(rho).addcmul_(dx, dx, value=1 - rho)
                p.add_(dx, alpha=-lr)
        return loss
