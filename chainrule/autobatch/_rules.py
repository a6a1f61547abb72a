"""Batching rules used by autobatch, behind the interface of
``chainrule.batching``: ``rule(inputs, dims, **params) -> (outs, out_dims)``
with ``dims`` per input the batch axis or None (shared by every node).

:func:`rule_for` prefers ``chainrule.batching.batch_rule`` when that package
exists and falls back to the few rules below, which cover the primitives of
recurrent and recursive networks (elementwise ops, matmul, linear, movements,
sums, concatenation, splits, softmax).  A rule raises NotImplementedError for
a combination of batched operands it does not handle; the caller then runs
the nodes one by one.
"""
from ..ops._core import PRIMITIVES, apply

_LOCAL = {}


def _p(name):
    return PRIMITIVES[name]


def _front(x, d):
    """Move batch axis ``d`` of ``x`` to the front."""
    if d is None or d == 0:
        return x
    axes = (d,) + tuple(a for a in range(x.ndim) if a != d)
    return apply(_p("permute"), x, axes=axes)


def _lift(x, d, rank):
    """Batched ``x`` with its batch axis first and ones inserted after it so
    that its per-node rank is ``rank`` (broadcasting aligns from the right)."""
    x = _front(x, d)
    missing = rank - (x.ndim - 1)
    if missing > 0:
        x = apply(_p("reshape"), x, shape=(x.shape[0],) + (1,) * missing + x.shape[1:])
    return x


def _bind(prim):
    """Rules need their primitive; the table keys them by name."""
    def unary(inputs, dims, **params):
        if dims[0] is None:
            raise NotImplementedError("unbatched operand")
        return (apply(prim, inputs[0], **params),), (dims[0],)

    def elementwise(inputs, dims, **params):
        rank = max(x.ndim - (d is not None) for x, d in zip(inputs, dims))
        xs = tuple(x if d is None else _lift(x, d, rank) for x, d in zip(inputs, dims))
        return (apply(prim, *xs, **params),), (0,)

    return unary, elementwise


def _unary_rule(prim):
    return _bind(prim)[0]


def _elementwise_rule(prim):
    return _bind(prim)[1]


_CACHE = {}


def rule_for(prim):
    """The batching rule of ``prim`` (cached per primitive), or None."""
    r = _CACHE.get(prim.name, False)
    if r is False:
        r = _lookup(prim)
        _CACHE[prim.name] = r
    return r


def _lookup(prim):
    try:
        from ..batching import batch_rule
    except ImportError:
        batch_rule = None
    if batch_rule is not None:
        rule = batch_rule(prim)
        if rule is not None:
            return rule
    if prim.name in _LOCAL:
        return _LOCAL[prim.name]
    if prim.kind in ("unary", "predicate"):
        return _unary_rule(prim)
    if prim.kind in ("binary", "compare") or prim.name == "where":
        return _elementwise_rule(prim)
    return None


def _local(name):
    def deco(fn):
        _LOCAL[name] = fn
        return fn
    return deco


def _only_first(dims, name):
    if dims[0] is None or any(d is not None for d in dims[1:]):
        raise NotImplementedError(f"{name}: only the first operand batched")


@_local("reshape")
def _reshape(inputs, dims, shape):
    _only_first(dims, "reshape")
    x = _front(inputs[0], dims[0])
    return (apply(_p("reshape"), x, shape=(x.shape[0],) + tuple(shape)),), (0,)


@_local("expand")
def _expand(inputs, dims, shape):
    _only_first(dims, "expand")
    x = _lift(inputs[0], dims[0], len(shape))
    return (apply(_p("expand"), x, shape=(x.shape[0],) + tuple(shape)),), (0,)


@_local("permute")
def _permute(inputs, dims, axes):
    _only_first(dims, "permute")
    x = _front(inputs[0], dims[0])
    r = x.ndim - 1
    axes = (0,) + tuple(a % r + 1 for a in axes)
    return (apply(_p("permute"), x, axes=axes),), (0,)


def _axis(axis, rank):
    if axis is None:
        return tuple(range(1, rank + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(a % rank + 1 for a in axis)
    return axis % rank + 1


@_local("sum")
def _sum(inputs, dims, axis, keepdim):
    _only_first(dims, "sum")
    x = _front(inputs[0], dims[0])
    ax = _axis(axis, x.ndim - 1)
    if axis is None and keepdim:
        raise NotImplementedError("sum: keepdim over all axes")
    return (apply(_p("sum"), x, axis=ax, keepdim=keepdim),), (0,)


@_local("log_softmax")
def _log_softmax(inputs, dims, dim):
    _only_first(dims, "log_softmax")
    x = _front(inputs[0], dims[0])
    return (apply(_p("log_softmax"), x, dim=dim % (x.ndim - 1) + 1),), (0,)


@_local("softmax")
def _softmax(inputs, dims, dim, **params):
    _only_first(dims, "softmax")
    x = _front(inputs[0], dims[0])
    return (apply(_p("softmax"), x, dim=dim % (x.ndim - 1) + 1, **params),), (0,)


@_local("split_copy")
def _split_copy(inputs, dims, axis, sizes, squeeze):
    _only_first(dims, "split_copy")
    x = _front(inputs[0], dims[0])
    outs = apply(_p("split_copy"), x, axis=axis % (x.ndim - 1) + 1, sizes=sizes,
                 squeeze=squeeze)
    return tuple(outs), (0,) * len(outs)


@_local("cat")
def _cat(inputs, dims, axis):
    n = next(x.shape[d] for x, d in zip(inputs, dims) if d is not None)
    xs = []
    for x, d in zip(inputs, dims):
        if d is None:
            x = apply(_p("reshape"), x, shape=(1,) + x.shape)
            x = apply(_p("expand"), x, shape=(n,) + x.shape[1:])
        else:
            x = _front(x, d)
        xs.append(x)
    return (apply(_p("cat"), *xs, axis=axis % (xs[0].ndim - 1) + 1),), (0,)


@_local("getitem")
def _getitem(inputs, dims, index):
    _only_first(dims, "getitem")
    if not all(i is None or isinstance(i, (int, slice)) for i in index):
        raise NotImplementedError("getitem: only integers, slices and None")
    x = _front(inputs[0], dims[0])
    return (apply(_p("getitem"), x, index=(slice(None),) + tuple(index)),), (0,)


@_local("linear")
def _linear(inputs, dims):
    _only_first(dims, "linear")
    x = _front(inputs[0], dims[0])
    return (apply(_p("linear"), x, *inputs[1:]),), (0,)


@_local("matmul")
def _matmul(inputs, dims):
    (a, b), (da, db) = inputs, dims
    ra = a.ndim - (da is not None)
    rb = b.ndim - (db is not None)
    a_row = b_col = False  # axes inserted to turn batched vectors into matrices
    if da is not None:
        a = _front(a, da)
        if ra == 1:
            a, a_row = apply(_p("reshape"), a, shape=(a.shape[0], 1, a.shape[1])), True
    if db is not None:
        b = _front(b, db)
        if rb == 1:
            b, b_col = apply(_p("reshape"), b, shape=b.shape + (1,)), True
    if da is not None and db is not None:
        rank = max(a.ndim, b.ndim)
        a, b = _pad_after_batch(a, rank), _pad_after_batch(b, rank)
    elif (da is not None and rb > 2) or (db is not None and ra > 2):
        raise NotImplementedError("matmul: a batched operand with a shared stack")
    out = apply(_p("matmul"), a, b)
    shape = list(out.shape)
    if b_col:
        shape.pop(-1)
    if a_row:
        shape.pop(-1 if rb == 1 else -2)
    if tuple(shape) != out.shape:
        out = apply(_p("reshape"), out, shape=tuple(shape))
    return (out,), (0,)


def _pad_after_batch(x, rank):
    if x.ndim < rank:
        x = apply(_p("reshape"), x,
                  shape=(x.shape[0],) + (1,) * (rank - x.ndim) + x.shape[1:])
    return x
