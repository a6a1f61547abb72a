"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""
from ..autograd.grad_mode import no_grad
from .._dtype import float64
from ..ops import full_like, tensor
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad, with learning-rate decay and an initial accumulator value.

    Algorithm, per parameter ``p`` with gradient ``g``;
    ``S = initial_accumulator_value``::

        t <- t + 1
        g <- -g                                  if maximize
        g <- g + weight_decay * p                if weight_decay != 0
        lr_t = lr / (1 + (t - 1) * lr_decay)
        S <- S + g^2
        p <- p - lr_t * g / (sqrt(S) + eps)

    State per parameter: ``step`` and ``sum`` (S).  A parameter group's own
    ``initial_accumulator_value`` is honoured (PyTorch uses the constructor's
    value for every group given at construction).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        self._check_range(group, "lr", where=where)
        self._check_range(group, "lr_decay", where=where)
        self._check_range(group, "weight_decay", where=where)
        self._check_range(group, "initial_accumulator_value", where=where)
        self._check_range(group, "eps", where=where)

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay = group["lr"], group["lr_decay"]
            eps, wd = group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = self._grad(p, group["maximize"])
                state = self.state[p]
                if not state:
                    state["step"] = tensor(0.0)
                    state["sum"] = full_like(p, group["initial_accumulator_value"])
                # The step-dependent rate stays a 0-d tensor (float64, as a
                # Python number would be): the step reads no host value.
                t = state["step"].add_(1).to(float64)
                if wd != 0:
                    g = g.add(p, alpha=wd)
                clr = lr / ((t - 1) * lr_decay + 1)
                s = state["sum"].addcmul_(g, g, value=1)
                p.sub_(g.div(s.sqrt().add_(eps)).mul_(clr))
        return loss
