"""Batching rules: how each primitive runs on a whole batch at once.

A rule has the signature ``rule(inputs, dims, **params) -> (outs, out_dims)``:
``inputs`` are the physical Tensors, ``dims`` gives per input the axis that
runs over the batch (or None: the input is the same for every example), and
the primitive's ``params`` are the per-example ones.  The rule returns the
physical outputs (a tuple) and, per output, its batch axis.  All batched
inputs share one batch size.  Rules compute with chainrule ops, so whatever
interpreters sit below (an outer ``vmap``, forward mode, the tape) see and
differentiate their calls.

Most rules follow from the primitive's ``kind``: elementwise ops line up
the batch axes, reductions and movements shift their axis parameters by
one.  A primitive with no rule falls back to :func:`loop`: one call per
example and a ``stack``, with a warning naming the primitive.
"""
import warnings

import numpy as np

from ..ops import PRIMITIVES
from ..ops._core import apply
from ..ops.index import Split

RULES = {}
"""primitive name -> batching rule."""

FALLBACK = {
    # primitive -> why it runs once per example (with a warning) under vmap
    "adam_step": "an optimizer step updates its state in place; it has no "
                 "per-example meaning inside a mapped function",
    "custom_function": "a user's autograd.Function runs NumPy-level code of "
                       "its own, which only it can batch",
    "all_reduce": "collectives talk to other processes per call",
    "broadcast": "collectives talk to other processes per call",
    "all_gather": "collectives talk to other processes per call",
    "reduce_scatter": "collectives talk to other processes per call",
    "start_all_reduce": "collectives talk to other processes per call",
    "wait_collective": "collectives talk to other processes per call",
}
"""Primitives that deliberately have no rule, each with the reason."""

RANDOM = {"rand", "randn", "randint", "randperm", "standard_gamma", "poisson"}
"""Primitives that draw random numbers (``vmap``'s ``randomness`` applies)."""


def batch_rule(prim):
    """The batching rule of ``prim`` (a Primitive or its name), or None."""
    return RULES.get(prim if isinstance(prim, str) else prim.name)


def register(*names):
    def deco(fn):
        for n in names:
            RULES[n] = fn
        return fn
    return deco


# -- helpers ---------------------------------------------------------------------------
def _permute(x, axes):
    axes = tuple(axes)
    if axes == tuple(range(len(axes))):
        return x
    return apply(PRIMITIVES["permute"], x, axes=axes)


def _reshape(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return apply(PRIMITIVES["reshape"], x, shape=shape)


def moveaxis(x, src, dst):
    """``x`` with axis ``src`` moved to position ``dst``."""
    if src == dst:
        return x
    order = [i for i in range(x.ndim) if i != src]
    order.insert(dst, src)
    return _permute(x, order)


def front(x, d):
    """``x`` with its batch axis ``d`` first."""
    return moveaxis(x, d, 0)


def batch_size(inputs, dims):
    for x, d in zip(inputs, dims):
        if d is not None:
            return x.shape[d]
    raise ValueError("batching rule called without a batched input")


def at_front(x, d, size):
    """``x`` with a leading batch axis: moved there, or (unbatched) broadcast."""
    if d is not None:
        return front(x, d)
    return apply(PRIMITIVES["expand"], _reshape(x, (1,) + x.shape),
                 shape=(size,) + x.shape)


def _pad_after_batch(x, rank):
    """Batch-first ``x`` with 1s inserted after the batch axis up to logical
    ``rank`` (so that it broadcasts against unbatched operands)."""
    k = rank - (x.ndim - 1)
    if k <= 0:
        return x
    return _reshape(x, x.shape[:1] + (1,) * k + x.shape[1:])


def _axis(a, nd):
    """Logical axis ``a`` (may be negative) as a physical one, batch first."""
    return (a % nd if nd else 0) + 1


def _axes(axis, nd):
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        return tuple(_axis(a, nd) for a in axis)
    return _axis(axis, nd)


def loop(prim, inputs, dims, params):
    """The per-example fallback: ``prim`` once per example, then a stack."""
    from ..ops.index import getitem
    from ..ops.shape import stack

    size = batch_size(inputs, dims)
    per = []
    for b in range(size):
        args = [x if d is None else getitem(x, (slice(None),) * d + (b,))
                for x, d in zip(inputs, dims)]
        res = apply(prim, *args, **params)
        per.append((res,) if prim.n_out == 1 else tuple(res))
    outs = tuple(stack([r[k] for r in per]) for k in range(len(per[0])))
    return outs, (0,) * len(outs)


def fallback(prim, inputs, dims, params, why="has no batching rule"):
    warnings.warn(f"vmap: {prim.name} {why}; falling back to a per-example "
                  "loop (slow)", stacklevel=4)
    return loop(prim, inputs, dims, params)


def _one(prim):
    return PRIMITIVES[prim]


# -- elementwise -----------------------------------------------------------------------
def _unary(name):
    p = _one(name)

    def rule(inputs, dims, **params):
        return (apply(p, inputs[0], **params),), (dims[0],)
    return rule


def _nary(name):
    """Elementwise with broadcasting: batch axes first, padded to a common
    logical rank, unbatched operands left to broadcast."""
    p = _one(name)

    def rule(inputs, dims, **params):
        nds = [x.ndim for x in inputs]
        rank = max(n - (d is not None) for n, d in zip(nds, dims))
        if all(d is None or (d == 0 and n == rank + 1) for n, d in zip(nds, dims)):
            # Batched operands batch-first at the full logical rank, the rest
            # no longer than it: right-aligned broadcasting already lines the
            # batch up (the usual case, so it skips the moves and reshapes).
            return (apply(p, *inputs, **params),), (0,)
        args = [x if d is None else _pad_after_batch(front(x, d), rank)
                for x, d in zip(inputs, dims)]
        return (apply(p, *args, **params),), (0,)
    return rule


for _n, _p in PRIMITIVES.items():
    if _p.kind in ("unary", "predicate"):
        RULES[_n] = _unary(_n)
    elif _p.kind in ("binary", "compare"):
        RULES[_n] = _nary(_n)
for _n in ("where", "clamp", "bernoulli_threshold"):
    RULES[_n] = _nary(_n)
RULES["index_in_range"] = _unary("index_in_range")  # an elementwise check


@register("array_equal")
def _array_equal(inputs, dims):
    """``equal``: one bool per example.  Every example has the same logical
    shape, so either all pairs have equal shapes or none does."""
    a, b = inputs
    la = tuple(s for k, s in enumerate(a.shape) if k != dims[0])
    lb = tuple(s for k, s in enumerate(b.shape) if k != dims[1])
    size = batch_size(inputs, dims)
    if la != lb:
        return (apply(_one("eq"), a.new_zeros((size,)), a.new_ones((size,))),), (0,)
    (same,), _ = RULES["eq"]((a, b), dims)
    if same.ndim == 1:
        return (same,), (0,)
    return (apply(_one("all"), same, axis=tuple(range(1, same.ndim)),
                  keepdim=False),), (0,)


@register("store", "set_data")
def _no_batched_writes(inputs, dims, **params):
    """Writing batched values into an array (in place, or ``.data =``) has no
    per-example meaning: each example would overwrite the others."""
    from ._batched import VmapError

    raise VmapError("vmap: an in-place write or .data assignment involves a batched "
                    "Tensor; in-place writes are not batched under vmap, use the "
                    "out-of-place op (e.g. torch.where, x + y instead of x += y)")


# -- randomness ------------------------------------------------------------------------
def random_batched(prim, size, params):
    """A fresh draw per example: the batch leads the shape ('different')."""
    p = dict(params)
    p["shape"] = (size,) + tuple(p["shape"])
    return (apply(prim, **p),), (0,)


# -- reductions and scans --------------------------------------------------------------
def _reduce(name, flat_none=False):
    p = _one(name)

    def rule(inputs, dims, axis, keepdim):
        x = front(inputs[0], dims[0])
        nd = x.ndim - 1
        if axis is None:
            if flat_none:  # argmax/argmin: over the flattened example
                x = _reshape(x, (x.shape[0], -1) if nd else (x.shape[0], 1))
                return (apply(p, x, axis=1, keepdim=False),), (0,)
            ax = tuple(range(1, nd + 1))
            out = apply(p, x, axis=ax, keepdim=keepdim)
            return (out,), (0,)
        return (apply(p, x, axis=_axes(axis, nd), keepdim=keepdim),), (0,)
    return rule


for _n in ("sum", "prod", "amax", "amin", "all", "any"):
    RULES[_n] = _reduce(_n)
for _n in ("argmax", "argmin"):
    RULES[_n] = _reduce(_n, flat_none=True)


def _along(name, key="axis"):
    """Ops acting along one axis param (scans, sorting, softmaxes)."""
    p = _one(name)

    def rule(inputs, dims, **params):
        x = front(inputs[0], dims[0])
        params[key] = _axes(params[key], x.ndim - 1)
        return (apply(p, x, **params),), (0,)
    return rule


for _n in ("cumsum", "cumprod", "argsort", "cum_arg"):
    RULES[_n] = _along(_n)
for _n in ("softmax", "log_softmax"):
    RULES[_n] = _along(_n, "dim")


@register("sum_to")
def _sum_to(inputs, dims, shape):
    x = front(inputs[0], dims[0])
    lead = x.ndim - 1 - len(shape)
    if lead > 0:  # the example's extra leading dims are summed, not the batch
        x = apply(_one("sum"), x, axis=tuple(range(1, lead + 1)), keepdim=False)
    return (apply(_one("sum_to"), x, shape=(x.shape[0],) + tuple(shape)),), (0,)


# -- movement --------------------------------------------------------------------------
@register("reshape")
def _reshape_rule(inputs, dims, shape):
    x = front(inputs[0], dims[0])
    return (_reshape(x, (x.shape[0],) + tuple(shape)),), (0,)  # -1 still works


@register("expand")
def _expand(inputs, dims, shape):
    x = _pad_after_batch(front(inputs[0], dims[0]), len(shape))
    shape = tuple(x.shape[i + 1] if s == -1 else s for i, s in enumerate(shape))
    return (apply(_one("expand"), x, shape=(x.shape[0],) + shape),), (0,)


@register("permute")
def _permute_rule(inputs, dims, axes):
    x = front(inputs[0], dims[0])
    return (_permute(x, (0,) + tuple(a + 1 for a in axes)),), (0,)


@register("flip")
def _flip(inputs, dims, axes):
    x = front(inputs[0], dims[0])
    return (apply(_one("flip"), x, axes=_axes(axes, x.ndim - 1)),), (0,)


@register("roll")
def _roll(inputs, dims, shifts, axes):
    x = front(inputs[0], dims[0])
    nd = x.ndim - 1
    if axes is None:  # over the flattened example
        flat = _reshape(x, (x.shape[0], -1))
        out = apply(_one("roll"), flat, shifts=(shifts,), axes=(1,))
        return (_reshape(out, x.shape),), (0,)
    return (apply(_one("roll"), x, shifts=shifts, axes=_axes(axes, nd)),), (0,)


for _n in ("tril", "triu"):  # act on the last two axes: a leading batch is free
    RULES[_n] = (lambda name: lambda inputs, dims, **params: (
        (apply(_one(name), front(inputs[0], dims[0]), **params),), (0,)))(_n)


@register("diagonal")
def _diagonal(inputs, dims, offset, a1, a2):
    x = front(inputs[0], dims[0])
    nd = x.ndim - 1
    return (apply(_one("diagonal"), x, offset=offset, a1=_axis(a1, nd),
                  a2=_axis(a2, nd)),), (0,)


@register("diag_embed")
def _diag_embed(inputs, dims, offset, a1, a2, size):
    x = front(inputs[0], dims[0])
    nd = x.ndim  # the output's logical rank is the input's + 1
    return (apply(_one("diag_embed"), x, offset=offset, a1=_axis(a1, nd),
                  a2=_axis(a2, nd), size=size),), (0,)


@register("pad")
def _pad(inputs, dims, widths, value):
    x = front(inputs[0], dims[0])
    return (apply(_one("pad"), x, widths=((0, 0),) + tuple(widths), value=value),), (0,)


@register("cat")
def _cat(inputs, dims, axis):
    size = batch_size(inputs, dims)
    xs = [at_front(x, d, size) for x, d in zip(inputs, dims)]
    return (apply(_one("cat"), *xs, axis=_axis(axis, xs[0].ndim - 1)),), (0,)


@register("split_copy")
def _split_copy(inputs, dims, axis, sizes, squeeze):
    x = front(inputs[0], dims[0])
    outs = apply(_one("split_copy"), x, axis=_axis(axis, x.ndim - 1), sizes=sizes,
                 squeeze=squeeze)
    return tuple(outs), (0,) * len(outs)


@register("hook_identity")
def _hook_identity(inputs, dims, callback):
    outs = apply(_one("hook_identity"), *inputs, callback=callback)
    return tuple(outs), tuple(dims)


# -- indexing --------------------------------------------------------------------------
def _is_adv(i):
    return isinstance(i, np.ndarray)


def _adv_bdim(index):
    """Where numpy puts the leading batch axis when ``x[(:,) + index]``: first,
    unless the advanced indices are split by a slice (then their broadcast
    dims lead)."""
    idx = (slice(None),) + tuple(index)
    arrays = [i for i in idx if _is_adv(i)]
    if not arrays:
        return 0
    pos = [k for k, i in enumerate(idx) if _is_adv(i) or (
        isinstance(i, (int, np.integer)) and not isinstance(i, bool))]
    if pos == list(range(pos[0], pos[-1] + 1)):
        return 0
    shapes = [(int(np.count_nonzero(a)),) if a.dtype == np.bool_ else a.shape
              for a in arrays]
    return len(np.broadcast_shapes(*shapes))


def _batched_index(index):
    """The physical index (batch axis first) and where the batch lands."""
    if type(index) is Split:
        first = (slice(None),) + tuple(index.first)
        return Split(first, (slice(None),) + tuple(index.second)), _adv_bdim(
            index.second)
    return (slice(None),) + tuple(index), _adv_bdim(index)


def _static(inputs, dims, index, k):
    """The index with its slots filled from the index inputs (``inputs[k:]``),
    which must be unbatched; the data inputs."""
    from ..ops.index import fill

    if any(d is not None for d in dims[k:]):
        from ._batched import VmapError

        raise VmapError("vmap: an index tensor that is batched is supported only "
                        "as x[:, idx] with an integer idx (a batched mask would "
                        "select a different number of elements per example); use "
                        "gather, index_select or torch.where")
    return inputs[:k], dims[:k], fill(index, [a._data for a in inputs[k:]])


@register("getitem")
def _getitem(inputs, dims, index):
    inputs, dims, index = _static(inputs, dims, index, 1)
    x = front(inputs[0], dims[0])
    idx, bd = _batched_index(index)
    return (apply(_one("getitem"), x, index=idx),), (bd,)


@register("index_grad")
def _index_grad(inputs, dims, shape, index):
    inputs, dims, index = _static(inputs, dims, index, 1)
    idx, bd = _batched_index(index)
    g = moveaxis(inputs[0], dims[0], bd)
    return (apply(_one("index_grad"), g, shape=(g.shape[bd],) + tuple(shape),
                  index=idx),), (0,)


@register("index_put")
def _index_put(inputs, dims, index, accumulate):
    inputs, dims, index = _static(inputs, dims, index, 2)
    size = batch_size(inputs, dims)
    x = at_front(inputs[0], dims[0], size)
    idx, bd = _batched_index(index)
    v = inputs[1]
    if dims[1] is not None:
        sel = apply(_one("getitem"), x, index=idx).shape
        v = _pad_after_batch(front(v, dims[1]), len(sel) - 1)
        v = moveaxis(v, 0, bd)
    return (apply(_one("index_put"), x, v, index=idx, accumulate=accumulate),), (0,)


@register("gather")
def _gather(inputs, dims, dim):
    size = batch_size(inputs, dims)
    x, i = (at_front(t, d, size) for t, d in zip(inputs, dims))
    return (apply(_one("gather"), x, i, dim=_axis(dim, x.ndim - 1)),), (0,)


@register("scatter")
def _scatter(inputs, dims, dim, reduce):
    size = batch_size(inputs, dims)
    x, i = (at_front(t, d, size) for t, d in zip(inputs[:2], dims[:2]))
    src, ds = inputs[2], dims[2]
    if ds is not None or src.ndim:
        src = at_front(src, ds, size)
    return (apply(_one("scatter"), x, i, src, dim=_axis(dim, x.ndim - 1),
                  reduce=reduce),), (0,)


@register("one_hot")
def _one_hot(inputs, dims, num_classes):
    return (apply(_one("one_hot"), inputs[0], num_classes=num_classes),), (dims[0],)


@register("nonzero")
def _nonzero(inputs, dims):
    from ._batched import VmapError

    raise VmapError("vmap: nonzero has a data-dependent output shape (the number "
                    "of non-zero elements differs per example), so it cannot be "
                    "batched; use a mask with torch.where instead")


# -- linear algebra --------------------------------------------------------------------
def _lunsq(x, d, pos):
    """Insert a unit axis at logical position ``pos`` (-1: last) of ``x``
    (batch axis ``d`` or None); returns (new x, new d)."""
    nd = x.ndim - (d is not None)
    pos = nd if pos == -1 else pos
    if d is None:
        return _reshape(x, x.shape[:pos] + (1,) + x.shape[pos:]), None
    x = front(x, d)
    return _reshape(x, x.shape[:pos + 1] + (1,) + x.shape[pos + 1:]), 0


def _batch_last_pays(size, m, k):
    """Whether :func:`_outer` beats einsum for ``size`` outer products of
    ``m`` by ``k``: when its inner loop (over the batch) is the longer one
    and the arrays are big enough for that to outweigh its extra dispatches.
    (Measured at batch 8-512: einsum is up to 5x faster at batch 8 of
    100x100, the batch-last product 1.3-1.5x faster at batch 256.)"""
    return size > k and size * m * k >= 1 << 16


def _outer(a, b):
    """Per-example outer products of batch-first ``a`` (B, m) and ``b``
    (B, k), as (m, k, B): batch last.  Both factors are then contiguous rows
    of length B, so the multiply runs one long vector loop per output row,
    where einsum's 'bi,bj->bij' runs a length-k loop per (b, i); the
    transposed copies of the factors are small next to the product."""
    size, m, k = a.shape[0], a.shape[1], b.shape[1]
    clone = _one("clone")
    at = _reshape(apply(clone, _permute(a, (1, 0))), (m, 1, size))
    bt = _reshape(apply(clone, _permute(b, (1, 0))), (1, k, size))
    return apply(_one("mul"), at, bt)


@register("matmul")
def _matmul(inputs, dims):
    (a, da), (b, db) = zip(inputs, dims)
    na, nb = a.ndim - (da is not None), b.ndim - (db is not None)
    if na == 1:
        a, da = _lunsq(a, da, 0)
    if nb == 1:
        b, db = _lunsq(b, db, -1)
    rank = max(a.ndim - (da is not None), b.ndim - (db is not None))
    a = a if da is None else _pad_after_batch(front(a, da), rank)
    b = b if db is None else _pad_after_batch(front(b, db), rank)
    if (a.shape[-1] == 1 and na == nb == 2 and da is not None and db is not None
            and _batch_last_pays(a.shape[0], a.shape[1], b.shape[2])):
        out = _outer(_reshape(a, a.shape[:2]), _reshape(b, b.shape[:1] + b.shape[2:]))
        return (out,), (2,)
    if a.shape[-1] == 1 and a.ndim > 2 and b.ndim > 2:
        # Outer products (per-example weight gradients): NumPy's matmul runs
        # one tiny GEMM per matrix (5x slower), and a broadcast multiply
        # calls its inner loop once per row (at batch 256 of 100x100, 1.6x
        # slower than einsum's outer-product loop).
        lead = "abcdefgh"[:a.ndim - 2]
        out = apply(_one("einsum"), a, b, ins=(lead + "ik", lead + "kj"),
                    out=lead + "ij")
    elif db is None and b.ndim == 2 and a.ndim > 2:
        # Shared matrix: all rows of all examples in one GEMM.
        flat = _reshape(a, (-1, a.shape[-1]))
        out = _reshape(apply(_one("matmul"), flat, b), a.shape[:-1] + b.shape[-1:])
    else:
        out = apply(_one("matmul"), a, b)
    if nb == 1:
        out = _reshape(out, out.shape[:-1])
    if na == 1:
        out = _reshape(out, out.shape[:-2] + out.shape[-1:])
    return (out,), (0,)


@register("linear")
def _linear(inputs, dims):
    if all(d is None for d in dims[1:]):  # shared weights: one big matmul
        x = front(inputs[0], dims[0])
        if x.ndim == 2:
            return (apply(_one("linear"), x, *inputs[1:]),), (0,)
        # (B, N, in): all rows in one GEMM (NumPy would run one per example)
        out = apply(_one("linear"), _reshape(x, (-1, x.shape[-1])), *inputs[1:])
        return (_reshape(out, x.shape[:-1] + out.shape[-1:]),), (0,)
    w, dw = inputs[1], dims[1]
    wt = _permute(w, _swap_last(w.ndim)) if dw is None or dw < w.ndim - 2 else (
        _permute(front(w, dw), _swap_last(w.ndim)))
    dwt = None if dw is None else (dw if dw < w.ndim - 2 else 0)
    (out,), (do,) = _matmul((inputs[0], wt), (dims[0], dwt))
    if len(inputs) > 2:
        (out,), (do,) = RULES["add"]((out, inputs[2]), (do, dims[2]))
    return (out,), (do,)


def _swap_last(n):
    return tuple(range(n - 2)) + (n - 1, n - 2)


@register("einsum")
def _einsum(inputs, dims, ins, out):
    if (len(ins) == 2 and len(ins[0]) == len(ins[1]) == 1 and out == ins[0] + ins[1]
            and ins[0] != ins[1] and None not in dims):  # an outer product
        a, b = front(inputs[0], dims[0]), front(inputs[1], dims[1])
        if _batch_last_pays(a.shape[0], a.shape[1], b.shape[1]):
            return (_outer(a, b),), (2,)
    used = set("".join(ins) + out)
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                  if c not in used)
    xs, subs = [], []
    for x, d, s in zip(inputs, dims, ins):
        if d is None:
            xs.append(x)
            subs.append(s)
        else:
            xs.append(front(x, d))
            subs.append(letter + s)
    return (apply(_one("einsum"), *xs, ins=subs, out=letter + out),), (0,)


def _leading(name):
    """Linear-algebra ops that already map over leading dims."""
    p = _one(name)

    def rule(inputs, dims, **params):
        size = batch_size(inputs, dims)
        xs = [at_front(x, d, size) for x, d in zip(inputs, dims)]
        res = apply(p, *xs, **params)
        res = (res,) if p.n_out == 1 else tuple(res)
        return res, (0,) * len(res)
    return rule


for _n in ("inv", "det", "slogdet", "cholesky", "eigh", "svd"):
    RULES[_n] = _leading(_n)


def _vector_rhs(name):
    """``solve(A, b)``-like ops: a 1-D right-hand side is made a column first,
    since a batched vector looks like a matrix to NumPy."""
    p = _one(name)

    def rule(inputs, dims, **params):
        size = batch_size(inputs, dims)
        a = at_front(inputs[0], dims[0], size)
        b = at_front(inputs[1], dims[1], size)
        vec = b.ndim == 2
        if vec:
            b = _reshape(b, b.shape + (1,))
        out = apply(p, a, b, **params)
        return (_reshape(out, out.shape[:-1]) if vec else out,), (0,)
    return rule


RULES["solve"] = _vector_rhs("solve")
RULES["solve_triangular"] = _leading("solve_triangular")


# -- windows (convolution, pooling): the batch joins the examples' N axis --------------
def _fold_n(x, d, size):
    x = at_front(x, d, size)
    return _reshape(x, (x.shape[0] * x.shape[1],) + x.shape[2:])


def _unfold_n(x, size):
    return _reshape(x, (size, x.shape[0] // size) + x.shape[1:])


def _windowed(name):
    p = _one(name)

    def rule(inputs, dims, **params):
        size = batch_size(inputs, dims)
        xs = [_fold_n(x, d, size) for x, d in zip(inputs, dims)]
        res = apply(p, *xs, **params)
        res = (res,) if p.n_out == 1 else tuple(res)
        return tuple(_unfold_n(r, size) for r in res), (0,) * len(res)
    return rule


for _n in ("unfold", "fold", "max_pool", "adaptive_max_pool_indices", "pool_gather",
           "pool_scatter"):
    RULES[_n] = _windowed(_n)


@register("conv2d")
def _conv2d(inputs, dims, **params):
    if any(d is not None for d in dims[1:]):  # per-example filters
        return fallback(_one("conv2d"), inputs, dims, params,
                        "with batched weights has no batching rule")
    size = batch_size(inputs, dims)
    out, cols = apply(_one("conv2d"), _fold_n(inputs[0], dims[0], size),
                      *inputs[1:], **params)
    # cols: (N*L, K) rows example-major, so the batch splits off the front
    return (_unfold_n(out, size), _reshape(cols, (size, -1) + cols.shape[1:])), (0, 0)


@register("conv2d_backward")
def _conv2d_backward(inputs, dims, bias, **params):
    g, w, cols = inputs
    if dims[1] is not None:
        return fallback(_one("conv2d_backward"), inputs, dims,
                        dict(params, bias=bias), "with batched weights has no "
                        "batching rule")
    size = batch_size(inputs, dims)
    from ..ops.linalg import matmul

    g = at_front(g, dims[0], size)  # (B, N, O, oh, ow)
    cols = at_front(cols, dims[2], size)  # (B, N*L, K)
    n, o = g.shape[1], g.shape[2]
    res = apply(_one("conv2d_backward"), _reshape(g, (size * n,) + g.shape[2:]), w,
                _reshape(cols, (-1, cols.shape[-1])), bias=bias, **params)
    gx = _unfold_n(res[0], size)
    # The filter gradient is per example: cols^T @ g, not summed over the batch.
    g2 = _reshape(_permute(g, (0, 1, 3, 4, 2)), (size, -1, o))
    kh, kw = params["kernel"]
    c = w.shape[1]
    gw = matmul(_permute(cols, (0, 2, 1)), g2)  # (B, K, O), K = (kh, kw, c)
    gw = _permute(_reshape(gw, (size, kh, kw, c, o)), (0, 4, 3, 1, 2))
    outs = (gx, gw)
    if bias:
        outs += (apply(_one("sum"), g, axis=(1, 3, 4), keepdim=False),)
    return outs, (0,) * len(outs)


# -- fused layers and losses -----------------------------------------------------------
@register("layer_norm")
def _layer_norm(inputs, dims, k, eps):
    if any(d is not None for d in dims[1:]):
        return fallback(_one("layer_norm"), inputs, dims, dict(k=k, eps=eps),
                        "with batched weight or bias has no batching rule")
    x = front(inputs[0], dims[0])
    return (apply(_one("layer_norm"), x, *inputs[1:], k=k, eps=eps),), (0,)


@register("layer_norm_backward")
def _layer_norm_backward(inputs, dims, k, eps):
    if len(inputs) > 2:  # weight and bias gradients are sums over the example
        return fallback(_one("layer_norm_backward"), inputs, dims,
                        dict(k=k, eps=eps), "with an affine weight has no "
                        "batching rule")
    size = batch_size(inputs, dims)
    g, x = (at_front(t, d, size) for t, d in zip(inputs, dims))
    res = apply(_one("layer_norm_backward"), g, x, k=k, eps=eps)
    return tuple(res), (0,) * len(res)


@register("lstm_seq")
def _lstm_seq(inputs, dims, reverse):
    if dims[1] is not None:
        return fallback(_one("lstm_seq"), inputs, dims, dict(reverse=reverse),
                        "with batched weights has no batching rule")
    size = batch_size(inputs, dims)
    xg, whh, h0, c0 = inputs
    if xg.ndim - (dims[0] is not None) == 2:
        # unbatched examples (T, 4H), (H,): the batch is the N dim
        xg = moveaxis(at_front(xg, dims[0], size), 0, 1)  # (T, B, 4H)
        h0, c0 = at_front(h0, dims[2], size), at_front(c0, dims[3], size)
        outs = apply(_one("lstm_seq"), xg, whh, h0, c0, reverse=reverse)
        return tuple(outs), tuple(1 if o.ndim == 3 else 0 for o in outs)
    xg = moveaxis(at_front(xg, dims[0], size), 0, 1)  # (T, B, N, 4H)
    t, n = xg.shape[0], xg.shape[2]
    xg = _reshape(xg, (t, size * n, xg.shape[3]))
    h0, c0 = (_fold_n(v, d, size) for v, d in ((h0, dims[2]), (c0, dims[3])))
    outs = apply(_one("lstm_seq"), xg, whh, h0, c0, reverse=reverse)
    res = []
    for i, o in enumerate(outs):
        if o.ndim == 3:  # (T, B*N, .): split the batch out of N
            res.append(_reshape(o, (o.shape[0], size, n, o.shape[2])))
        else:
            res.append(_unfold_n(o, size))
    return tuple(res), tuple(1 if o.ndim == 4 else 0 for o in res)


@register("lstm_seq_backward")
def _lstm_seq_backward(inputs, dims, reverse):
    return fallback(_one("lstm_seq_backward"), inputs, dims, dict(reverse=reverse),
                    "(the per-example weight gradient) has no batching rule")


def _nll_flat(inputs, dims, size):
    logp = at_front(inputs[0], dims[0], size)  # (B, N, C)
    target = at_front(inputs[1], dims[1], size)  # (B, N)
    n = logp.shape[1]
    return (_reshape(logp, (size * n, logp.shape[2])),
            _reshape(target, (size * n,)), n, target)


def _kept(target, ignore_index, dtype):
    """Per example: how many of its targets (``target`` (B, N), or (B,) when
    each example has one) are not ignored -- the 'mean' divisor, shape (B,)."""
    from ..ops import to_dtype
    from ..tensor import Tensor

    ignore = Tensor._make(np.asarray(ignore_index, target._data.dtype))
    keep = apply(_one("ne"), target, ignore)
    if keep.ndim > 1:
        keep = apply(_one("sum"), keep, axis=(1,), keepdim=False)
    return to_dtype(keep, dtype)


# With one target per example (N = 1: a per-example loss on an unsqueezed
# row, the usual per-sample-gradient code) the per-example sums over N are
# reshapes, so they are skipped: each op here is a dispatch on a tiny array.
@register("nll")
def _nll(inputs, dims, ignore_index, reduction, op="nll_loss"):
    size = batch_size(inputs, dims)
    logp, target, n, _ = _nll_flat(inputs, dims, size)
    per = apply(_one("nll"), logp, target, ignore_index=ignore_index,
                reduction="none", op=op)  # (B*N,)
    if reduction == "none":
        return (_reshape(per, (size, n)),), (0,)
    total = per if n == 1 else apply(_one("sum"), _reshape(per, (size, n)),
                                     axis=(1,), keepdim=False)
    if reduction == "mean":
        kept = _kept(target if n == 1 else _reshape(target, (size, n)),
                     ignore_index, total._data.dtype)
        total = apply(_one("div"), total, kept)
    return (total,), (0,)


@register("nll_grad")
def _nll_grad(inputs, dims, classes, ignore_index, reduction, op=None):
    size = batch_size(inputs, dims)
    target = at_front(inputs[1], dims[1], size)  # (B, N)
    n = target.shape[1]
    flat = _reshape(target, (size * n,))
    g, dg = inputs[0], dims[0]
    if reduction == "none":
        g = _reshape(at_front(g, dg, size), (size * n,))
    else:  # a scalar per example (or one for all), spread over its N targets
        if dg is not None:
            g = front(g, dg)  # (B,)
        if reduction == "mean":
            kept = _kept(flat if n == 1 else target, ignore_index, g._data.dtype)
            g = apply(_one("div"), g, kept)  # (B,), also for a shared g
        if g.ndim == 0 or n > 1:
            g = _reshape(g, (1, 1) if g.ndim == 0 else (size, 1))
            g = _reshape(apply(_one("expand"), g, shape=(size, n)), (size * n,))
    out = apply(_one("nll_grad"), g, flat, classes=classes,
                ignore_index=ignore_index, reduction="none", op=op)
    return (_reshape(out, (size, n, classes)),), (0,)


# -- random draws with tensor inputs: elementwise --------------------------------------
RULES["standard_gamma"] = _unary("standard_gamma")
RULES["poisson"] = _unary("poisson")


@register("cumprod_backward")
def _cumprod_backward(inputs, dims, axis):
    size = batch_size(inputs, dims)
    args = [at_front(x, d, size) for x, d in zip(inputs, dims)]
    return (apply(_one("cumprod_backward"), *args,
                  axis=_axes(axis, args[1].ndim - 1)),), (0,)


# -- Gaussian-process kernels ----------------------------------------------------------
def _per_example(name):
    """A rule that runs ``name`` once per example, without a warning: these
    fused GP kernels (a Cholesky factorisation per call, or the kernel
    matrix feeding one) cost O(n^2)-O(n^3) per example, so the loop adds
    little to what a batched kernel would cost."""
    p = _one(name)

    def rule(inputs, dims, **params):
        return loop(p, inputs, dims, params)
    return rule


for _n in ("gaussian_lml", "gaussian_lml_backward", "stationary_kernel",
           "stationary_kernel_backward", "add_to_diagonal"):
    RULES[_n] = _per_example(_n)
