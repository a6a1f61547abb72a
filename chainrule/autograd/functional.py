"""``chainrule.autograd.functional``: PyTorch's older functional API.

``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp`` and ``vhp`` take the
function and its inputs together (a Tensor or a tuple of Tensors) and are
thin wrappers over :mod:`chainrule.func`.  Results are detached unless
``create_graph=True``, which keeps them differentiable with respect to
inputs that require grad.
"""
from ..tensor import Tensor

__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]


def _tuple(x):
    return (x, False) if isinstance(x, tuple) else ((x,), True)


def _finish(tree, create_graph):
    """Detach every Tensor of a nested tuple unless ``create_graph``."""
    if isinstance(tree, tuple):
        return tuple(_finish(t, create_graph) for t in tree)
    if isinstance(tree, Tensor) and not create_graph:
        return tree.detach()
    return tree


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """Jacobian of ``func`` at ``inputs``.

    One input and one output: a Tensor of shape ``out.shape + in.shape``;
    tuples of inputs or outputs give tuples (outputs outside).
    ``strategy`` is ``"reverse-mode"`` (one vjp per output element) or
    ``"forward-mode"`` (one jvp per input element).
    """
    from . import func as F
    from ..errors import ArgumentError

    if strategy not in ("reverse-mode", "forward-mode"):
        raise ArgumentError(f"jacobian: strategy must be 'reverse-mode' or "
                            f"'forward-mode', got {strategy!r}")
    ins, single = _tuple(inputs)
    argnums = 0 if single else tuple(range(len(ins)))
    jac = F.jacrev if strategy == "reverse-mode" else F.jacfwd
    return _finish(jac(func, argnums)(*ins), create_graph)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """Hessian of scalar ``func``: ``in.shape + in.shape`` per pair of inputs."""
    from . import func as F

    ins, single = _tuple(inputs)
    argnums = 0 if single else tuple(range(len(ins)))
    outer = F.jacrev if outer_jacobian_strategy == "reverse-mode" else F.jacfwd
    return _finish(outer(F.jacrev(func, argnums), argnums)(*ins), create_graph)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``; ``v`` may be omitted for a one-element output."""
    from . import func as F
    from .. import ops

    ins, single = _tuple(inputs)
    out, fn = F.vjp(func, *ins)
    if v is None:
        v = ops.ones_like(out) if isinstance(out, Tensor) else tuple(
            ops.ones_like(o) for o in out)
    res = fn(v)
    return _finish(out, create_graph), _finish(res[0] if single else res, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``; ``v`` may be omitted for a one-element input."""
    from . import func as F
    from .. import ops

    ins, single = _tuple(inputs)
    if v is None:
        v = tuple(ops.ones_like(x) for x in ins)
    vs, _ = _tuple(v)
    out, t = F.jvp(func, ins, vs)
    return _finish(out, create_graph), _finish(t, create_graph)


def _vectors(v, ins):
    from .. import ops

    if v is None:  # allowed for one-element inputs, as in PyTorch
        return tuple(ops.ones_like(x) for x in ins)
    return _tuple(v)[0]


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for scalar ``func`` (forward over reverse)."""
    from . import func as F

    ins, single = _tuple(inputs)
    vs = _vectors(v, ins)
    out = func(*ins)
    argnums = 0 if single else tuple(range(len(ins)))
    _, t = F.jvp(F.grad(func, argnums), ins, vs)
    return _finish(out, create_graph), _finish(t, create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for scalar ``func`` (reverse over reverse)."""
    from . import func as F

    ins, single = _tuple(inputs)
    vs = _vectors(v, ins)
    out = func(*ins)
    argnums = 0 if single else tuple(range(len(ins)))
    _, fn = F.vjp(F.grad(func, argnums), *ins)
    res = fn(vs[0] if single else vs)
    return _finish(out, create_graph), _finish(res[0] if single else res,
                                               create_graph)
