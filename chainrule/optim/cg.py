"""Nonlinear conjugate gradients (Polak-Ribiere+), driven by a closure."""
import math

from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError
from ._closure import FlatClosureOptimizer
from ._line_search import strong_wolfe


class CG(FlatClosureOptimizer):
    """Nonlinear conjugate gradients: Polak-Ribiere+ with restarts.

    Used like :class:`LBFGS`: ``step(closure)`` runs up to ``max_iter``
    iterations, and the closure zeroes the gradients, computes the loss,
    calls ``backward()`` and returns it.  All parameters form one vector
    ``x``; only one parameter group is allowed.  Needs only two vectors of
    memory besides the parameters (L-BFGS needs ``2 * history_size``).

    Algorithm (one iteration, gradient ``g`` at ``x``)::

        if first iteration, or every `restart` iterations:  d = -g
        else:
            beta = max(0, g.(g - g_prev) / g_prev.g_prev)       (PR+)
            d = -g + beta * d
            if g.d >= 0: d = -g          (not a descent direction: restart)
        t0 = min(1, 1 / sum|g|) * lr              on the first iteration
        t0 = t_prev * (g_prev.d_prev) / (g.d)     afterwards (Nocedal & Wright 3.60)
        t  = strong-Wolfe line search from t0, with constants c1, c2
        x <- x + t d
        stop when max|g| <= tolerance_grad, max|t d| <= tolerance_change,
        |loss change| < tolerance_change, or the iteration/evaluation budget
        (max_iter, max_eval) is spent

    ``max_eval`` (closure evaluations per ``step``) defaults to
    ``10 * max_iter``; each line search uses at most 25 of them.
    ``restart`` defaults to the number of parameter elements (classical CG
    restarts after n steps); ``c2=0.1`` is the usual curvature constant for
    CG (a looser one lets directions lose conjugacy).

    Example: the Rosenbrock function from (-1.5, 2)

    >>> import chainrule as cr
    >>> x = cr.tensor([-1.5, 2.0], dtype=cr.float64, requires_grad=True)
    >>> opt = cr.optim.CG([x], max_iter=100)
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> [round(v, 4) for v in x.tolist()]
    [1.0, 1.0]
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, restart=None, c1=1e-4, c2=0.1):
        if max_eval is None and isinstance(max_iter, int):
            max_eval = max_iter * 10
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, restart=restart, c1=c1,
                        c2=c2)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        self._check_range(group, "lr", 0.0, lo_open=True, where=where)
        self._check_int(group, "max_iter", 1, where)
        self._check_int(group, "max_eval", 1, where)
        self._check_range(group, "tolerance_grad", where=where)
        self._check_range(group, "tolerance_change", where=where)
        if group["restart"] is not None:
            self._check_int(group, "restart", 1, where)
        self._check_range(group, "c1", 0.0, 1.0, lo_open=True, hi_open=True,
                          where=where)
        self._check_range(group, "c2", 0.0, 1.0, lo_open=True, hi_open=True,
                          where=where)
        if not group["c1"] < group["c2"]:
            raise ArgumentError(f"CG: the line-search constants need 0 < c1 < c2 < 1"
                                f"{where}; got c1={group['c1']!r}, "
                                f"c2={group['c2']!r}")

    @no_grad()
    def step(self, closure=None):
        """Run up to ``max_iter`` iterations; returns the loss at the start."""
        self._require_closure(closure)
        group = self.param_groups[0]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        restart = group["restart"] or self._numel()
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._gather_flat_grad()
        if g.abs().max().item() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        prev_g, prev_gtd = state.get("prev_flat_grad"), state.get("prev_gtd")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            fresh = d is None or (state["n_iter"] - 1) % restart == 0
            if not fresh:
                beta = max(0.0, g.dot(g.sub(prev_g)).item() / prev_g.dot(prev_g).item())
                d = d.mul(beta).sub_(g)
                fresh = g.dot(d).item() >= 0
            if fresh:
                d = g.neg()
            gtd = g.dot(d).item()
            if gtd > -tol_change:  # no descent left along any direction we try
                break
            if t is not None and prev_gtd is not None:
                t = t * prev_gtd / gtd
            if t is None or not 0 < t < math.inf:  # first iteration, or a failed one
                t = min(1.0, 1.0 / g.abs().sum().item()) * group["lr"]
            prev_g, prev_gtd, prev_loss = g, gtd, loss
            x0 = self._clone_param()
            loss, g, t, n_ls = strong_wolfe(
                lambda step: self._directional_evaluate(closure, x0, step, d),
                d, t, loss, g, gtd, c1=group["c1"], c2=group["c2"],
                tolerance_change=tol_change, max_ls=max(1, min(25, max_eval - evals)))
            self._add_grad(t, d)
            evals += n_ls
            state["func_evals"] += n_ls
            if n_iter == max_iter or evals >= max_eval:
                break
            if g.abs().max().item() <= tol_grad:
                break
            if d.mul(t).abs().max().item() <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break

        state.update(d=d, t=t, prev_flat_grad=prev_g, prev_gtd=prev_gtd)
        return orig_loss
