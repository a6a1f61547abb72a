"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""
from ..autograd.grad_mode import no_grad
from .._dtype import float64
from ..ops import tensor, zeros_like
from .optimizer import Optimizer


class NAdam(Optimizer):
    """NAdam (Dozat, 2016), optionally with decoupled weight decay.

    Algorithm, per parameter ``p`` with gradient ``g``; ``m = v = 0``,
    ``mu_prod = 1``, ``psi = momentum_decay``::

        t <- t + 1
        g <- -g                                   if maximize
        if weight_decay != 0:
            p <- p * (1 - lr * weight_decay)      if decoupled_weight_decay
            g <- g + weight_decay * p             otherwise
        mu      = beta1 * (1 - 0.5 * 0.96^(t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96^((t + 1) * psi))
        mu_prod <- mu_prod * mu
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p <- p - lr * (1 - mu) / (1 - mu_prod) * g / d
               - lr * mu_next / (1 - mu_prod * mu_next) * m / d

    State per parameter: ``step``, ``mu_product`` (0-d tensors), ``exp_avg``,
    ``exp_avg_sq``.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *,
                 maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        self._check_range(group, "lr", where=where)
        self._check_range(group, "eps", where=where)
        self._check_betas(group, where)
        self._check_range(group, "weight_decay", where=where)
        self._check_range(group, "momentum_decay", where=where)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2) = group["lr"], group["betas"]
            eps, wd, psi = group["eps"], group["weight_decay"], group["momentum_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = self._grad(p, group["maximize"])
                state = self.state[p]
                if not state:
                    state["step"] = tensor(0.0)
                    state["mu_product"] = tensor(1.0)
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                # Step-dependent scalars are 0-d float64 tensors (as Python
                # numbers would be), so the step reads no host value.
                t = state["step"].add_(1).to(float64)
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        p.mul_(1 - lr * wd)
                    else:
                        g = g.add(p, alpha=wd)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
                # The product is kept as a tensor in the parameter's scalar dtype
                # so that resuming from a state dict continues it exactly.
                mu_prod = state["mu_product"].mul_(mu).to(float64)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.lerp_(g, 1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = v.div(1 - beta2 ** t).sqrt().add_(eps)
                p.sub_(g.div(denom).mul_(lr * (1.0 - mu) / (1.0 - mu_prod)))
                p.sub_(m.div(denom).mul_(lr * mu_next / (1.0 - mu_prod * mu_next)))
        return loss
