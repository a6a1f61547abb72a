"""A strong-Wolfe line search, shared by :class:`LBFGS` and :class:`CG`.

``strong_wolfe(phi, t, f0, g0, gtd0, ...)`` looks along a fixed direction
``d`` for a step ``t`` with

    f(x + t d) <= f(x) + c1 t g(x).d          (sufficient decrease)
    |g(x + t d).d| <= c2 |g(x).d|             (curvature)

following Nocedal & Wright, *Numerical Optimization*, algorithms 3.5 and
3.6: first bracket an interval that must contain such a step, then shrink
it with safeguarded cubic interpolation.  ``phi(t)`` evaluates the
objective at ``x + t d`` and returns ``(loss, flat_grad)``; scalars are
Python floats, gradients flat tensors.
"""
import math


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, f1') and (x2, f2, f2'), clipped.

    ``bounds`` defaults to the interval between the points; when the cubic
    has no minimiser the midpoint of the bounds is returned.
    """
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    try:
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        disc = d1 * d1 - g1 * g2
        if not disc >= 0:  # no real minimiser (or a NaN): bisect
            return (lo + hi) / 2.0
        d2 = math.sqrt(disc)
        if x1 <= x2:
            t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            t = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    except (ZeroDivisionError, OverflowError):
        return (lo + hi) / 2.0
    if math.isnan(t):
        return (lo + hi) / 2.0
    return min(max(t, lo), hi)


def strong_wolfe(phi, d, t, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """Find a step along ``d`` satisfying the strong Wolfe conditions.

    ``t``: first trial step; ``f``, ``g``, ``gtd``: loss, flat gradient and
    directional derivative ``g.d`` at ``t = 0``; ``max_ls``: the most
    evaluations of ``phi`` to spend.  Returns ``(f_new, g_new, t, n_evals)``
    for the best step found.
    """
    d_norm = d.abs().max().item()
    f_new, g_new = phi(t)
    n_evals = 1
    gtd_new = g_new.dot(d).item()
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    it = 0
    # Phase 1: grow the step until an interval [lo, hi] brackets a Wolfe point.
    while it < max_ls:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [
                gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            br, br_f, br_g, br_gtd = [t], [f_new], [g_new], [gtd_new]
            done = True
            break
        if gtd_new >= 0:
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [
                gtd_prev, gtd_new]
            break
        # Extrapolate: somewhere between a little and ten times further.
        lo_step, hi_step = t + 0.01 * (t - t_prev), t * 10
        t_next = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                   bounds=(lo_step, hi_step))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = phi(t)
        n_evals += 1
        gtd_new = g_new.dot(d).item()
        it += 1
    if it == max_ls:  # ran out of evaluations while extrapolating
        br, br_f, br_g, br_gtd = [0.0, t], [f, f_new], [g, g_new], [gtd, gtd_new]

    # Phase 2 ("zoom"): shrink the bracket; `low` indexes its better end.
    insufficient = False
    low, high = (0, 1) if br_f[0] <= br_f[-1] else (1, 0)
    while not done and it < max_ls:
        if abs(br[1] - br[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1])
        # Keep the trial away from the ends unless progress there was real.
        lo_b, hi_b = min(br), max(br)
        margin = 0.1 * (hi_b - lo_b)
        if min(hi_b - t, t - lo_b) < margin:
            if insufficient or t >= hi_b or t <= lo_b:
                t = hi_b - margin if abs(t - hi_b) < abs(t - lo_b) else lo_b + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = phi(t)
        n_evals += 1
        gtd_new = g_new.dot(d).item()
        it += 1
        if f_new > f + c1 * t * gtd or f_new >= br_f[low]:
            br[high], br_f[high], br_g[high], br_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if br_f[0] <= br_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (br[high] - br[low]) >= 0:
                br[high], br_f[high], br_g[high], br_gtd[high] = (
                    br[low], br_f[low], br_g[low], br_gtd[low])
            br[low], br_f[low], br_g[low], br_gtd[low] = t, f_new, g_new, gtd_new
    return br_f[low], br_g[low], br[low], n_evals
