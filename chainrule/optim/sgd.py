"""Stochastic gradient descent with momentum, Nesterov and weight decay."""
from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError
from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum).

    Algorithm, per parameter ``p`` with gradient ``g`` at step ``t``::

        g <- -g                      if maximize
        g <- g + weight_decay * p    if weight_decay != 0
        if momentum != 0:
            b <- g                                   at t = 1
            b <- momentum * b + (1 - dampening) * g  afterwards
            g <- g + momentum * b    if nesterov else b
        p <- p - lr * g

    Example::

        opt = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        self._check_range(group, "lr", where=where)
        self._check_range(group, "momentum", where=where)
        self._check_range(group, "dampening", where=where)
        self._check_range(group, "weight_decay", where=where)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ArgumentError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0{where}; got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            dampening, wd = group["dampening"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = self._grad(p, group["maximize"])
                if wd != 0:
                    g = g.add(p, alpha=wd)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = g.clone()
                    else:
                        buf.mul_(momentum).add_(g, alpha=1 - dampening)
                    g = g.add(buf, alpha=momentum) if group["nesterov"] else buf
                p.add_(g, alpha=-lr)
        return loss
