"""Shape primitives and the composites built on them.

Primitives: ``reshape``, ``expand``, ``permute``, ``cat``, ``flip``,
``roll``, ``pad``, ``tril``/``triu``, ``diagonal`` and ``diag_embed``.
Views (reshape, permute, basic slicing) share memory and a version counter
with their base, as in PyTorch.
"""
import builtins
import math

import numpy as np

from .._dtype import DType
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError, fmt_shape
from ..tensor import Tensor
from . import _abstract
from ._core import apply, primitive
from ._core import _expand_aval, _permute_aval, _reshape_aval, _same_aval
from ._util import calling_op, dim1, dims, int_arg, pair, shape_arg, t_
from .reduce import sum, sum_to


def _zeros(shape, dtype):
    return Tensor._make(np.zeros(shape, dtype))


# -- reshape -------------------------------------------------------------------------
reshape_p = primitive(
    "reshape", lambda x, shape: x.reshape(shape),
    vjp=lambda n, g: (reshape(g, n.metas[0][0]),),
    jvp=lambda c, t: reshape(t[0], c.params["shape"]),
    saves=(), view=True,
    kind="movement", abstract=_reshape_aval, params=("shape",),
)


def _infer_shape(shape, numel, op, src=None):
    """``shape`` with its -1 filled in for ``numel`` elements (input shape ``src``)."""
    shape = list(shape)
    if -1 not in shape and min(shape, default=0) >= 0 and math.prod(shape) == numel:
        return tuple(shape)  # the common case, checked without building messages
    what = f"input of size {numel}" + (
        f" (shape {fmt_shape(src)})" if src is not None else "")
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1 or any(s < -1 for s in shape):
        raise ShapeError(f"{calling_op(op)}: only one dimension can be inferred (-1) "
                         f"and sizes must be >= -1; got shape {fmt_shape(shape)}")
    known = math.prod(s for s in shape if s != -1)
    if neg:
        if known == 0 or numel % known:
            raise ShapeError(f"{calling_op(op)}: shape '{fmt_shape(shape)}' is invalid "
                             f"for {what}; the other sizes must multiply to a divisor "
                             f"of {numel} for -1 to fill in")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise ShapeError(f"{calling_op(op)}: shape '{fmt_shape(shape)}' is invalid for "
                         f"{what}; the sizes must multiply to {numel} (one of them may "
                         "be -1)")
    return tuple(shape)


def _sizes_given(sizes, op):
    """``x.reshape()`` with no sizes at all is a missing argument (TypeError)."""
    if not sizes:
        raise DTypeError(f"{op}: missing the sizes, e.g. {op}(2, 3) or {op}((2, 3))")


def reshape(input, *shape):
    """Same elements, new ``shape`` (one size may be -1); a view when possible."""
    x = t_(input)
    _sizes_given(shape, "reshape")
    shape = _infer_shape(shape_arg(shape, "reshape"), x._data.size, "reshape", x.shape)
    if shape == x._data.shape:
        return x
    return apply(reshape_p, x, shape=shape)


def view(input, *shape):
    """Like :func:`reshape`, but refuses when a copy would be needed (as PyTorch)."""
    x = t_(input)
    if len(shape) == 1 and isinstance(shape[0], DType):
        return x.to(shape[0])  # view(dtype) with the same itemsize
    _sizes_given(shape, "view")
    shape = _infer_shape(shape_arg(shape, "view"), x._data.size, "view", x.shape)
    probe = x._data.view()
    try:
        probe.shape = shape
    except AttributeError:
        raise ShapeError(
            f"{calling_op('view')}: view size {fmt_shape(shape)} is not compatible "
            f"with the input's size and stride (shape {fmt_shape(x.shape)}, at least "
            "one dimension spans across two contiguous subspaces); use .reshape(...) "
            "instead"
        ) from None
    if shape == x._data.shape:
        return apply(reshape_p, x, shape=shape)
    return apply(reshape_p, x, shape=shape)


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one."""
    x = t_(input)
    start_dim = int_arg(start_dim, "start_dim", "flatten")
    end_dim = int_arg(end_dim, "end_dim", "flatten")
    s, e = dim1(start_dim, x.ndim, "flatten"), dim1(end_dim, x.ndim, "flatten")
    if x.ndim == 0:
        return reshape(x, (1,))
    if s > e:
        raise ArgumentError("flatten: start_dim cannot come after end_dim")
    sh = x.shape
    return reshape(x, sh[:s] + (math.prod(sh[s:e + 1]),) + sh[e + 1:])


def unflatten(input, dim, sizes):
    """Split ``dim`` into ``sizes`` (one may be -1)."""
    x = t_(input)
    sizes = shape_arg((sizes,), "unflatten")
    d = dim1(int_arg(dim, "dim", "unflatten"), x.ndim, "unflatten")
    if x.ndim == 0:
        raise ShapeError("unflatten: expects at least a 1-dimensional tensor, got a "
                         "0-d tensor")
    if not sizes:
        raise ShapeError("unflatten: sizes must be non-empty")
    sizes = _infer_shape(sizes, x.shape[d], "unflatten")
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])


def squeeze(input, dim=None):
    """Remove size-1 dims (all, one, or a tuple of them)."""
    x = t_(input)
    if x.ndim == 0:
        dims(dim, 0, "squeeze")  # only 0 and -1 are dims of a 0-d tensor
        return x
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        ds = dims(dim, x.ndim, "squeeze")
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in ds and s == 1))
    return reshape(x, shape)


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim`` (in the output's numbering)."""
    x = t_(input)
    d = dim1(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


# -- expand --------------------------------------------------------------------------
expand_p = primitive(
    "expand", lambda x, shape: np.broadcast_to(x, shape),
    vjp=lambda n, g: (sum_to(g, n.metas[0][0]),),
    jvp=lambda c, t: expand(t[0], c.params["shape"]),
    saves=(),
    kind="movement", abstract=_expand_aval, params=("shape",),
)


def expand(input, *sizes):
    """Broadcast to ``sizes`` without copying (-1 keeps a dim)."""
    x = t_(input)
    _sizes_given(sizes, "expand")
    sizes = shape_arg(sizes, "expand")
    if len(sizes) < x.ndim:
        raise ShapeError(
            f"{calling_op('expand')}: the number of sizes provided ({len(sizes)}) "
            f"must be greater or equal to the number of dimensions in the tensor "
            f"({x.ndim})"
        )
    lead = len(sizes) - x.ndim
    shape = []
    for i, s in enumerate(sizes):
        cur = x.shape[i - lead] if i >= lead else None
        if s == -1:
            if cur is None:
                raise ShapeError(f"{calling_op('expand')}: -1 is not allowed in a "
                                 "leading, new dimension")
            s = cur
        elif (cur is not None and cur != s and cur != 1) or s < -1:
            raise ShapeError(
                f"{calling_op('expand')}: the expanded size of the tensor ({s}) must "
                f"match the existing size ({cur}) at non-singleton dimension {i}. "
                f"Target sizes: {fmt_shape(sizes)}. Tensor sizes: {fmt_shape(x.shape)}"
            )
        shape.append(s)
    shape = tuple(shape)
    if shape == x._data.shape:
        return x
    return apply(expand_p, x, shape=shape)


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, shape_arg((shape,), "broadcast_to"))


def broadcast_shapes(*shapes):
    """The shape ``shapes`` broadcast to (each a sequence of ints, or an int)."""
    shapes = [shape_arg((s,), "broadcast_shapes") for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"{calling_op('broadcast_shapes')}: shapes " + ", ".join(
            fmt_shape(s) for s in shapes) + " cannot be broadcast together; sizes "
            "must match or be 1 in each dimension, aligned from the right") from None


def broadcast_tensors(*tensors):
    ts = [t_(t) for t in tensors]
    shape = broadcast_shapes(*[t.shape for t in ts])
    return tuple(expand(t, shape) for t in ts)


# -- permute -------------------------------------------------------------------------
permute_p = primitive(
    "permute", lambda x, axes: np.transpose(x, axes),
    vjp=lambda n, g: (apply(permute_p, g, axes=tuple(np.argsort(n.params["axes"]))),),
    jvp=lambda c, t: apply(permute_p, t[0], axes=c.params["axes"]),
    saves=(), view=True,
    kind="movement", abstract=_permute_aval, params=("axes",),
)


def permute(input, *dims_, dims=None):
    """Reorder dims: ``out.shape[i] = input.shape[dims[i]]``; ``x.permute(2, 0, 1)``
    or ``permute(x, dims=(2, 0, 1))``."""
    x = t_(input)
    if dims is not None:
        dims_ = (dims,)
    _sizes_given(dims_, "permute")
    axes = shape_arg(dims_, "permute")
    if len(axes) != x.ndim:
        raise ShapeError(f"{calling_op('permute')}: number of dims {len(axes)} doesn't "
                         f"match the tensor's number of dims {x.ndim} (shape "
                         f"{fmt_shape(x.shape)})")
    axes = tuple(dim1(a, x.ndim, "permute") for a in axes)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"permute: repeated dim in {dims_}")
    if axes == tuple(range(x.ndim)):
        return x
    return apply(permute_p, x, axes=axes)


def transpose(input, dim0, dim1):
    """Swap two dims."""
    from ._util import dim1 as norm

    x = t_(input)
    dim0, dim1 = int_arg(dim0, "dim0", "transpose"), int_arg(dim1, "dim1", "transpose")
    a, b = norm(dim0, x.ndim, "transpose"), norm(dim1, x.ndim, "transpose")
    if x.ndim == 0:
        return x
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return permute(x, axes)


swapdims = transpose


def swapaxes(input, axis0, axis1):
    """NumPy's name for :func:`transpose`."""
    return transpose(input, axis0, axis1)


def t(input):
    """Transpose a matrix; 0-d and 1-d tensors come back as they are."""
    x = t_(input)
    if x.ndim > 2:
        raise ShapeError(f"t: expects a tensor with <= 2 dimensions, but self is "
                         f"{x.ndim}D (shape {fmt_shape(x.shape)})")
    return x if x.ndim < 2 else transpose(x, 0, 1)


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination``."""
    x = t_(input)
    if isinstance(source, int) != isinstance(destination, int) or not all(
            isinstance(a, (int, list, tuple)) for a in (source, destination)):
        raise DTypeError(f"{calling_op('movedim')}: source and destination must both "
                         f"be ints or both sequences of ints, got {source!r} and "
                         f"{destination!r}")
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ArgumentError("movedim: Invalid source or destination dims: source "
                            f"({src}) and destination ({dst}) must have the same "
                            "number of elements")
    src = [dim1(s, x.ndim, "movedim") for s in src]
    dst = [dim1(d, x.ndim, "movedim") for d in dst]
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise ArgumentError(f"{calling_op('movedim')}: repeated dim in {name} "
                                f"({source if name == 'source' else destination})")
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, order)


moveaxis = movedim


def mT(input):
    """Transpose the last two dims (a 0-d tensor is its own transpose)."""
    x = t_(input)
    if x.ndim == 1:
        raise ShapeError("mT: only supported on matrices or batches of matrices, got "
                         f"a 1-d tensor of shape {fmt_shape(x.shape)}")
    return transpose(x, -2, -1)


# -- cat / stack / split ---------------------------------------------------------------
def _cat_vjp(n, g):
    from .index import getitem_p

    # each input's share of ``g`` is a slice of it; the primitive directly,
    # as the bounds are right by construction (narrow's checks cost more
    # than the slice when a cat has many pieces)
    axis = n.params["axis"]
    lead = (slice(None),) * (axis % g._data.ndim)
    out, start = [], 0
    for need, (shape, _) in zip(n.needs, n.metas):
        size = shape[axis]
        out.append(apply(getitem_p, g, index=lead + (slice(start, start + size),))
                   if need else None)
        start += size
    return tuple(out)


def _cat_jvp(c, t):
    if all(x is None for x in t):
        return None
    return cat([x if x is not None else _zeros(p.shape, p._data.dtype)
                for x, p in zip(t, c.inputs)], c.params["axis"])


cat_p = primitive("cat", lambda *xs, axis: np.concatenate(xs, axis),
                  vjp=_cat_vjp, jvp=_cat_jvp, saves=(),
                  kind="movement", abstract=_abstract.cat_aval, params=("axis",))


def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing ``dim`` (shapes must match elsewhere)."""
    dim = int_arg(dim, "dim", "cat")
    ts = [t_(x) for x in tensors]
    if not ts:
        raise ArgumentError(f"{calling_op('cat')}: expected a non-empty list of "
                            "Tensors")
    if len(ts) > 1:  # the result dtype counts every input, even skipped ones
        dt = ts[0]
        for x in ts[1:]:
            dt = pair(dt, x)[0] if dt._data.dtype != x._data.dtype else dt
        from ._util import lift

        ts = [lift(x, dt._data.dtype) for x in ts]
    # PyTorch skips legacy empty 1-d tensors of shape [0].
    ts = [x for x in ts if not (x.ndim == 1 and x.shape[0] == 0)] or ts[:1]
    ref = ts[0]
    if ref.ndim == 0:
        raise ShapeError(f"{calling_op('cat')}: zero-dimensional tensor (at position "
                         "0) cannot be concatenated")
    d = dim1(dim, ref.ndim, "cat")
    for i, x in enumerate(ts[1:], 1):
        if x.ndim != ref.ndim:
            raise ShapeError(
                f"{calling_op('cat')}: tensors must have the same number of "
                f"dimensions: got {ref.ndim} and {x.ndim} (tensor {i}, shape "
                f"{fmt_shape(x.shape)})")
        for k in range(ref.ndim):
            if k != d and x.shape[k] != ref.shape[k]:
                raise ShapeError(
                    f"{calling_op('cat')}: sizes of tensors must match except in "
                    f"dimension {d}. "
                    f"Expected size {ref.shape[k]} but got size {x.shape[k]} for "
                    f"tensor number {i} in the list (shapes "
                    + ", ".join(fmt_shape(y.shape) for y in ts) + ")")
    if len(ts) == 1:
        return ts[0]
    return apply(cat_p, *ts, axis=d)


concat = cat


def concatenate(tensors, axis=0, out=None):
    """NumPy's name for :func:`cat` (``axis`` is the dim)."""
    return cat(tensors, axis)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new ``dim``."""
    dim = int_arg(dim, "dim", "stack")
    ts = [t_(x) for x in tensors]
    if not ts:
        raise ArgumentError("stack: expected a non-empty list of Tensors")
    d = dim1(dim, ts[0].ndim + 1, "stack")
    for i, x in enumerate(ts[1:], 1):
        if x.shape != ts[0].shape:
            raise ShapeError(
                f"stack: expects each tensor to be equal size, but got "
                f"{fmt_shape(ts[0].shape)} at entry 0 and {fmt_shape(x.shape)} at "
                f"entry {i}")
    return cat([unsqueeze(x, d) for x in ts], d)


def hstack(tensors):
    ts = [t_(x) for x in tensors]
    if not ts:
        raise ArgumentError("hstack: expected a non-empty list of Tensors")
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(x) for x in tensors], 0)


def atleast_2d(x):
    x = t_(x)
    return reshape(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


def narrow(input, dim, start, length):
    """The slice ``start:start+length`` of ``dim`` (a view)."""
    from .index import getitem_p

    x = t_(input)
    dim = int_arg(dim, "dim", "narrow")
    start = int_arg(start, "start", "narrow")
    length = int_arg(length, "length", "narrow")
    if x.ndim == 0:
        raise ShapeError(f"{calling_op('narrow')}: cannot be applied to a 0-d tensor")
    d = dim1(dim, x.ndim, "narrow")
    n = x.shape[d]
    if not -n <= start <= n:
        raise IndexOutOfRange(f"{calling_op('narrow')}: start out of range (expected "
                              f"to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise ArgumentError(f"{calling_op('narrow')}: start ({start}) + length "
                            f"({length}) exceeds dimension size ({n}) of dim {dim}")
    idx = (slice(None),) * d + (slice(start, start + length),)
    # checked above and already in normalize_index's form (plain slices with
    # in-range bounds): straight to the primitive (split calls this per chunk)
    return apply(getitem_p, x, index=idx)


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (the last may be smaller), or into the
    listed ``sections`` sizes."""
    x = t_(tensor)
    d, sizes = _split_plan(x, split_size_or_sections, dim)
    # sizes checked: each chunk straight to the primitive, as narrow does
    from .index import getitem_p

    out, start, lead = [], 0, (slice(None),) * d
    for s in sizes:
        out.append(apply(getitem_p, x, index=lead + (slice(start, start + s),)))
        start += s
    return tuple(out)


def _split_plan(x, split_size_or_sections, dim):
    """``(axis, chunk sizes)`` of :func:`split` on Tensor ``x``, checked."""
    sizes = _split_sizes(split_size_or_sections, "split")
    dim = int_arg(dim, "dim", "split")
    _need_1d(x, "split")
    d = dim1(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(sizes, int):
        s = sizes
        if s < 0 or s == 0 and n:
            raise ArgumentError(f"{calling_op('split')}: split_size must be positive, "
                                f"got {s}")
        sizes = [min(s, n - i) for i in range(0, n, s)] if n else [0]
    else:
        if builtins.sum(sizes) != n or builtins.any(k < 0 for k in sizes):
            raise ShapeError(
                f"{calling_op('split')}: split_with_sizes expects split_sizes to sum "
                f"exactly to {n} (input tensor's size at dimension {d}), but got "
                f"split_sizes={sizes}")
    return d, sizes


def _split_sizes(s, op):
    """A split size (int) or a list of section sizes (ints), else a TypeError."""
    if isinstance(s, (list, tuple)):
        return list(shape_arg((s,), op))
    return int_arg(s, "split_size_or_sections", op)


def _need_1d(x, op):
    if x.ndim == 0:
        raise ShapeError(f"{calling_op(op)}: expects at least a 1-dimensional tensor, "
                         "got a 0-d tensor")


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller)."""
    x = t_(input)
    chunks = int_arg(chunks, "chunks", "chunk")
    dim = int_arg(dim, "dim", "chunk")
    _need_1d(x, "chunk")
    d = dim1(dim, x.ndim, "chunk")
    if chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be positive, got {chunks}")
    size = -(-x.shape[d] // chunks)
    if not x.shape[d]:  # an empty dim gives ``chunks`` empty pieces, as PyTorch
        return tuple(narrow(x, d, 0, 0) for _ in range(chunks))
    return split(x, size, d)


def tensor_split(input, indices_or_sections, dim=0):
    x = t_(input)
    indices_or_sections = _split_sizes(indices_or_sections, "tensor_split")
    dim = int_arg(dim, "dim", "tensor_split")
    _need_1d(x, "tensor_split")
    d = dim1(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise ArgumentError(f"tensor_split: number of sections must be larger "
                                f"than 0, got {k}")
        q, r = divmod(n, k)
        return split(x, [q + 1] * r + [q] * (k - r), d)
    # Pieces x[b[i]:b[i+1]] between the (clamped) indices; they may be empty.
    b = [0] + [builtins.min(i if i >= 0 else builtins.max(i + n, 0), n)
               for i in indices_or_sections] + [n]
    return tuple(narrow(x, d, b[i], builtins.max(0, b[i + 1] - b[i]))
                 for i in range(len(b) - 1))


def unbind(input, dim=0):
    """The slices along ``dim``, as a tuple of tensors with that dim removed."""
    from .index import getitem

    x = t_(input)
    dim = int_arg(dim, "dim", "unbind")
    if x.ndim == 0:
        raise IndexOutOfRange("unbind: dimension specified as 0 but the tensor has no "
                              "dimensions")
    d = dim1(dim, x.ndim, "unbind")
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x.shape[d]))


# -- split into copies: all pieces from one node ---------------------------------------
# ``split``/``unbind`` make one getitem per piece, and each piece's gradient comes
# back full-size, so walking a length-T sequence costs O(T^2) in backward.  Here
# the pieces are outputs of one node whose vjp is a single cat: O(T).  They are
# copies because a multi-output node cannot be tracked as a view.
def _split_copy_fwd(x, axis, sizes, squeeze):
    pieces = np.split(x, np.cumsum(sizes)[:-1], axis)
    if squeeze:
        return tuple(np.squeeze(p, axis).copy() for p in pieces)
    return tuple(p.copy() for p in pieces)


def _split_copy_vjp(n, g):
    axis = n.params["axis"]
    parts = [unsqueeze(x, axis) for x in g] if n.params["squeeze"] else list(g)
    return (apply(cat_p, *parts, axis=axis),)


split_copy_p = primitive(
    "split_copy", _split_copy_fwd, vjp=_split_copy_vjp,
    jvp=lambda c, t: apply(split_copy_p, t[0], **c.params),
    saves=(), n_out=_abstract.split_copy_count,  # one output per size
    kind="movement", abstract=_abstract.split_copy_aval,
    params=("axis", "sizes", "squeeze"),
)


def split_copy(tensor, split_size_or_sections, dim=0):
    """:func:`split` into copies made by one primitive (backward is one cat).

    Use it to walk a long tensor piece by piece, e.g. the time steps of a
    sequence.  Pieces have ``split_size`` along ``dim`` (the last may be
    smaller) or the listed ``sections`` sizes.
    """
    x = t_(tensor)
    s = _split_sizes(split_size_or_sections, "split_copy")
    dim = int_arg(dim, "dim", "split_copy")
    _need_1d(x, "split_copy")
    d = dim1(dim, x.ndim, "split_copy")
    n = x.shape[d]
    if isinstance(s, int):
        if s <= 0:
            raise ArgumentError(f"split_copy: split_size must be positive, got {s}")
        sizes = [min(s, n - i) for i in range(0, n, s)] or [0]
    else:
        sizes = [int(k) for k in s]
        if builtins.sum(sizes) != n or builtins.any(k < 0 for k in sizes):
            raise ShapeError(
                f"split_copy: split sizes must be non-negative and sum exactly to {n} "
                f"(the size of dim {d} of input {fmt_shape(x.shape)}), got {sizes}")
    return apply(split_copy_p, x, axis=d, sizes=tuple(sizes), squeeze=False)


def unbind_copy(input, dim=0):
    """:func:`unbind` into copies made by one primitive (backward is one stack).

    ``(T, B, F) -> T`` tensors of ``(B, F)`` for ``dim=0``.
    """
    x = t_(input)
    dim = int_arg(dim, "dim", "unbind_copy")
    if x.ndim == 0:
        raise IndexOutOfRange("unbind_copy: dimension specified as 0 but the tensor "
                              "has no dimensions")
    d = dim1(dim, x.ndim, "unbind_copy")
    n = x.shape[d]
    if n == 0:
        return ()
    return apply(split_copy_p, x, axis=d, sizes=(1,) * n, squeeze=True)


# -- repeat ----------------------------------------------------------------------------
def repeat(input, *sizes):
    """Tile ``input`` ``sizes[i]`` times along each dim (PyTorch's repeat)."""
    x = t_(input)
    _sizes_given(sizes, "repeat")
    reps = shape_arg(sizes, "repeat")
    if builtins.any(r < 0 for r in reps):
        raise ArgumentError(f"{calling_op('repeat')}: repeats must be non-negative, "
                            f"got {list(reps)}")
    if len(reps) < x.ndim:
        raise ShapeError(
            f"repeat: number of dimensions of repeat dims ({len(reps)}) can not be "
            f"smaller than number of dimensions of tensor ({x.ndim})")
    x = reshape(x, (1,) * (len(reps) - x.ndim) + x.shape)
    # Interleave a broadcast dim before each dim, expand it, then merge.
    inter = []
    big = []
    for r, s in zip(reps, x.shape):
        inter += [1, s]
        big += [r, s]
    y = expand(reshape(x, inter), big)
    return reshape(y, tuple(r * s for r, s in zip(reps, x.shape)))


def tile(input, *dims_, dims=None):
    """Repeat ``input`` along each dim; ``dims`` shorter than ndim is padded
    with leading 1s (``x.tile(2, 1)`` or ``tile(x, (2, 1))``)."""
    x = t_(input)
    dims_ = shape_arg(dims_ if dims is None else (dims,), "tile")
    if len(dims_) < x.ndim:
        dims_ = (1,) * (x.ndim - len(dims_)) + dims_
    return repeat(x, dims_)


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int or a tensor of counts)."""
    from .index import index_select

    x = t_(input)
    if not isinstance(repeats, Tensor):
        repeats = int_arg(repeats, "repeats", "repeat_interleave")
    if dim is None:
        x = reshape(x, (-1,))
        d = 0
    else:
        d = dim1(dim, x.ndim, "repeat_interleave")
        if x.ndim == 0:
            raise IndexOutOfRange(f"repeat_interleave: dimension specified as {dim} "
                                  "but the tensor has no dimensions")
    n = x.shape[d]
    if isinstance(repeats, Tensor):
        if repeats._data.dtype.kind not in "iu" or repeats.ndim > 1:
            raise DTypeError(f"repeat_interleave: repeats must be an int or a 0-d or "
                             f"1-d integer tensor, got {repeats.dtype.name} "
                             f"{fmt_shape(repeats.shape)}")
        r = repeats._data.astype(np.int64)
        if r.ndim == 0:
            r = np.full(n, int(r))
    else:
        r = np.full(n, repeats)
    if np.any(r < 0) or isinstance(repeats, int) and repeats < 0:
        raise ArgumentError("repeat_interleave: repeats must be non-negative")
    if r.shape != (n,):
        raise ShapeError(f"repeat_interleave: repeats must have the same size as "
                         f"input along dim ({n}), got {r.shape[0]}")
    idx = np.repeat(np.arange(n), r)
    return index_select(x, d, Tensor._make(idx))


# -- flip / roll ----------------------------------------------------------------------
flip_p = primitive(
    "flip", lambda x, axes: np.flip(x, axes),
    vjp=lambda n, g: (apply(flip_p, g, axes=n.params["axes"]),),
    jvp=lambda c, t: apply(flip_p, t[0], axes=c.params["axes"]),
    saves=(), view=True,
    kind="movement", abstract=_same_aval, params=("axes",),
)


def flip(input, *dims_, dims=None):
    """Reverse the order of elements along ``dims`` (``x.flip(0, 1)`` or
    ``flip(x, (0, 1))``)."""
    from ._util import dims as norm

    x = t_(input)
    if dims is None:
        dims = dims_[0] if len(dims_) == 1 else dims_
    axes = norm(dims if isinstance(dims, (list, tuple)) else (dims,), x.ndim, "flip")
    return apply(flip_p, x, axes=axes) if axes else x


def fliplr(input):
    """Reverse the columns (dim 1)."""
    x = t_(input)
    if x.ndim < 2:
        raise ShapeError(f"fliplr: input must be >= 2-d, got {fmt_shape(x.shape)}")
    return flip(x, (1,))


def flipud(input):
    """Reverse the rows (dim 0)."""
    x = t_(input)
    if x.ndim < 1:
        raise ShapeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(x, (0,))


roll_p = primitive(
    "roll", lambda x, shifts, axes: np.roll(x, shifts, axes),
    vjp=lambda n, g: (apply(roll_p, g, shifts=tuple(-s for s in n.params["shifts"])
                            if n.params["axes"] is not None else -n.params["shifts"],
                            axes=n.params["axes"]),),
    jvp=lambda c, t: apply(roll_p, t[0], **c.params),
    saves=(),
    kind="movement", abstract=_same_aval, params=("shifts", "axes"),
)


def roll(input, shifts, dims=None):
    """Rotate elements along ``dims`` by ``shifts`` (flattened if dims is None)."""
    x = t_(input)
    sh = shape_arg((shifts,), "roll")  # shifts: ints, like sizes
    ds = None if dims is None else shape_arg((dims,), "roll")
    if not sh:
        raise ArgumentError("roll: shifts required (an int or a non-empty sequence)")
    if ds is None:
        if len(sh) != 1:
            raise ArgumentError(f"roll: without dims, shifts must be one int, got "
                                f"{shifts!r}")
        return reshape(apply(roll_p, reshape(x, (-1,)), shifts=sh[0], axes=None),
                       x.shape)
    if len(sh) != len(ds):
        raise ArgumentError(f"roll: shifts and dims must align: shifts {len(sh)}, "
                            f"dims {len(ds)}")
    ds = tuple(dim1(d, x.ndim, "roll") for d in ds)
    return apply(roll_p, x, shifts=sh, axes=ds)


# -- triangles and diagonals -----------------------------------------------------------
tril_p = primitive(
    "tril", lambda x, k: np.tril(x, k),
    vjp=lambda n, g: (apply(tril_p, g, k=n.params["k"]),),
    jvp=lambda c, t: apply(tril_p, t[0], k=c.params["k"]),
    saves=(),
    kind="movement", abstract=_same_aval, params=("k",),
)
triu_p = primitive(
    "triu", lambda x, k: np.triu(x, k),
    vjp=lambda n, g: (apply(triu_p, g, k=n.params["k"]),),
    jvp=lambda c, t: apply(triu_p, t[0], k=c.params["k"]),
    saves=(),
    kind="movement", abstract=_same_aval, params=("k",),
)


def _need_2d(x, op):
    if x.ndim < 2:
        raise ShapeError(f"{op}: input tensor must have at least 2 dimensions, got "
                         f"shape {fmt_shape(x.shape)}")


def tril(input, diagonal=0):
    """Lower triangle of the last two dims (elements above ``diagonal`` zeroed)."""
    x = t_(input)
    k = int_arg(diagonal, "diagonal", "tril")
    _need_2d(x, "tril")
    return apply(tril_p, x, k=k)


def triu(input, diagonal=0):
    """Upper triangle of the last two dims (elements below ``diagonal`` zeroed)."""
    x = t_(input)
    k = int_arg(diagonal, "diagonal", "triu")
    _need_2d(x, "triu")
    return apply(triu_p, x, k=k)


def _diag_embed_fwd(x, offset, a1, a2, size):
    """Place ``x``'s last dim on the ``offset`` diagonal of new dims a1, a2."""
    lead = x.shape[:-1]
    out = np.zeros(lead + (size, size), x.dtype)
    k = x.shape[-1]
    i = np.arange(k)
    r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
    out[..., r, c] = x
    return np.moveaxis(out, (-2, -1), (a1, a2))


def _diagonal_fwd(x, offset, a1, a2):
    return np.diagonal(x, offset, a1, a2).copy()


diagonal_p = primitive(
    "diagonal", _diagonal_fwd,
    vjp=lambda n, g: (_diag_back(g, n.metas[0][0], n.params),),
    jvp=lambda c, t: apply(diagonal_p, t[0], **c.params),
    saves=(),
    kind="movement", abstract=_abstract.diagonal_aval, params=("offset", "a1", "a2"),
)


def _diag_back(g, in_shape, p):
    a1, a2, off = p["a1"], p["a2"], p["offset"]
    n1, n2 = in_shape[a1], in_shape[a2]
    size = builtins.max(n1, n2) + builtins.abs(off)
    emb = apply(diag_embed_p, g, offset=off, a1=a1, a2=a2, size=size)
    from .index import getitem

    idx = [slice(None)] * len(in_shape)
    idx[a1], idx[a2] = slice(0, n1), slice(0, n2)
    return getitem(emb, tuple(idx))


diag_embed_p = primitive(
    "diag_embed", _diag_embed_fwd,
    vjp=lambda n, g: (_diag_embed_vjp(g, n.params, n.metas[0][0]),),
    jvp=lambda c, t: apply(diag_embed_p, t[0], **c.params),
    saves=(),
    kind="movement", abstract=_abstract.diag_embed_aval,
    params=("offset", "a1", "a2", "size"),
)


def _diag_embed_vjp(g, p, in_shape):
    d = apply(diagonal_p, g, offset=p["offset"], a1=p["a1"], a2=p["a2"])
    return narrow(d, -1, 0, in_shape[-1])


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset`` diagonal of dims (dim1, dim2), appended as the last dim."""
    from ._util import dim1 as _d

    x = t_(input)
    offset = int_arg(offset, "offset", "diagonal")
    dim1, dim2 = int_arg(dim1, "dim1", "diagonal"), int_arg(dim2, "dim2", "diagonal")
    a1, a2 = _d(dim1, x.ndim, "diagonal"), _d(dim2, x.ndim, "diagonal")
    _need_2d(x, "diagonal")
    if a1 == a2:
        raise ArgumentError(f"{calling_op('diagonal')}: dim1 and dim2 cannot be "
                            f"identical, both {dim1}")
    return apply(diagonal_p, x, offset=offset, a1=a1, a2=a2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose ``offset`` diagonal is ``input``'s last dim."""
    x = t_(input)
    nd = x.ndim + 1
    from ._util import dim1 as _d

    offset = int_arg(offset, "offset", "diag_embed")
    dim1 = int_arg(dim1, "dim1", "diag_embed")
    dim2 = int_arg(dim2, "dim2", "diag_embed")
    a1, a2 = _d(dim1, nd, "diag_embed"), _d(dim2, nd, "diag_embed")
    if x.ndim == 0:
        raise ShapeError("diag_embed: expects at least a 1-dimensional tensor, got a "
                         "0-d tensor")
    if a1 == a2:
        raise ArgumentError(f"diag_embed: dim1 and dim2 cannot be identical, both "
                            f"{dim1}")
    size = x.shape[-1] + builtins.abs(offset)
    return apply(diag_embed_p, x, offset=int(offset), a1=a1, a2=a2, size=size)


_diagonal = diagonal


def diag(input, diagonal=0):
    """1-d input: a square matrix with it on a diagonal; 2-d: that diagonal."""
    x = t_(input)
    diagonal = int_arg(diagonal, "diagonal", "diag")
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return _diagonal(x, diagonal, 0, 1)
    raise ShapeError("diag: expected a 1-d or 2-d tensor, got shape "
                     f"{fmt_shape(x.shape)}")


def trace(input):
    """Sum of the main diagonal of a matrix."""
    x = t_(input)
    if x.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, got shape {fmt_shape(x.shape)}")
    return sum(diagonal(x))


# -- copies ----------------------------------------------------------------------------
clone_p = primitive(
    "clone", lambda x: x.copy(),
    vjp=lambda n, g: (g,),
    jvp=lambda c, t: t[0],
    saves=(),
    kind="unary",
)


def clone(input, *, memory_format=None):
    """A copy with its own storage (the gradient passes through)."""
    return apply(clone_p, t_(input))


def contiguous(input, memory_format=None):
    """A C-contiguous tensor (``input`` itself when it already is)."""
    x = t_(input)
    if x._data.flags.c_contiguous:
        return x
    return clone(x)


# -- pad -------------------------------------------------------------------------------
def _pad_fwd(x, widths, value):
    return np.pad(x, widths, mode="constant", constant_values=value)


def _pad_vjp(n, g):
    from .index import getitem

    idx = tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in
                enumerate(n.params["widths"]))
    return (getitem(g, idx),)


pad_p = primitive(
    "pad", _pad_fwd, vjp=_pad_vjp,
    jvp=lambda c, t: apply(pad_p, t[0], widths=c.params["widths"], value=0),
    saves=(),
    kind="movement", abstract=_abstract.pad_aval, params=("widths", "value"),
)


def pad(input, pad, mode="constant", value=None):
    """``nn.functional.pad``: ``pad`` lists (left, right) widths from the last dim
    backwards; negative widths crop.  Modes: constant, reflect, replicate, circular."""
    from .index import getitem, index_select

    x = t_(input)
    pad = shape_arg((pad,), "pad")
    if mode != "constant" and value is not None:
        raise ArgumentError(f"pad: padding mode {mode!r} doesn't take a value "
                            f"argument, got value={value!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ArgumentError(
            f"pad: padding length must be even and at most twice the number of "
            f"dims ({x.ndim}), got {len(pad)}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    # Negative widths crop first.
    for d, ((lo, hi), n) in enumerate(zip(widths, x.shape)):
        if mode == "circular" and (lo > n or hi > n):
            raise ArgumentError(f"pad: circular padding ({lo}, {hi}) would wrap "
                                f"around dimension {d} of size {n} more than once")
        if n + builtins.min(lo, 0) + builtins.min(hi, 0) < 0:
            raise ArgumentError(f"pad: negative padding ({lo}, {hi}) crops more than "
                                f"the size {n} of dimension {d}")
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        idx = tuple(slice(-lo if lo < 0 else 0, s + hi if hi < 0 else s)
                    for (lo, hi), s in zip(widths, x.shape))
        x = getitem(x, idx)
        widths = [(builtins.max(lo, 0), builtins.max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return apply(pad_p, x, widths=tuple(widths),
                     value=0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ArgumentError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                            f"'circular', got {mode!r}")
    for d, (lo, hi) in enumerate(widths):
        if lo == 0 and hi == 0:
            continue
        n = x.shape[d]
        i = np.arange(-lo, n + hi)
        if mode == "reflect":
            if lo >= n or hi >= n:
                raise ArgumentError(f"pad: padding size should be less than the "
                                    f"corresponding input dimension, but got padding "
                                    f"({lo}, {hi}) at dimension {d} of size {n}")
            period = 2 * (n - 1)
            i = np.abs(i) % period if period else np.zeros_like(i)
            i = np.where(i >= n, period - i, i)
        elif mode == "replicate":
            i = np.clip(i, 0, n - 1)
        else:
            i = i % n
        x = index_select(x, d, Tensor._make(i))
    return x


from ._util import public_names as _public  # noqa: E402

__all__ = _public(globals())
