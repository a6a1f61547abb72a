"""Variational objective and predictive distributions.

``elbo(model, loss, n_data)`` is the *negative* evidence lower bound per data
point, the quantity to minimise: the mean negative log-likelihood ``loss`` of
a mini-batch plus ``KL(q || prior) / n_data``.  ``predict`` averages
``samples`` stochastic forward passes -- of Bayesian layers, of a network
with dropout kept on (MC dropout), or of the members of an :class:`Ensemble`.
"""
import chainrule as cr
from chainrule.errors import ArgumentError
from chainrule.nn import Module, ModuleList
from chainrule.nn.dropout import _DropoutNd

from .layers import _BayesLayer


def kl_divergence(model, mc=None):
    """Sum of ``kl()`` over the Bayesian layers of ``model`` (0 if none)."""
    total = 0.0
    for m in model.modules():
        if isinstance(m, _BayesLayer):
            total = total + m.kl(mc)
    return total


def elbo(model, loss, n_data):
    """Negative ELBO per example: ``loss + KL / n_data`` (minimise it)."""
    if not n_data > 0:
        raise ArgumentError(f"elbo: n_data must be positive, got {n_data!r}")
    return loss + kl_divergence(model) / n_data


class Ensemble(Module):
    """Independently trained members; ``forward`` averages their outputs and
    ``predict`` treats each member as one sample (a deep ensemble)."""

    def __init__(self, members):
        super().__init__()
        members = list(members)
        if not members:
            raise ArgumentError("Ensemble: needs at least one member")
        self.members = ModuleList(members)

    def forward(self, x):
        return cr.stack([m(x) for m in self.members]).mean(0)


def _passes(model, x, samples, dropout):
    if isinstance(model, Ensemble):
        return [m(x) for m in model.members]
    if samples < 1:
        raise ArgumentError(f"predict: samples must be >= 1, got {samples!r}")
    drops = [m for m in model.modules() if isinstance(m, _DropoutNd)]
    if dropout is None:
        dropout = bool(drops) and not any(isinstance(m, _BayesLayer)
                                          for m in model.modules())
    was = [m.training for m in drops]
    try:
        if dropout:
            for m in drops:
                m.train()  # MC dropout: keep dropping at prediction
        return [model(x) for _ in range(samples)]
    finally:
        for m, t in zip(drops, was):
            m.train(t)


def predict(model, x, samples=32, task="classification", dropout=None):
    """Monte Carlo predictive distribution at ``x``.

    ``task='classification'``: the mean of the softmax of the outputs (N, C).
    ``task='regression'``: ``(mean, std)`` of the outputs, (N, ...) each.
    ``dropout``: keep dropout on (default: when the model has dropout and no
    Bayesian layers).  The model's own train/eval mode is otherwise untouched,
    so call ``model.eval()`` first for batch norm.
    """
    if task not in ("classification", "regression"):
        raise ArgumentError(f"predict: task must be 'classification' or "
                            f"'regression', got {task!r}")
    with cr.no_grad():
        outs = cr.stack(_passes(model, x, samples, dropout))
        if task == "classification":
            p = cr.exp(outs - cr.logsumexp(outs, -1, keepdim=True))
            return p.mean(0)
        return outs.mean(0), outs.std(0, correction=0)
