"""RMSprop: divide the gradient by a running root-mean-square."""
from ..autograd.grad_mode import no_grad
from ..ops import tensor, zeros_like
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum.

    Algorithm, per parameter ``p`` with gradient ``g``; ``v = gbar = b = 0``::

        g <- -g                               if maximize
        g <- g + weight_decay * p             if weight_decay != 0
        v <- alpha * v + (1 - alpha) * g^2
        if centered:
            gbar <- alpha * gbar + (1 - alpha) * g
            s = sqrt(v - gbar^2) + eps
        else:
            s = sqrt(v) + eps
        if momentum > 0:
            b <- momentum * b + g / s;  p <- p - lr * b
        else:
            p <- p - lr * g / s

    State per parameter: ``step``, ``square_avg`` (v), and ``grad_avg`` (gbar,
    when centered) and ``momentum_buffer`` (b, when momentum > 0).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
                 momentum=0, centered=False, maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        self._check_range(group, "lr", where=where)
        self._check_range(group, "alpha", where=where)
        self._check_range(group, "eps", where=where)
        self._check_range(group, "weight_decay", where=where)
        self._check_range(group, "momentum", where=where)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            wd, momentum = group["weight_decay"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = self._grad(p, group["maximize"])
                state = self.state[p]
                if not state:
                    state["step"] = tensor(0.0)
                    state["square_avg"] = zeros_like(p)
                state["step"].add_(1)
                # Buffers appear when their option is first used, so options
                # switched on between steps (or by a scheduler) also work.
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = zeros_like(p)
                if group["centered"] and "grad_avg" not in state:
                    state["grad_avg"] = zeros_like(p)
                if wd != 0:
                    g = g.add(p, alpha=wd)
                v = state["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)
                if group["centered"]:
                    gbar = state["grad_avg"].lerp_(g, 1 - alpha)
                    s = v.addcmul(gbar, gbar, value=-1).sqrt_().add_(eps)
                else:
                    s = v.sqrt().add_(eps)
                if momentum > 0:
                    buf = state["momentum_buffer"].mul_(momentum).addcdiv_(g, s)
                    p.add_(buf, alpha=-lr)
                else:
                    p.addcdiv_(g, s, value=-lr)
        return loss
