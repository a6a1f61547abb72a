"""Differentiating through an optimizer: hypergradients of a learning rate.

``unroll`` runs ``k`` SGD steps as ordinary tensor arithmetic,
``theta_{t+1} = theta_t - lr * g_t`` with ``g_t`` taken with
``create_graph=True``, so a loss after the ``k`` steps can be differentiated
with respect to ``lr`` (and the initial parameters).  The ``chainrule.optim``
optimizers update parameters in place without recording a graph (as
PyTorch's do), so they cannot be unrolled this way; ``unroll`` says so.
"""
import math

from ..autograd import grad
from ..errors import ArgumentError
from ..func import functional_call

DIFFERENTIABLE = ("sgd", "momentum")


def _check_optimizer(optimizer):
    if isinstance(optimizer, str) and optimizer in DIFFERENTIABLE:
        return optimizer
    if hasattr(optimizer, "step") and hasattr(optimizer, "param_groups"):
        raise ArgumentError(
            f"unroll: {type(optimizer).__name__} updates parameters in place under "
            f"no_grad, so its steps record no graph and cannot be differentiated "
            f"through; use optimizer='sgd' or 'momentum' (functional updates "
            f"written with tensor ops)")
    raise ArgumentError(f"unroll: optimizer must be one of {DIFFERENTIABLE}, got "
                        f"{optimizer!r}")


def unroll(model, params, loss, batches, lr, *, optimizer="sgd", momentum=0.9):
    """``k = len(batches)`` differentiable optimizer steps from ``params``.

    ``params``: dict name -> Tensor (e.g. ``dict(model.named_parameters())``);
    ``loss(outputs, targets)``; ``batches``: a list of ``(x, y)``; ``lr``: a
    float or a 0-d Tensor that requires grad (the hyper-parameter).
    Returns the parameters after the steps, connected to ``lr`` and
    ``params`` by the graph.
    """
    _check_optimizer(optimizer)
    if not batches:
        raise ArgumentError("unroll: batches is empty (k must be >= 1)")
    params = dict(params)
    names = [k for k, p in params.items() if p.requires_grad]
    if not names:
        raise ArgumentError("unroll: no parameter requires grad")
    velocity = {k: None for k in names}
    for x, y in batches:
        value = loss(functional_call(model, params, (x,)), y)
        grads = grad(value, [params[k] for k in names], create_graph=True)
        for k, g in zip(names, grads):
            if optimizer == "momentum":
                velocity[k] = g if velocity[k] is None else momentum * velocity[k] + g
                g = velocity[k]
            params[k] = params[k] - lr * g
    return params


class HypergradientLR:
    """Learn the learning rate: every ``step`` unrolls ``k`` SGD steps on
    training batches from the current weights, measures the loss on a
    validation batch, and moves ``log(lr)`` along the hypergradient
    (``hyper_lr``, sign-SGD-normalised for scale-free steps).  The
    weights then take the unrolled steps (detached), so training proceeds.

    ``lr`` is the current rate; ``history`` lists ``(lr, val_loss)``.
    """

    def __init__(self, model, loss, lr=1e-3, hyper_lr=0.1, optimizer="sgd"):
        _check_optimizer(optimizer)
        if not lr > 0:
            raise ArgumentError(f"HypergradientLR: lr must be > 0, got {lr!r}")
        from .. import ops

        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.log_lr = ops.tensor(math.log(lr), dtype=_dtype(model), requires_grad=True)
        self.hyper_lr = hyper_lr
        self.history = []

    @property
    def lr(self):
        return math.exp(self.log_lr.item())

    def step(self, train_batches, val_batch):
        """One hyper-step over ``k = len(train_batches)`` unrolled steps."""
        from ..autograd import no_grad

        params = dict(self.model.named_parameters())
        new = unroll(self.model, params, self.loss, train_batches, self.log_lr.exp(),
                     optimizer=self.optimizer)
        x, y = val_batch
        val = self.loss(functional_call(self.model, new, (x,)), y)
        (g,) = grad(val, [self.log_lr])
        with no_grad():
            if g.item() != 0:
                self.log_lr.sub_(self.hyper_lr * g.sign())
            for k, p in params.items():
                if k in new:
                    p.copy_(new[k].detach())
        self.history.append((self.lr, val.item()))
        return val.item()


def _dtype(model):
    for p in model.parameters():
        return p.dtype
    raise ArgumentError("HypergradientLR: the model has no parameters")


__all__ = ["HypergradientLR", "unroll"]
