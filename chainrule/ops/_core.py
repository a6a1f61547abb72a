"""The primitive table and the dispatcher every computation goes through.

A :class:`Primitive` bundles a NumPy ``forward``, a reverse-mode rule
``vjp(node, g)`` and a forward-mode rule ``jvp(ctx, tangents)``.  Both rules
are written with chainrule ops, so derivatives are themselves differentiable.

:func:`apply` is the single choke point.  With the interpreter stack of
``chainrule._tape`` empty it evaluates eagerly: runs ``forward``, wraps the
result in Tensors and records a tape :class:`Node` when gradients are
needed.  Otherwise it hands the call to the top interpreter (forward mode,
anomaly detection, op counting, a tracer ...), which the dispatcher does not
name.
"""
import numpy as np

from .._dtype import from_numpy_dtype
from .._tape import Node, _state, user_frame
from ..errors import (
    ChainruleError, DTypeError, IndexOutOfRange, LinAlgError, ShapeError,
    fmt_shape,
)
from ..tensor import Tensor

PRIMITIVES = {}
"""name -> Primitive: the one table every interpreter reads."""


class Primitive:
    """One entry of the table.  Call it with Tensors and keyword params.

    ``saves``: indices of inputs the vjp reads (None: all) -- only those are
    kept alive and checked for in-place modification.  ``save_out``: the vjp
    reads the output (or, for several outputs, a tuple of the indices of those
    it reads).  ``view``: the output may share memory with input 0.
    ``quiet``: silence NumPy floating-point warnings (log(0), 1/0 ...), as
    PyTorch does.  ``mutates``: indices of inputs whose arrays the forward
    updates in place (fused optimizer steps); their version counters are
    bumped, and such a primitive must not be differentiable.  ``residuals``:
    how many trailing outputs only carry values for the vjp; they never
    require grad and the vjp receives None as their gradient.  ``vjp=None``
    marks a non-differentiable primitive whose outputs never require grad.

    ``kind`` (one of :data:`KINDS`) says what family the primitive belongs to;
    rules that follow from the family (the abstract-evaluation rule now, a
    batching rule later) are looked up by kind.  ``abstract(*avals,
    **params)`` overrides the kind's rule: it maps the inputs' ``(shape,
    dtype)`` pairs to the outputs' (a tuple of pairs) without computing.
    """

    __slots__ = ("name", "forward", "vjp", "jvp", "save_mask", "save_out",
                 "n_out", "view", "quiet", "mutates", "residuals", "kind",
                 "abstract")

    def __init__(self, name, forward, vjp, jvp, saves, save_out, n_out, view, quiet,
                 mutates=None, residuals=0, kind=None, abstract=None):
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.jvp = jvp
        self.save_mask = saves
        self.save_out = save_out
        self.n_out = n_out
        self.view = view
        self.quiet = quiet
        self.mutates = mutates
        self.residuals = residuals
        self.kind = kind
        self.abstract = abstract

    def __call__(self, *inputs, **params):
        return apply(self, *inputs, **params)

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(name, forward, vjp=None, jvp=None, *, saves=None, save_out=False,
              n_out=1, view=False, quiet=False, mutates=None, residuals=0,
              kind=None, abstract=None):
    """Define and register a primitive; returns it (callable on Tensors)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"primitive {name!r}: unknown kind {kind!r}; one of "
                         f"{sorted(KINDS)}")
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} is defined twice")
    if mutates and vjp is not None:
        raise ValueError(f"primitive {name!r} mutates its inputs, so it cannot "
                         "have a vjp")
    p = Primitive(name, forward, vjp, jvp, saves, save_out, n_out, view, quiet,
                  mutates, residuals, kind, abstract)
    PRIMITIVES[name] = p
    return p


# -- abstract evaluation: shapes and dtypes without computing -------------------------
def _same_aval(x, **params):
    """Output like the (first) input: elementwise and order-only movements."""
    return (x,)


def _broadcast(*avals, **params):
    shape = np.broadcast_shapes(*(s for s, _ in avals))
    return ((shape, np.result_type(*(d for _, d in avals))),)


def _to_bool(rule):
    return lambda *avals, **params: tuple(
        (s, np.dtype(bool)) for s, _ in rule(*avals, **params))


def _where_aval(c, x, y):
    return ((np.broadcast_shapes(c[0], x[0], y[0]), np.result_type(x[1], y[1])),)


def _reshape_aval(x, shape):
    shape = tuple(shape)
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        size = int(np.prod(x[0]))
        shape = tuple((size // known if known else 0) if s == -1 else s
                      for s in shape)
    return ((shape, x[1]),)


def _permute_aval(x, axes):
    return ((tuple(x[0][a] for a in axes), x[1]),)


def _expand_aval(x, shape):
    return ((tuple(shape), x[1]),)


def _cast_aval(x, dtype):
    return ((x[0], np.dtype(dtype)),)


def _sum_to_aval(x, shape):
    return ((tuple(shape), x[1]),)


def _cumsum_aval(x, axis):
    return ((x[0], np.dtype(np.int64) if x[1].kind in "bi" else x[1]),)


KINDS = {
    # kind -> the abstract rule every primitive of that kind follows unless it
    # declares its own (params are not needed by these families).
    "unary": _same_aval,  # elementwise, one input, same shape and dtype
    "binary": _broadcast,  # elementwise, operands broadcast, dtypes promote
    "compare": _to_bool(_broadcast),  # elementwise comparison or logic: bool
    "predicate": _to_bool(_same_aval),  # elementwise test of one input: bool
    # families whose rules depend on params: each primitive declares its own
    "reduction": None, "movement": None, "index": None, "linalg": None,
    "conv": None, "creation": None, "fused": None, "optimizer": None,
    "other": None,
}
"""The families of primitives, and the abstract rule each implies."""


def abstract_rule(prim):
    """``prim``'s abstract-evaluation rule, or None if it has none yet."""
    if prim.abstract is not None:
        return prim.abstract
    return KINDS.get(prim.kind)


def abstract_eval(prim, avals, params):
    """Output ``(shape, dtype)`` pairs of ``prim`` on inputs described by
    ``avals`` (``(shape, dtype)`` pairs), computed without running it."""
    rule = abstract_rule(prim)
    if rule is None:
        raise NotImplementedError(
            f"{prim.name}: no abstract-evaluation rule (kind {prim.kind!r}); "
            "declare abstract=... in its primitive(...) entry")
    avals = [(tuple(s), np.dtype(d)) for s, d in avals]
    return tuple((tuple(s), np.dtype(d)) for s, d in rule(*avals, **params))


def describe(inputs):
    """'float32 [2, 3], int64 [4]' -- how errors show a list of operands."""
    return ", ".join(
        f"{t._data.dtype} {fmt_shape(t._data.shape)}" if isinstance(t, Tensor)
        else repr(t)
        for t in inputs
    )


def _forward_error(prim, inputs, params, err):
    """Turn a NumPy exception into a chainrule error naming the op and operands.

    The op is the one the user called, and the primitive too when they
    differ (``fmax: maximum: shapes ...``).
    """
    from ._util import calling_op

    msg = str(err)
    got = describe(inputs)
    name = calling_op(prim.name)
    if name != prim.name:
        name = f"{name}: {prim.name}"
    if isinstance(err, np.linalg.LinAlgError):
        return LinAlgError(f"{name}: {msg} (input {got})")
    if "broadcast" in msg:
        return ShapeError(
            f"{name}: shapes {' and '.join(fmt_shape(t.shape) for t in inputs)} "
            "cannot be broadcast together; sizes must match or be 1 in each "
            "dimension, aligned from the right"
        )
    if isinstance(err, IndexError):
        return IndexOutOfRange(f"{name}: {msg} (input {got})")
    if isinstance(err, TypeError):
        return DTypeError(f"{name}: {msg} (input {got})")
    extra = f" with {params}" if params else ""
    return ShapeError(f"{name}: {msg} (input {got}{extra})")


def _quiet_context():
    """Enter/exit functions that silence NumPy floating-point warnings cheaply.

    ``np.errstate`` costs about 1 us per use; setting NumPy's context variable
    directly costs a fifth of that.  Falls back to errstate if NumPy's
    internals move.
    """
    try:
        from numpy._core import _ufunc_config as uc

        ignore, var = uc._make_extobj(all="ignore"), uc._extobj_contextvar
        return (lambda: var.set(ignore)), var.reset
    except (ImportError, AttributeError, TypeError):
        return (lambda: np.errstate(all="ignore").__enter__()), (lambda tok: None)


_quiet_enter, _quiet_exit = _quiet_context()
_new = object.__new__
_ndarray = np.ndarray


def apply(prim, *inputs, **params):
    """Run ``prim`` on Tensors ``inputs``; record it on the tape if needed.

    Returns a Tensor, or a tuple of Tensors for a multi-output primitive.
    """
    if _state.stack:
        return _interpret(prim, inputs, params)
    arrays = [t._data for t in inputs]
    try:
        if prim.quiet:
            tok = _quiet_enter()
            try:
                out = prim.forward(*arrays, **params)
            finally:
                _quiet_exit(tok)
        else:
            out = prim.forward(*arrays, **params)
    except ChainruleError:
        raise
    except (ValueError, TypeError, IndexError, np.linalg.LinAlgError) as e:
        raise _forward_error(prim, inputs, params, e) from None
    if prim.n_out == 1:
        if out.__class__ is not _ndarray:
            out = np.asarray(out)
        res = _new(Tensor)
        res._data = out
        res._vc = [0]
        outs = (res,)
    else:
        res = outs = tuple(
            Tensor._make(o if type(o) is np.ndarray else np.asarray(o), False, None, i)
            for i, o in enumerate(out)
        )
    if _state.grad and prim.vjp is not None:
        for t in inputs:
            if t._rg:
                _record(prim, inputs, params, outs)
                break
    if prim.mutates:
        for i in prim.mutates:
            if i < len(inputs):
                inputs[i]._vc[0] += 1
    if prim.view and np.may_share_memory(out, arrays[0]):
        _mark_view(res, inputs[0], prim, params)
    return res


def _interpret(prim, inputs, params):
    """Hand the call to the top interpreter, popped while it runs."""
    stack = _state.stack
    top = stack.pop()
    try:
        res = top.process(prim, inputs, params)
    finally:
        stack.append(top)
    if prim.n_out == 1:
        if res.__class__ is tuple:
            return res[0]
        return res
    return tuple(res)


def _record(prim, inputs, params, outs):
    node = _new(Node)
    node.prim = prim
    node.params = params
    edges, metas, versions, needs = [], [], [], []
    for t in inputs:
        fn = t.grad_fn
        if fn is not None:
            edges.append((fn, t._oi))
        else:
            edges.append((t, 0) if t._rg else None)
        d = t._data
        metas.append((d.shape, d.dtype))
        versions.append(t._vc[0])
        needs.append(t._rg)
    node.edges = edges
    node.metas = metas
    node.versions = versions
    node.needs = needs
    mask = prim.save_mask
    if mask is None:
        node.inputs = inputs
    else:
        node.inputs = tuple(t if i in mask else None for i, t in enumerate(inputs))
    node.hooks = None
    node.freed = False
    node.trace = None
    if prim.n_out == 1:
        node.out_metas = None
        o = outs[0]
        if prim.save_out:
            node.out_data, node.out_vc, node.out_ver = o._data, o._vc, o._vc[0]
        else:
            node.out_data = node.out_vc = node.out_ver = None
    else:
        node.out_metas = tuple((o._data.shape, o._data.dtype) for o in outs)
        if prim.save_out:
            node.out_data = tuple(o._data for o in outs)
            # Only the outputs the vjp reads are checked for in-place changes
            # (save_out may list them), each against its own counter.
            read = range(len(outs)) if prim.save_out is True else prim.save_out
            node.out_vc = tuple(outs[i]._vc for i in read)
            node.out_ver = tuple(vc[0] for vc in node.out_vc)
        else:
            node.out_data = node.out_vc = node.out_ver = None
    if _state.anomaly:
        node.trace = user_frame()
    n_grad = len(outs) - prim.residuals
    for i, o in enumerate(outs):
        if o._data.dtype.kind == "f" and i < n_grad:
            o._rg = True
            o.grad_fn = node
            o._oi = i  # which output: the engine routes its gradient by this
    return node


def _mark_view(res, src, prim, params):
    """``res`` shares memory with ``src``: share its version counter and base."""
    res._vc = src._vc
    if src._base is None:
        res._base, res._view = src, ((prim, params),)
    else:
        res._base, res._view = src._base, src._view + ((prim, params),)


def cast_like_result(res, target, opname):
    """Check an in-place result fits ``target``'s dtype (PyTorch's rule)."""
    rd, td = res._data.dtype, target._data.dtype
    if rd != td:
        rdt, tdt = from_numpy_dtype(rd), from_numpy_dtype(td)
        if rdt.category > tdt.category:
            raise DTypeError(
                f"{opname}: result type {rdt.name} can't be cast to the desired "
                f"output type {tdt.name} of the in-place op; use the out-of-place "
                "version or convert the tensor first"
            )
    return res
