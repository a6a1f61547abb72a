"""L-BFGS: a limited-memory quasi-Newton method driven by a closure."""
from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError
from ._closure import FlatClosureOptimizer
from ._line_search import strong_wolfe


class LBFGS(FlatClosureOptimizer):
    """Limited-memory BFGS, optionally with a strong-Wolfe line search.

    ``step(closure)`` runs up to ``max_iter`` iterations, each with its own
    closure evaluations; the closure must zero the gradients, compute the
    loss, call ``backward()`` and return the loss.  All parameters form one
    vector ``x``; only one parameter group is allowed.

    Algorithm (one iteration, gradient ``g`` at ``x``)::

        if first iteration: d = -g;  H0 = 1
        else:
            s = x - x_prev;  y = g - g_prev
            if y.s > 1e-10: store (s, y), keep the last history_size pairs;
                            H0 = y.s / y.y
            d = -H g  via the two-loop recursion over the stored pairs,
                      with H0 scaling the initial inverse Hessian
        t = min(1, 1 / sum|g|) * lr  on the very first iteration, else lr
        stop if g.d > -tolerance_change
        with line_search_fn='strong_wolfe': t from the line search
        x <- x + t d  (then re-evaluate loss and g)
        stop when max|g| <= tolerance_grad, max|t d| <= tolerance_change,
        |loss change| < tolerance_change, or the iteration/evaluation budget
        (max_iter, max_eval) is spent

    Example::

        opt = chainrule.optim.LBFGS([x], line_search_fn="strong_wolfe")
        def closure():
            opt.zero_grad(); loss = f(x); loss.backward(); return loss
        opt.step(closure)
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None and isinstance(max_iter, int):
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def _check_group(self, group, where):
        self._check_range(group, "lr", where=where)
        self._check_int(group, "max_iter", 1, where)
        self._check_int(group, "max_eval", 1, where)
        self._check_range(group, "tolerance_grad", where=where)
        self._check_range(group, "tolerance_change", where=where)
        self._check_int(group, "history_size", 1, where)
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ArgumentError(f"LBFGS: invalid line_search_fn{where}: got "
                                f"{group['line_search_fn']!r}; it must be None or "
                                "'strong_wolfe'")

    @no_grad()
    def step(self, closure=None):
        """Run up to ``max_iter`` iterations; returns the loss at the start."""
        self._require_closure(closure)
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
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

        # Carried over from the previous call to step().
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps = state.get("old_dirs"), state.get("old_stps")
        ro, H_diag = state.get("ro"), state.get("H_diag")
        prev_g, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = g.neg()
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1.0
            else:
                y = g.sub(prev_g)
                s = d.mul(t)
                ys = y.dot(s).item()
                if ys > 1e-10:  # keep the pair only if the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y).item()
                d = self._two_loop(g, old_dirs, old_stps, ro, H_diag)
            prev_g = g.clone()
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / g.abs().sum().item()) * lr
            else:
                t = lr
            gtd = g.dot(d).item()
            if gtd > -tol_change:  # not a descent direction any more
                break

            if group["line_search_fn"] is not None:
                x0 = self._clone_param()
                loss, g, t, n_ls = strong_wolfe(
                    lambda step: self._directional_evaluate(closure, x0, step, d),
                    d, t, loss, g, gtd, tolerance_change=tol_change,
                    max_ls=max_eval - evals)
                self._add_grad(t, d)
                opt_cond = g.abs().max().item() <= tol_grad
            else:
                self._add_grad(t, d)
                n_ls = 0
                opt_cond = False
                if n_iter != max_iter:  # the last iteration's gradient is not needed
                    loss = float(self._evaluate(closure))
                    g = self._gather_flat_grad()
                    opt_cond = g.abs().max().item() <= tol_grad
                    n_ls = 1
            evals += n_ls
            state["func_evals"] += n_ls

            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if d.mul(t).abs().max().item() <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro,
                     H_diag=H_diag, prev_flat_grad=prev_g, prev_loss=prev_loss)
        return orig_loss

    @staticmethod
    def _two_loop(g, old_dirs, old_stps, ro, H_diag):
        """``-H g`` for the L-BFGS inverse-Hessian estimate H (Nocedal & Wright 7.4)."""
        q = g.neg()
        al = [0.0] * len(old_dirs)
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q).item() * ro[i]
            q.add_(old_dirs[i], alpha=-al[i])
        r = q.mul(H_diag)
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r).item() * ro[i]
            r.add_(old_stps[i], alpha=al[i] - be_i)
        return r
