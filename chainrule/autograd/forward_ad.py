"""Forward-mode automatic differentiation: dual tensors and their interpreter.

Inside a *dual level* a tensor may carry a tangent (a directional derivative
of the same shape).  Each open level is one interpreter on the dispatcher's
stack (:class:`ForwardLevel`): after every primitive call it runs the
primitive's ``jvp`` rule from the op table, so outputs carry the tangent of
the result: one forward pass gives ``J @ v``.

Levels nest (``jvp`` of ``jvp``, ``jacfwd`` of ``jacfwd``).  Levels are
numbered in the order they are entered; a tensor's tangents live in its
``_fw`` dict keyed by level.  Level L's interpreter runs its rule popped off
the stack, so the rule's own ops are differentiated by the outer levels
below it (giving second-order terms) and never by L itself, which would
confuse the two perturbations.  Rules are chainrule ops, so the tape records
them too and forward mode composes with reverse mode.

Follows ``torch.autograd.forward_ad``::

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        y_primal, y_tangent = forward_ad.unpack_dual(y)
"""
import collections
import itertools
import weakref

from .._tape import Interpreter, _state, pop, push
from ..errors import AutogradError, DTypeError, ShapeError, fmt_shape

_levels = []  # active level ids, outermost first
_ids = itertools.count()
_holders = {}  # level id -> {id(tensor): tensor} (weak): who to clear on exit
_interps = {}  # level id -> its ForwardLevel interpreter

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor",
                                            ["primal", "tangent"])


# -- levels -------------------------------------------------------------------------
def enter_dual_level():
    """Open a new (innermost) dual level and return its id."""
    lvl = next(_ids)
    _levels.append(lvl)
    _holders[lvl] = weakref.WeakValueDictionary()
    _interps[lvl] = interp = ForwardLevel(lvl)
    push(interp)
    return lvl


def exit_dual_level(*, level=None):
    """Close the innermost dual level; every tangent at that level is dropped."""
    if not _levels:
        raise AutogradError("exit_dual_level: no dual level is active")
    if level is not None and level != _levels[-1]:
        raise AutogradError(
            f"exit_dual_level: level {level} is not the innermost active level "
            f"({_levels[-1]}); levels must be exited in the reverse order of entry")
    lvl = _levels.pop()
    pop(_interps.pop(lvl))
    for t in list(_holders.pop(lvl).values()):
        if t._fw:
            t._fw.pop(lvl, None)


class dual_level:
    """Context manager for one dual level; ``__enter__`` returns its id.

    Tangents created inside are dropped on exit, as in PyTorch.
    """

    def __enter__(self):
        self.level = enter_dual_level()
        return self.level

    def __exit__(self, *exc):
        exit_dual_level(level=self.level)
        return False


def _level(level, op):
    if level is None:
        if not _levels:
            raise AutogradError(
                f"{op}: no dual level is active; create dual tensors inside "
                "`with chainrule.autograd.forward_ad.dual_level():`")
        return _levels[-1]
    if level not in _levels:
        raise AutogradError(f"{op}: level {level} is not an active dual level "
                            f"(active: {list(_levels)})")
    return level


def _set_tangent(t, lvl, tangent):
    if t._fw is None:
        t._fw = {}
    t._fw[lvl] = tangent
    _holders[lvl][id(t)] = t


def take_tangents(dst, src):
    """``dst`` was overwritten in place with ``src``'s values: move the tangents."""
    dst._fw = dict(src._fw) if src._fw else None
    for lvl in dst._fw or ():
        if lvl in _holders:
            _holders[lvl][id(dst)] = dst


def get_tangent(t, level):
    """The tangent ``t`` carries at ``level``, or None."""
    fw = t._fw
    return fw.get(level) if fw else None


# -- dual tensors ----------------------------------------------------------------------
def make_dual(tensor, tangent, *, level=None):
    """A dual tensor: ``tensor``'s values with ``tangent`` attached at ``level``.

    ``tangent`` must have the primal's shape and dtype.  The result is a view
    of ``tensor`` (differentiable in reverse mode, and keeping tangents of
    outer levels), so ``tensor`` itself is left untouched.
    """
    from ..ops.shape import reshape_p
    from ..tensor import Tensor

    lvl = _level(level, "make_dual")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise DTypeError(
            f"make_dual: expected two Tensors, got {type(tensor).__name__} and "
            f"{type(tangent).__name__}")
    if tensor._data.dtype.kind != "f":
        raise DTypeError(f"make_dual: expected the primal to be floating point, got "
                         f"{tensor.dtype.name}")
    if tangent.shape != tensor.shape:
        raise ShapeError(
            f"make_dual: the tangent has shape {fmt_shape(tangent.shape)} but the "
            f"primal has shape {fmt_shape(tensor.shape)}; they must be equal")
    if tangent._data.dtype != tensor._data.dtype:
        raise DTypeError(
            f"make_dual: the tangent has dtype {tangent.dtype.name} but the primal "
            f"has dtype {tensor.dtype.name}; they must be equal")
    dual = reshape_p(tensor, shape=tensor.shape)  # a fresh view, tangents copied
    if dual._fw is not None:
        dual._fw = dict(dual._fw)
    _set_tangent(dual, lvl, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor`` at ``level`` (innermost by default).

    ``tangent`` is None when there is none.  ``primal`` is a view without the
    tangent at this level (tangents of other levels are kept).
    """
    from ..ops.shape import reshape_p

    if level is None and not _levels:
        return UnpackedDualTensor(tensor, None)
    lvl = _level(level, "unpack_dual")
    tangent = get_tangent(tensor, lvl)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    primal = reshape_p(tensor, shape=tensor.shape)
    fw = dict(primal._fw)
    fw.pop(lvl, None)
    primal._fw = fw or None
    return UnpackedDualTensor(primal, tangent)


# -- the interpreter -------------------------------------------------------------------
class JvpContext:
    """What a jvp rule reads: the primal ``inputs``, the primal ``out`` (a
    tuple for multi-output primitives), ``params``, and, as in vjp rules,
    ``metas`` and ``needs`` (which inputs have a tangent)."""

    __slots__ = ("inputs", "out", "params", "metas", "needs")

    def __init__(self, inputs, out, params, tangents):
        self.inputs = inputs
        self.out = out
        self.params = params
        self.metas = tuple((t._data.shape, t._data.dtype) for t in inputs)
        self.needs = tuple(t is not None for t in tangents)


class ForwardLevel(Interpreter):
    """The interpreter of one dual level: gives each primitive's outputs the
    tangent its jvp rule computes from the inputs' tangents at this level."""

    def __init__(self, level):
        self.dual_level = level

    def process(self, prim, inputs, params):
        outs = self.evaluate(prim, inputs, params)
        lvl = self.dual_level
        for t in inputs:
            if t._fw and t._fw.get(lvl) is not None:
                break
        else:
            return outs
        ts = tuple(t._fw.get(lvl) if t._fw else None for t in inputs)
        if prim.jvp is None:
            if prim.vjp is None:
                return outs  # not differentiable (comparisons, arg-reductions...)
            raise AutogradError(
                f"{prim.name}: forward-mode AD is not implemented for this op (the "
                "primitive has no jvp rule); use reverse mode (grad, vjp, jacrev) "
                "instead")
        # This interpreter is popped while process runs: the rule's ops are
        # seen (and differentiated) only by the outer levels below it.
        for o, tan in zip(outs, _eval_rule(prim, inputs, params, outs, ts)):
            if tan is not None and o._data.dtype.kind == "f":
                _set_tangent(o, lvl, tan)
        node = outs[0].grad_fn
        if node is not None and prim.save_out:
            # The vjp reads the output through the node: keep its tangents there.
            node.out_fw = tuple(o._fw for o in outs)
        return outs


def _eval_rule(prim, inputs, params, outs, ts):
    """Run ``prim``'s jvp rule; return one tangent (or None) per output, each
    with its output's shape and dtype."""
    from ..ops._util import to_dtype
    from ..ops.shape import expand

    out = outs[0] if prim.n_out == 1 else outs
    res = prim.jvp(JvpContext(inputs, out, params, ts), ts)
    res = (res,) if prim.n_out == 1 else tuple(res)
    fixed = []
    for o, tan in zip(outs, res):
        if tan is not None:
            if tan._data.shape != o._data.shape:
                tan = expand(tan, o._data.shape)  # rules may leave broadcasting
            if tan._data.dtype != o._data.dtype:
                tan = to_dtype(tan, o._data.dtype)
            if _state.anomaly:
                from .anomaly import check_tangent

                check_tangent(prim, inputs, tan)
        fixed.append(tan)
    return fixed
