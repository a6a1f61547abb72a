"""Checking derivatives against central finite differences.

``gradcheck`` builds, for every differentiable input and every floating
output, the full Jacobian twice: numerically, one input element at a time
with ``(f(x + eps e_j) - f(x - eps e_j)) / (2 eps)``, and analytically, one
output element at a time with a vjp (backward mode) or one input element at
a time with a jvp (forward mode).  ``gradgradcheck`` applies the same check
to the function that computes the gradient, which tests second derivatives.
Use float64 inputs: in float32 the differences are mostly rounding noise.
"""
import warnings

import numpy as np

from ..errors import AutogradError, ShapeError, fmt_shape
from ..tensor import Tensor
from .grad_mode import enable_grad, no_grad


class GradcheckError(AutogradError):
    """Analytic and numeric derivatives disagree (a RuntimeError too)."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    outs = _as_tuple(func(*inputs))
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise ShapeError(f"gradcheck: output {i} of the function is a "
                             f"{type(o).__name__}; it must return Tensors")
    return outs


def _float_outputs(outs):
    return [i for i, o in enumerate(outs) if o._data.dtype.kind == "f"]


def _perturbed(inputs, k, j, delta):
    """A copy of ``inputs`` where element ``j`` of input ``k`` moved by delta."""
    x = inputs[k]
    flat = x.detach().reshape(-1).clone()
    flat[j] = flat[j] + delta  # x is a fresh copy: an in-place write is safe
    new = list(inputs)
    new[k] = flat.reshape(x.shape).requires_grad_(x.requires_grad)
    return new


def _numeric(func, inputs, diff, outs_idx, eps):
    """{(out, in): (numel_out, numel_in) array} by central differences."""
    base = _outputs(func, inputs)
    jac = {(i, k): np.zeros((base[i]._data.size, inputs[k]._data.size))
           for i in outs_idx for k in diff}
    for k in diff:
        for j in range(inputs[k]._data.size):
            with no_grad():  # values only (gradgradcheck's func enables it inside)
                plus = _outputs(func, _perturbed(inputs, k, j, eps))
                minus = _outputs(func, _perturbed(inputs, k, j, -eps))
            for i in outs_idx:
                d = (plus[i].detach().numpy().astype(np.float64)
                     - minus[i].detach().numpy().astype(np.float64))
                jac[i, k][:, j] = d.reshape(-1) / (2 * eps)
    return jac


def _analytic_backward(func, inputs, diff, outs_idx):
    from .engine import grad as _grad

    with enable_grad():
        outs = _outputs(func, inputs)
    jac = {}
    for i in outs_idx:
        o = outs[i]
        for k in diff:
            jac[i, k] = np.zeros((o._data.size, inputs[k]._data.size))
        if not o.requires_grad:
            continue
        for r in range(o._data.size):
            go = np.zeros(o._data.size, o._data.dtype)
            go[r] = 1
            gs = _grad(o, [inputs[k] for k in diff],
                       Tensor._make(go.reshape(o.shape)), retain_graph=True,
                       allow_unused=True)
            for k, g in zip(diff, gs):
                if g is not None:
                    jac[i, k][r] = g.detach().numpy().reshape(-1)
    return jac


def _analytic_forward(func, inputs, diff, outs_idx):
    from . import forward_ad as fwad

    base = _outputs(func, inputs)
    jac = {(i, k): np.zeros((base[i]._data.size, inputs[k]._data.size))
           for i in outs_idx for k in diff}
    for k in diff:
        x = inputs[k]
        for j in range(x._data.size):
            e = np.zeros(x._data.size, x._data.dtype)
            e[j] = 1
            with fwad.dual_level():
                new = list(inputs)
                new[k] = fwad.make_dual(x, Tensor._make(e.reshape(x.shape)))
                outs = _outputs(func, new)
                for i in outs_idx:
                    t = fwad.unpack_dual(outs[i]).tangent
                    if t is not None:
                        jac[i, k][:, j] = t.detach().numpy().reshape(-1)
    return jac


def _report(kind, i, k, out_shape, in_shape, a, n, atol, rtol):
    """The failure message: worst entries first, then both Jacobians if small."""
    diff = np.abs(a - n)
    bad = diff > atol + rtol * np.abs(n)
    order = np.argsort(-np.where(np.isnan(diff), np.inf, diff), axis=None)
    lines = [
        f"Jacobian mismatch for output {i} with respect to input {k} ({kind} mode)",
        f"{int(bad.sum())} of {bad.size} entries differ by more than "
        f"atol + rtol * |numeric| (atol={atol:g}, rtol={rtol:g}); output shape "
        f"{fmt_shape(out_shape)}, input shape {fmt_shape(in_shape)}",
        "largest differences:",
        f"  {'output index':<16}{'input index':<16}{'analytic':>14}{'numeric':>14}"
        f"{'difference':>14}",
    ]
    for flat in order[:8]:
        r, c = np.unravel_index(flat, diff.shape)
        if not bad[r, c]:
            break
        oi = np.unravel_index(r, out_shape) if out_shape else ()
        ii = np.unravel_index(c, in_shape) if in_shape else ()
        lines.append(f"  {str(tuple(int(v) for v in oi)):<16}"
                     f"{str(tuple(int(v) for v in ii)):<16}"
                     f"{a[r, c]:>14.6g}{n[r, c]:>14.6g}{diff[r, c]:>14.3g}")
    if a.size <= 100:
        fmt = dict(precision=5, suppress_small=True, max_line_width=88)
        lines += ["analytic (rows: output elements, columns: input elements):",
                  np.array2string(a, **fmt), "numeric:", np.array2string(n, **fmt)]
    return "\n".join(lines)


def _compare(kind, ana, num, outs, inputs, atol, rtol):
    for (i, k), a in ana.items():
        n = num[i, k]
        if not np.allclose(a, n, rtol=rtol, atol=atol):
            return _report(kind, i, k, outs[i].shape, inputs[k].shape, a, n, atol,
                           rtol)
    return None


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False):
    """Check the derivatives of ``func`` at ``inputs`` by finite differences.

    ``inputs``: a Tensor or tuple (non-Tensors are passed through); those with
    ``requires_grad=True`` are checked.  Every analytic Jacobian entry must
    satisfy ``|analytic - numeric| <= atol + rtol * |numeric|``.  Backward mode
    is checked (``check_backward_ad``) and, with ``check_forward_ad``, forward
    mode too; the backward pass must also give the same result twice (within
    ``nondet_tol``).  Returns True; on failure raises :class:`GradcheckError`
    whose message lists the worst entries (or returns False when
    ``raise_exception=False``).  ``fast_mode`` is accepted for compatibility
    and checks the full Jacobians all the same.
    """
    inputs = _as_tuple(inputs)
    diff = [k for k, x in enumerate(inputs)
            if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ShapeError("gradcheck: expected at least one input Tensor with "
                         "requires_grad=True, but none has it")
    for k in diff:
        if inputs[k]._data.dtype != np.float64:
            warnings.warn(f"gradcheck: input {k} requires grad and is "
                          f"{inputs[k].dtype.name}, not float64; the check will "
                          "likely fail from rounding error", UserWarning, stacklevel=2)
    outs = _outputs(func, inputs)
    outs_idx = _float_outputs(outs)
    num = _numeric(func, inputs, diff, outs_idx, eps)
    if check_backward_ad:
        ana = _analytic_backward(func, inputs, diff, outs_idx)
        msg = _compare("backward", ana, num, outs, inputs, atol, rtol)
        if msg:
            return _fail(msg, raise_exception)
        again = _analytic_backward(func, inputs, diff, outs_idx)
        for key, a in ana.items():
            if np.max(np.abs(a - again[key]), initial=0.0) > nondet_tol:
                return _fail(
                    f"Backward is not reentrant: running backward twice with the same "
                    f"inputs and grad_outputs gives different values for output "
                    f"{key[0]} with respect to input {key[1]} (tolerance for "
                    f"nondeterminism: {nondet_tol})", raise_exception)
        if check_grad_dtypes:
            msg = _check_dtypes(func, inputs, diff)
            if msg:
                return _fail(msg, raise_exception)
    if check_forward_ad:
        ana = _analytic_forward(func, inputs, diff, outs_idx)
        msg = _compare("forward", ana, num, outs, inputs, atol, rtol)
        if msg:
            return _fail(msg, raise_exception)
    return True


def _check_dtypes(func, inputs, diff):
    from .engine import grad as _grad

    with enable_grad():
        outs = [o for o in _outputs(func, inputs) if o.requires_grad]
    if not outs:
        return None
    total = sum((o * 1.0).sum() for o in outs)
    gs = _grad(total, [inputs[k] for k in diff], allow_unused=True)
    for k, g in zip(diff, gs):
        if g is not None and (g.dtype != inputs[k].dtype or g.shape != inputs[k].shape):
            return (f"Gradient for input {k} has dtype {g.dtype.name} and shape "
                    f"{fmt_shape(g.shape)}, but the input has dtype "
                    f"{inputs[k].dtype.name} and shape {fmt_shape(inputs[k].shape)}")
    return None


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True,
                  nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False):
    """Check second derivatives: gradcheck of ``x, v -> J(x)^T v``.

    ``grad_outputs`` (one per floating output) default to fixed random
    float64 tensors; they are differentiated too.  ``check_rev_over_rev``
    checks the gradient's gradient by backward mode, ``check_fwd_over_rev``
    by forward mode.
    """
    from .. import ops
    from ..random import Generator
    from .engine import grad as _grad

    inputs = _as_tuple(inputs)
    diff = [k for k, x in enumerate(inputs)
            if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outs = _outputs(func, inputs)
    fidx = [i for i in _float_outputs(outs) if outs[i].requires_grad]
    if grad_outputs is None:
        gen = Generator().manual_seed(0)
        grad_outputs = tuple(
            ops.randn(outs[i].shape, generator=gen, dtype=outs[i].dtype,
                      requires_grad=True) for i in fidx)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(fidx):
        raise ShapeError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for "
                         f"{len(fidx)} differentiable output(s)")
    n_in = len(inputs)

    def grad_func(*args):
        xs, vs = args[:n_in], args[n_in:]
        with enable_grad():
            o = _outputs(func, xs)
            roots = [o[i] for i in fidx]
            gs = _grad(roots, [xs[k] for k in diff], list(vs), create_graph=True,
                       allow_unused=True, materialize_grads=True)
        return tuple(gs)

    return gradcheck(grad_func, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_grad_dtypes=check_grad_dtypes,
                     check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev)
