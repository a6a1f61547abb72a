"""Fused optimizer updates: one primitive call per parameter and step.

An optimizer step written with generic in-place ops makes a dozen passes
over each parameter's arrays and as many dispatches; these kernels update
the parameter and its moment buffers in place with NumPy's ``out=`` in a
few passes.  They are primitives (``mutates=...``), so the dispatcher still
sees every update and bumps the version counters.  Each kernel is checked
against the optimizer's step written with ordinary ops in the tests.
"""
import math

import numpy as np

from . import _abstract
from ._core import apply, primitive


def _adam_fwd(p, g, m, v, count, *vmax, lr, beta1, beta2, eps, weight_decay,
              decoupled, maximize):
    count += 1
    step = float(count)
    if maximize:
        g = -g
    if weight_decay:
        if decoupled:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
    # m <- m + (1 - beta1) (g - m);  v <- beta2 v + (1 - beta2) g^2
    # (an explicit buffer: on 0-d arrays NumPy returns a scalar, not an array)
    tmp = np.subtract(g, m, out=np.empty_like(m))
    tmp *= 1 - beta1
    m += tmp
    np.multiply(g, g, out=tmp)
    tmp *= 1 - beta2
    v *= beta2
    v += tmp
    if vmax:
        np.maximum(vmax[0], v, out=vmax[0])
        v = vmax[0]
    np.sqrt(v, out=tmp)
    tmp *= 1.0 / math.sqrt(1 - beta2 ** step)
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= -lr / (1 - beta1 ** step)
    p += tmp
    return p


adam_step_p = primitive(
    "adam_step", _adam_fwd, mutates=(0, 2, 3, 4, 5), quiet=True, kind="optimizer",
    abstract=_abstract.first_aval,  # the updated parameter, in place
    params=("lr", "beta1", "beta2", "eps", "weight_decay", "decoupled", "maximize"))


def adam_step(param, grad, exp_avg, exp_avg_sq, step, max_exp_avg_sq=None, *, lr,
              beta1, beta2, eps, weight_decay, decoupled, maximize):
    """One Adam step, in place: increments the 0-d ``step`` counter, then
    updates ``param``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq`` for
    AMSGrad).  ``grad`` is only read."""
    extra = () if max_exp_avg_sq is None else (max_exp_avg_sq,)
    apply(adam_step_p, param, grad, exp_avg, exp_avg_sq, step, *extra, lr=lr,
          beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
          decoupled=decoupled, maximize=maximize)
    return param
