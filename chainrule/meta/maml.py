"""Model-agnostic meta-learning (Finn, Abbeel & Levine, 2017).

The inner loop adapts a copy of the parameters to one task with a few
gradient steps, ``theta' = theta - alpha * grad L_support(theta)``; the outer
loop updates ``theta`` to lower the *query* loss after adaptation.  The
adapted parameters are plain tensors passed to the model with
``chainrule.func.functional_call``, so the model itself never changes in the
inner loop.  With ``first_order=False`` the inner gradients are taken with
``create_graph=True`` and the meta-gradient flows through them (the
second-order term, a Hessian-vector product); first-order MAML treats them as
constants.
"""
from ..autograd import grad
from ..errors import ArgumentError
from ..func import functional_call


class MAML:
    """Wrap ``model`` for meta-learning.

    ``loss(outputs, targets) -> scalar``; ``inner_lr`` (alpha) and
    ``inner_steps`` for adaptation; ``first_order`` drops the second-order
    term.  The outer optimizer is an ordinary one over ``model.parameters()``.
    """

    def __init__(self, model, loss, inner_lr=0.01, inner_steps=1, first_order=False):
        if not inner_lr > 0:
            raise ArgumentError(f"MAML: inner_lr must be > 0, got {inner_lr!r}")
        if not isinstance(inner_steps, int) or inner_steps < 1:
            raise ArgumentError(f"MAML: inner_steps must be an int >= 1, got "
                                f"{inner_steps!r}")
        self.model, self.loss = model, loss
        self.inner_lr, self.inner_steps = inner_lr, inner_steps
        self.first_order = first_order

    def params(self):
        return dict(self.model.named_parameters())

    def forward(self, params, x):
        """The model's output on ``x`` with ``params`` in place of its own."""
        return functional_call(self.model, params, (x,))

    def adapt(self, x, y, params=None, steps=None, lr=None, create_graph=None):
        """Parameters after ``steps`` gradient steps on the support set
        ``(x, y)`` (a dict name -> Tensor).  ``create_graph`` defaults to
        second order (``not first_order``); pass False at test time."""
        params = self.params() if params is None else dict(params)
        lr = self.inner_lr if lr is None else lr
        if create_graph is None:
            create_graph = not self.first_order
        for _ in range(self.inner_steps if steps is None else steps):
            loss = self.loss(self.forward(params, x), y)
            names = [k for k, p in params.items() if p.requires_grad]
            grads = grad(loss, [params[k] for k in names], create_graph=create_graph)
            for k, g in zip(names, grads):
                params[k] = params[k] - lr * g
        return params

    def expand(self, n):
        """The parameters repeated along a new leading task dimension of size
        ``n`` (for a model whose forward broadcasts over it: a whole meta-batch
        adapts in one call, each task its own copy, gradients summed back)."""
        return {k: p.expand(n, *p.shape) for k, p in self.params().items()}

    def meta_loss(self, tasks, params=None):
        """Mean query loss after adaptation over ``tasks``: a list of
        ``(x_support, y_support, x_query, y_query)``; backward() gives the
        meta-gradient in ``model``'s ``.grad``.  ``params``: the starting
        parameters (default the model's; e.g. :meth:`expand` for task-batched
        tensors, with a loss that sums over tasks)."""
        if not tasks:
            raise ArgumentError("MAML.meta_loss: tasks is empty")
        total = 0.0
        for xs, ys, xq, yq in tasks:
            adapted = self.adapt(xs, ys, params)
            total = total + self.loss(self.forward(adapted, xq), yq)
        return total / len(tasks)
