"""Indexing primitives: ``getitem``, ``index_put`` (setitem), ``gather``,
``scatter``/``scatter_add``, and the composites built on them (index_select,
masked_fill, take_along_dim, one_hot, ...).

An index is normalised once (Tensors become ndarrays, bounds are checked
with PyTorch-style messages) and then travels as a primitive parameter --
except the arrays of integer or boolean index *Tensors*: those are inputs of
the primitive (after the data inputs), and the parameter holds a
:class:`Slot` in their place, so a tracer sees a mask computed from values
as the value it is, not as a constant baked into a parameter.
"""
import numpy as np

from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError, fmt_shape
from ..tensor import Tensor
from . import _abstract
from ._core import apply, primitive
from ._util import calling_op, dim1, int_arg, lift, t_
from .reduce import sum_to
from .shape import expand, reshape


# -- index normalisation ----------------------------------------------------------
def _is_advanced(idx):
    if type(idx) is Split:
        return True
    return any(isinstance(i, np.ndarray) for i in idx)


class Split:
    """An index applied in two steps: ``a[first][second]``.

    PyTorch applies integer indices first (each selects and removes a dim) and
    only then the tensor indices; NumPy counts an integer among the advanced
    indices when arrays are present, which moves result dims around
    (``x[1, :, [0, 3]]`` has shape (3, 2) in PyTorch, (2, 3) in NumPy).
    ``first`` holds the basic part (a view), ``second`` the advanced part.
    """

    __slots__ = ("first", "second")

    def __init__(self, first, second):
        self.first, self.second = first, second

    def __repr__(self):
        return f"Split({self.first!r}, {self.second!r})"


def _torch_order(idx):
    """``idx``, or a :class:`Split` of it when ints meet tensor indices."""
    ints = any(isinstance(i, (int, np.integer)) for i in idx)
    arrays = [i for i in idx if isinstance(i, np.ndarray)]
    if not ints or not arrays or any(a.ndim == 0 for a in arrays):
        return idx
    first, second = [], []
    for i in idx:
        if isinstance(i, np.ndarray):
            k = i.ndim if i.dtype == np.bool_ else 1
            first += [slice(None)] * k
            second.append(i)
        elif isinstance(i, (int, np.integer)):
            first.append(i)
        elif i is None or isinstance(i, slice):
            first.append(i)
            second.append(slice(None))
        else:  # Ellipsis
            first.append(i)
            second.append(i)
    return Split(tuple(first), tuple(second))


class Slot:
    """The place of an index array that is input ``k`` among a primitive's
    trailing index inputs (see :func:`fill`)."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k

    def __eq__(self, other):
        return type(other) is Slot and other.k == self.k

    def __hash__(self):
        return hash((Slot, self.k))

    def __repr__(self):
        return f"Slot({self.k})"


def fill(index, arrays):
    """``index`` with each :class:`Slot` replaced by its array in ``arrays``."""
    if not arrays:
        return index
    if type(index) is Split:
        return Split(fill(index.first, arrays), fill(index.second, arrays))
    return tuple([arrays[i.k] if i.__class__ is Slot else i for i in index])


def _sub(part, by_id, ins):
    out = list(part)
    for j, i in enumerate(out):
        if i.__class__ is np.ndarray:
            t = by_id.get(id(i))
            if t is not None:
                out[j] = Slot(len(ins))
                ins.append(t)
    return tuple(out)


_SLOT0 = Slot(0)


def slots(index, tensors):
    """A normalised ``index`` whose arrays taken from the index Tensors
    ``tensors`` become :class:`Slot` s, and those Tensors in slot order."""
    if not tensors:
        return index, ()
    if len(tensors) == 1 and type(index) is tuple:  # x[i], x[:, i]: the common case
        a = tensors[0]._data
        out = [_SLOT0 if i is a else i for i in index]
        for i in out:
            if i is _SLOT0:  # (`a in index` would compare arrays by value)
                return tuple(out), tensors
        return index, ()  # a 0-d integer tensor became an int
    by_id = {id(t._data): t for t in tensors}
    ins = []
    if type(index) is Split:
        index = Split(_sub(index.first, by_id, ins), _sub(index.second, by_id, ins))
    else:
        index = _sub(index, by_id, ins)
    return index, ins


def static_index(params, arrays):
    """``params`` with the index's slots filled from the arrays (ndarrays or
    Tensors): the parameter-only form of a call, for rules that read the
    index (batching, autobatch, export)."""
    arrays = [a._data if isinstance(a, Tensor) else a for a in arrays]
    return {**params, "index": fill(params["index"], arrays)}


class _From:
    """``saves`` for a primitive whose index inputs (from ``k`` on) its vjp
    reads."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k

    def __contains__(self, i):
        return i >= self.k


def _take(a, index):
    """``a[index]`` for a normalised index (a tuple or a :class:`Split`)."""
    if type(index) is Split:
        return a[index.first][index.second]
    return a[index]


def _put(out, index, v, accumulate, check=True):
    """``out[index] = v`` (``+=`` with repeats summed if ``accumulate``)."""
    if type(index) is Split:
        out, index = out[index.first], index.second  # a view: writes reach out
    if check and np.ndim(v) and (np.size(v) == 0 or any(
            isinstance(i, np.ndarray) and i.dtype == np.bool_ for i in index)):
        # NumPy takes any value with as many elements as a mask has Trues, and
        # any empty value for an empty selection; PyTorch wants the value to
        # broadcast to the selection (NumPy checks that in the other cases).
        sel = out[index].shape
        vs = np.shape(v)
        while len(vs) > len(sel) and vs[0] == 1:  # leading 1s go, as in PyTorch
            vs = vs[1:]
        try:
            ok = np.broadcast_shapes(vs, sel) == sel
        except ValueError:
            ok = False
        if not ok:
            raise ShapeError(f"{calling_op('index_put')}: shape mismatch: value of "
                             f"shape {fmt_shape(np.shape(v))} cannot be broadcast to "
                             f"the indexing result of shape {fmt_shape(sel)}")
    if accumulate:
        np.add.at(out, index, v)
    else:
        out[index] = v


def normalize_index(x, index, op="index"):
    """A tuple NumPy understands, with Tensors and lists turned into arrays."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, Tensor):
            i = i._data
            if i.dtype.kind == "f":
                raise IndexOutOfRange(
                    f"{op}: tensors used as indices must be long, int or bool "
                    f"tensors, got {i.dtype}")
        elif isinstance(i, (list, range)):
            i = np.asarray(i)
            if i.dtype.kind == "f" or (i.size == 0 and i.dtype.kind == "f"):
                i = i.astype(np.int64)
        elif isinstance(i, (bool, np.bool_)):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
            i = int(i)  # a 0-d integer tensor selects, like an int (PyTorch)
        elif not (i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer,
                                                                np.ndarray))):
            raise IndexOutOfRange(
                f"{op}: only integers, slices (`:`), ellipsis (`...`), None and "
                f"long or bool tensors are valid indices (got {type(i).__name__})")
        out.append(i)
    _check_bounds(x.shape, out, op)
    _check_broadcast(out, op)
    return _torch_order(tuple(out))


def _check_broadcast(idx, op):
    """Tensor indices must broadcast together (a k-d mask counts as k vectors of
    its number of True entries)."""
    arrays = [i for i in idx if i.__class__ is np.ndarray]
    if len(arrays) <= 1:  # nothing to broadcast against (a k-d mask's k vectors
        return  # all have its count of True values)
    shapes = []
    for i in arrays:
        shapes += ([(int(np.count_nonzero(i)),)] * i.ndim if i.dtype == np.bool_
                   else [i.shape])
    if len(shapes) > 1:
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise IndexOutOfRange(
                f"{op}: shape mismatch: indexing tensors could not be broadcast "
                f"together with shapes {', '.join(fmt_shape(s) for s in shapes)}"
            ) from None


def _position(idx, item):
    """``idx.index(item)`` by identity (``==`` on an array index is elementwise)."""
    return next(k for k, j in enumerate(idx) if j is item)


def _check_bounds(shape, idx, op):
    """PyTorch's checks, in its order: the number of indices, then each index
    from left to right (bounds of ints, steps of slices, shapes of masks)."""
    n_consumed = n_ellipsis = 0
    for i in idx:  # one pass: this runs on every indexing call
        if isinstance(i, np.ndarray):
            n_consumed += i.ndim if i.dtype == np.bool_ else 1
        elif i is Ellipsis:
            n_ellipsis += 1
        elif i is not None:  # an int or a slice
            n_consumed += 1
    if n_ellipsis > 1:
        raise IndexOutOfRange(f"{op}: an index can only have a single ellipsis "
                              "('...')")
    if n_consumed > len(shape):
        raise IndexOutOfRange(
            f"{op}: too many indices for tensor of dimension {len(shape)} (got "
            f"{n_consumed}; shape {fmt_shape(shape)})")
    d = 0
    for i in idx:
        if i is Ellipsis:
            d = len(shape) - sum(
                1 if not isinstance(j, np.ndarray) or j.dtype != np.bool_ else j.ndim
                for j in idx[_position(idx, Ellipsis) + 1:] if j is not None)
            continue
        if i is None:
            continue
        if isinstance(i, slice) and i.step is not None and i.step <= 0:
            raise ArgumentError(f"{op}: step must be greater than zero, got {i.step}")
        if isinstance(i, np.ndarray) and i.dtype == np.bool_:
            if i.ndim and i.shape != tuple(shape[d:d + i.ndim]):
                raise IndexOutOfRange(
                    f"{op}: the shape of the mask {fmt_shape(i.shape)} at index {d} "
                    f"does not match the shape of the indexed tensor "
                    f"{fmt_shape(shape[d:d + i.ndim])}")
            d += i.ndim
            continue
        if i.__class__ is int:  # the common case, without NumPy
            n = shape[d]
            if not -n <= i < n:
                raise IndexOutOfRange(
                    f"{op}: index {i} is out of bounds for dimension {d} with size "
                    f"{n} (tensor shape {fmt_shape(shape)}); valid indices are "
                    f"{-n} to {n - 1}")
        elif isinstance(i, (int, np.integer)) or isinstance(i, np.ndarray):
            n = shape[d]
            arr = np.asarray(i)
            if arr.size and (arr.max() >= n or arr.min() < -n):
                bad = arr.max() if arr.max() >= n else arr.min()
                raise IndexOutOfRange(
                    f"{op}: index {bad} is out of bounds for dimension {d} with size "
                    f"{n} (tensor shape {fmt_shape(shape)}); valid indices are "
                    f"{-n} to {n - 1}")
        d += 1


# -- getitem --------------------------------------------------------------------------
def _getitem_fwd(x, *arrays, index):
    return _take(x, fill(index, arrays) if arrays else index)


getitem_p = primitive(
    "getitem", _getitem_fwd,
    vjp=lambda n, g: (apply(index_grad_p, g, *n.inputs[1:], shape=n.metas[0][0],
                            index=n.params["index"]),),
    jvp=lambda c, t: apply(getitem_p, t[0], *c.inputs[1:], index=c.params["index"]),
    saves=_From(1), view=True,
    kind="index", abstract=_abstract.getitem_aval, params=("index",),
)
"""``getitem(x, *index_arrays, index)``: ``x[index]``, slots filled."""


def _index_grad_fwd(g, *arrays, shape, index):
    index = fill(index, arrays)
    out = np.zeros(shape, g.dtype)
    # g is the selection's; repeated indices sum (np.add.at, slow), but an
    # increasing index has no repeats, so plain assignment does
    _put(out, index, g, _is_advanced(index) and not _increasing(index), check=False)
    return out


def _increasing(index):
    """Is ``index`` one strictly increasing non-negative integer array (rows
    picked in order, each once)?"""
    if type(index) is Split or len(index) != 1:
        return False
    i = index[0]
    return (isinstance(i, np.ndarray) and i.ndim == 1 and i.dtype.kind in "iu"
            and (i.size < 2 or bool(i[0] >= 0 and (i[1:] > i[:-1]).all())))


index_grad_p = primitive(
    "index_grad", _index_grad_fwd,
    vjp=lambda n, g: (apply(getitem_p, g, *n.inputs[1:], index=n.params["index"]),),
    jvp=lambda c, t: apply(index_grad_p, t[0], *c.inputs[1:], **c.params),
    saves=_From(1),
    kind="index", abstract=_abstract.index_grad_aval, params=("shape", "index"),
)


def getitem(input, index):
    """``input[index]`` with PyTorch's indexing rules (views for basic indices)."""
    x = t_(input)
    tup = index if isinstance(index, tuple) else (index,)
    tensors = None
    for i in tup:
        if isinstance(i, Tensor):
            if i._data.__class__ is not np.ndarray:
                # an index whose values are not at hand (batched under vmap)
                return _take_along(x, tup, [j for j, i in enumerate(tup)
                                            if isinstance(i, Tensor)
                                            and i._data.__class__ is not np.ndarray])
            tensors = [i] if tensors is None else tensors + [i]
    idx = normalize_index(x, index, "index")
    if tensors is None:
        return apply(getitem_p, x, index=idx)
    idx, ins = slots(idx, tensors)
    return apply(getitem_p, x, *ins, index=idx)


def _take_along(x, tup, pos):
    """``x[:, ..., idx]`` for an integer tensor ``idx`` whose values cannot be
    read here (a batched index inside vmap): a ``gather`` along its dim, with
    negative indices wrapped.  Full slices elsewhere only."""
    from .elementwise import add, lt, where

    d = pos[0]
    if len(pos) > 1 or any(not (isinstance(i, slice) and i == slice(None))
                           for j, i in enumerate(tup) if j != d) or d >= x.ndim:
        raise IndexOutOfRange(
            f"{calling_op('index')}: indexing with a batched tensor (inside vmap) "
            "supports one integer tensor index with full slices before it, "
            "x[:, idx]; use gather or index_select for other patterns")
    idx = tup[d]
    if idx._data.dtype.kind not in "iu":
        raise IndexOutOfRange(f"{calling_op('index')}: tensors used as indices must "
                              f"be long or int tensors, got {idx._data.dtype}")
    flat = reshape(idx, (-1,))
    flat = where(lt(flat, 0), add(flat, x.shape[d]), flat)  # -1 is the last
    k, rest = flat.shape[0], x.ndim - d - 1
    spread = expand(reshape(flat, (1,) * d + (k,) + (1,) * rest),
                    x.shape[:d] + (k,) + x.shape[d + 1:])
    out = apply(gather_p, x, spread, dim=d)
    return reshape(out, x.shape[:d] + idx.shape + x.shape[d + 1:])


# -- index_put (setitem) ---------------------------------------------------------------
def _index_put_fwd(x, v, *arrays, index, accumulate):
    out = x.copy()
    _put(out, fill(index, arrays), v, accumulate)
    return out


def _index_put_vjp(n, g):
    index, acc = n.params["index"], n.params["accumulate"]
    arrays = n.inputs[2:]
    gx = gv = None
    if n.needs[0]:
        zero = Tensor._make(np.zeros((), g._data.dtype))
        gx = g if acc else apply(index_put_p, g, zero, *arrays, index=index,
                                 accumulate=False)
    if n.needs[1]:
        gv = sum_to(apply(getitem_p, g, *arrays, index=index), n.metas[1][0])
    return gx, gv


def _index_put_jvp(c, t):
    tx, tv = t[:2]
    x, v = c.inputs[:2]
    if tx is None:
        tx = Tensor._make(np.zeros(x.shape, x._data.dtype))
    if tv is None:
        tv = Tensor._make(np.zeros(v.shape, v._data.dtype))
    return apply(index_put_p, tx, tv, *c.inputs[2:], **c.params)


index_put_p = primitive("index_put", _index_put_fwd, vjp=_index_put_vjp,
                        jvp=_index_put_jvp, saves=_From(2), kind="index",
                        abstract=_abstract.first_aval, params=("index", "accumulate"))
"""``index_put(x, v, *index_arrays, index, accumulate)``."""


def index_tensors(index):
    """The Tensors among the entries of an index (those become inputs)."""
    if isinstance(index, Tensor):
        return [index]
    if isinstance(index, tuple):
        return [i for i in index if isinstance(i, Tensor)]
    return []


def index_put(input, indices, values, accumulate=False):
    """Out-of-place ``input[indices] = values`` (or ``+=`` with accumulate)."""
    x = t_(input)
    v = lift(t_(values), x._data.dtype)
    idx, ins = slots(normalize_index(x, indices, "index_put"), index_tensors(indices))
    return apply(index_put_p, x, v, *ins, index=idx, accumulate=bool(accumulate))


# -- index range checks on every call ------------------------------------------------
def _index_in_range_fwd(t, n, ignore, msg):
    bad = (t < 0) | (t >= n)
    if ignore is not None:
        bad &= t != ignore
    if bad.any():
        raise IndexOutOfRange(msg.format(v=int(t[bad].reshape(-1)[0])))
    return t


index_in_range_p = primitive(
    "index_in_range", _index_in_range_fwd, view=True, kind="other",
    abstract=lambda t, n, ignore, msg: (t,),
    params=("n", "ignore", "msg"))
"""Passes integer indices through after checking ``0 <= t < n`` (entries
equal to ``ignore`` excepted); ``msg`` (with ``{v}``, the first bad index)
is the error.  The check is a kernel, so it runs on every call, replayed
or compiled alike."""


def index_in_range(t, n, msg, ignore=None):
    """``t`` itself, checked on the table: ``0 <= t < n`` or ``t == ignore``."""
    return apply(index_in_range_p, t, n=int(n), ignore=ignore, msg=msg)


# -- gather / scatter ------------------------------------------------------------------
def _full_index(index, dim):
    """Advanced index that addresses ``index`` entries along ``dim``."""
    grids = list(np.ogrid[tuple(slice(0, s) for s in index.shape)])
    grids[dim] = index
    return tuple(grids)


def _gather_fwd(x, index, dim):
    return x[_full_index(index, dim)]


gather_p = primitive(
    "gather", _gather_fwd,
    vjp=lambda n, g: (scatter_add(Tensor._make(np.zeros(n.metas[0][0], g._data.dtype)),
                                  n.params["dim"], n.inputs[1], g), None),
    jvp=lambda c, t: apply(gather_p, t[0], c.inputs[1], dim=c.params["dim"]),
    saves=(1,),
    kind="index", abstract=_abstract.gather_aval, params=("dim",),
)


def _scatter_fwd(x, index, src, dim, reduce):
    out = x.copy()
    fi = _full_index(index, dim)
    src = src[tuple(slice(0, s) for s in index.shape)] if src.ndim else src
    if reduce == "add":
        np.add.at(out, fi, src)
    else:
        out[fi] = src
    return out


def _scatter_vjp(n, g):
    index, dim, red = n.inputs[1], n.params["dim"], n.params["reduce"]
    gx = gs = None
    if n.needs[0]:
        gx = g if red == "add" else scatter(g, dim, index, 0.0)
    if n.needs[2]:
        gs = apply(gather_p, g, index, dim=dim)
        if gs.shape != n.metas[2][0]:
            from ..ops.shape import pad as _pad

            widths = []
            for s_src, s_idx in zip(reversed(n.metas[2][0]), reversed(index.shape)):
                widths += [0, s_src - s_idx]
            gs = _pad(gs, widths)
    return gx, None, gs


scatter_p = primitive(
    "scatter", _scatter_fwd, vjp=_scatter_vjp,
    jvp=lambda c, t: apply(
        scatter_p,
        t[0] if t[0] is not None else Tensor._make(np.zeros(c.inputs[0].shape,
                                                            c.inputs[0]._data.dtype)),
        c.inputs[1],
        t[2] if t[2] is not None else Tensor._make(np.zeros(c.inputs[2].shape,
                                                            c.inputs[2]._data.dtype)),
        **c.params),
    saves=(1,),
    kind="index", abstract=_abstract.first_aval, params=("dim", "reduce"),
)


def _int_index(index, op, vector=False):
    """``index`` must be an integer tensor (a vector or a scalar if ``vector``)."""
    if not isinstance(index, Tensor):
        raise DTypeError(f"{calling_op(op)}: index must be an int64 tensor, got "
                         f"{type(index).__name__}")
    if vector and index.ndim > 1:
        raise IndexOutOfRange(f"{calling_op(op)}: index is supposed to be a vector "
                              f"(or a scalar), got shape {fmt_shape(index.shape)}")
    if index._data.dtype.kind not in "iu":  # (PyTorch: IndexError or RuntimeError)
        raise IndexOutOfRange(f"{calling_op(op)}: index must be an int64 tensor, got "
                              f"{index._data.dtype}")
    return index


def _check_index_tensor(x, index, dim, op, src=None):
    _int_index(index, op)
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise ShapeError(f"{calling_op(op)}: index tensor must have the same number of "
                         f"dimensions as input tensor (index {fmt_shape(index.shape)}, "
                         f"input {fmt_shape(x.shape)})")
    for d in range(index.ndim):
        if d != dim and index.shape[d] > x.shape[d]:
            raise ShapeError(f"{calling_op(op)}: size does not match at dimension {d}: "
                             f"expected index {fmt_shape(index.shape)} to be no larger "
                             f"than input {fmt_shape(x.shape)} apart from dimension "
                             f"{dim}")
    _check_range(index._data, x.shape, dim, op, 0)


def _check_range(a, shape, dim, op, lo):
    """Index values must lie in [lo, n) along ``dim`` (lo is -n or 0)."""
    if a.__class__ is not np.ndarray:  # values not at hand (batched, inside vmap)
        return
    n = shape[dim] if shape else 1
    lo = -n if lo else 0
    if a.size and (a.min() < lo or a.max() >= n):
        bad = a.max() if a.max() >= n else a.min()
        raise IndexOutOfRange(f"{calling_op(op)}: index {bad} is out of bounds for "
                              f"dimension {dim} with size {n} (input shape "
                              f"{fmt_shape(shape)}); valid indices are {lo} to {n - 1}")


def _fill_value(value, op):
    """A fill value: a Python number or a 0-d tensor."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise ShapeError(f"{calling_op(op)}: only supports a 0-dimensional value "
                             f"tensor, but got one with {value.ndim} dimension(s)")
    elif not isinstance(value, (int, float, np.number)):
        raise DTypeError(f"{calling_op(op)}: value must be a number or a 0-d tensor, "
                         f"got {type(value).__name__}")
    return value


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` (for dim 0), like PyTorch's gather."""
    x = t_(input)
    d = dim1(int_arg(dim, "dim", "gather"), x.ndim, "gather")
    _check_index_tensor(x, index, d, "gather")
    if x.ndim == 0:  # every index is 0: x, shaped like the index
        return expand(x, index.shape).clone()
    return apply(gather_p, x, index, dim=d)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Out-of-place scatter: write ``src`` (or ``value``) at ``index`` along ``dim``."""
    x = t_(input)
    if src is None:
        src = _fill_value(value, "scatter")
    if not isinstance(src, Tensor):
        src = Tensor._make(np.asarray(_fill_value(src, "scatter"), x._data.dtype))
    d = dim1(int_arg(dim, "dim", "scatter"), x.ndim, "scatter")
    _check_index_tensor(x, index, d, "scatter")
    if src._data.dtype != x._data.dtype:
        raise DTypeError(f"{calling_op('scatter')}: expected src's dtype "
                         f"{src._data.dtype} to equal the input's {x._data.dtype}")
    src = lift(src, x._data.dtype)
    red = {None: None, "add": "add", "sum": "add"}.get(reduce, "bad")
    if red == "bad":
        raise ArgumentError(f"{calling_op('scatter')}: reduce must be None or 'add', "
                            f"got {reduce!r}")
    return apply(scatter_p, x, index, src, dim=d, reduce=red)


def scatter_add(input, dim, index, src):
    """Out-of-place scatter that adds ``src`` at ``index`` along ``dim``."""
    return scatter(input, dim, index, src, reduce="add")


def take_along_dim(input, indices, dim=None):
    """Pick values along ``dim`` at ``indices`` (shapes broadcast elsewhere)."""
    x = t_(input)
    if dim is not None:
        d = dim1(int_arg(dim, "dim", "take_along_dim"), x.ndim, "take_along_dim")
        if x.ndim == 0:
            raise IndexOutOfRange("take_along_dim: dimension specified as 0 but the "
                                  "tensor has no dimensions")
    _int_index(indices, "take_along_dim")
    if dim is None:
        x, indices, d = reshape(x, (-1,)), reshape(indices, (-1,)), 0
    # Unlike gather, take_along_dim along a dim accepts negative indices: wrap them
    # (PyTorch; not for the flattened input).
    a = indices._data
    _check_range(a, x.shape, d, "take_along_dim", dim is not None)
    if a.size:  # on the table (a replay wraps the indices it is given)
        from .elementwise import where  # elementwise is beside index, not below

        indices = where(indices < 0, indices + x.shape[d], indices)
    if dim is None:
        return gather(x, 0, indices)
    if indices.ndim != x.ndim:
        raise ShapeError(f"take_along_dim: input and indices should have the same "
                         f"number of dimensions, but got {x.ndim} and {indices.ndim}")
    shp_x, shp_i = list(x.shape), list(indices.shape)
    for k in range(x.ndim):
        if k != d:
            m = max(shp_x[k], shp_i[k])
            shp_x[k] = shp_i[k] = m
    x = expand(x, tuple(shp_x))
    indices = expand(indices, tuple(shp_i))
    return gather(x, d, indices)


def index_select(input, dim, index):
    """The entries of ``input`` at the 1-d ``index`` along ``dim``."""
    x = t_(input)
    d = dim1(int_arg(dim, "dim", "index_select"), x.ndim, "index_select")
    _int_index(index, "index_select", vector=True)
    if x.ndim == 0:
        if index._data.size != 1:
            raise ArgumentError(f"index_select: the index into a 0-d tensor must have "
                                f"exactly 1 value, got {index._data.size}")
        _check_range(index._data, (), 0, "index_select", 0)
        return x.clone()
    _check_range(index._data, x.shape, d, "index_select", 0)
    if index.ndim == 0:
        index = reshape(index, (1,))
    return getitem(x, (slice(None),) * d + (index,))


def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` is True (mask broadcasts)."""
    from .elementwise import where

    x = t_(input)
    mask = t_(mask)
    _fill_value(value, "masked_fill")
    if mask._data.dtype != np.bool_:
        raise DTypeError(f"{calling_op('masked_fill')}: expected a bool mask, got "
                         f"{mask._data.dtype}")
    return where(mask, lift(value, x._data.dtype), x)


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` (broadcast) is True, 1-d."""
    from .shape import broadcast_shapes

    x, m = t_(input), t_(mask)
    if m._data.dtype != np.bool_:
        raise DTypeError(f"masked_select: expected a bool mask, got {m._data.dtype}")
    shape = broadcast_shapes(x.shape, m.shape)
    return getitem(expand(x, shape), expand(m, shape))


def _index_dim(x, dim, index, op):
    """The normalised ``dim`` and the vector ``index`` of index_add/index_fill."""
    d = dim1(int_arg(dim, "dim", op), x.ndim, op)
    _int_index(index, op, vector=True)
    return d


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` slices added at ``index`` along ``dim``."""
    x = t_(input)
    if not isinstance(alpha, (int, float, np.number)):
        raise DTypeError(f"index_add: alpha must be a number, got {alpha!r}")
    d = _index_dim(x, dim, index, "index_add")
    src = t_(source)
    if src._data.dtype != x._data.dtype:
        raise DTypeError(f"index_add: input ({x._data.dtype}) and source "
                         f"({src._data.dtype}) must have the same dtype")
    want = x.shape[:d] + (index._data.size,) + x.shape[d + 1:] if x.ndim else ()
    if src.ndim == 0 and x.ndim:  # (PyTorch: the source has no dim d)
        raise IndexOutOfRange(f"index_add: source must have shape {fmt_shape(want)}, "
                              "got a 0-d tensor")
    if src.shape != want:
        raise ShapeError(f"index_add: source must have shape {fmt_shape(want)} (the "
                         f"input's, with {index._data.size} indices along dim {d}), "
                         f"got {fmt_shape(src.shape)}")
    _check_range(index._data, x.shape, d, "index_add", 0)
    src = src if alpha == 1 else src * alpha
    if x.ndim == 0:  # one slot: index 0
        return x + src
    return index_put(x, (slice(None),) * d + (index.reshape(-1),), src,
                     accumulate=True)


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    x = t_(input)
    _fill_value(value, "index_fill")
    d = _index_dim(x, dim, index, "index_fill")
    _check_range(index._data, x.shape, d, "index_fill", -1)
    if x.ndim == 0:  # one slot: index 0 (or -1)
        return index_put(x.reshape(1), (index.reshape(-1),), value).reshape(())
    return index_put(x, (slice(None),) * d + (index.reshape(-1),), value)


nonzero_p = primitive("nonzero", lambda x: np.argwhere(x).astype(np.int64), saves=(),
                      kind="index", abstract=_abstract.nonzero_aval, params=())


def nonzero(input, *, as_tuple=False):
    """Indices of non-zero elements: an (n, ndim) tensor, or a tuple of columns."""
    x = t_(input)
    idx = apply(nonzero_p, x)
    if as_tuple:
        if x.ndim == 0:
            return (Tensor._make(np.zeros(int(bool(x._data)), np.int64)),)
        return tuple(Tensor._make(np.ascontiguousarray(idx._data[:, i]))
                     for i in range(x.ndim))
    return idx


def argwhere(input):
    return nonzero(input)


def _one_hot_fwd(x, num_classes):
    out = np.zeros(x.shape + (num_classes,), np.int64)
    np.put_along_axis(out, x[..., None], 1, axis=-1)
    return out


one_hot_p = primitive("one_hot", _one_hot_fwd, saves=(), kind="index",
                      abstract=_abstract.one_hot_aval, params=("num_classes",))


def one_hot(tensor, num_classes=-1):
    """Integer class indices -> an int64 one-hot encoding in a new last dim."""
    x = t_(tensor)
    num_classes = int_arg(num_classes, "num_classes", "one_hot")
    if x._data.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: is only applicable to index tensors (int64), got "
                         f"{x._data.dtype}")
    if x._data.size and x._data.min() < 0:
        raise ArgumentError("one_hot: class values must be non-negative")
    if num_classes <= 0 and not x._data.size or num_classes == -1:
        if not x._data.size:
            raise ArgumentError("one_hot: cannot infer the number of classes from an "
                                "empty tensor; pass num_classes")
        num_classes = int(x._data.max()) + 1
    elif x._data.size and x._data.max() >= num_classes:
        raise ArgumentError(f"one_hot: class values must be smaller than num_classes "
                            f"({num_classes}); got {int(x._data.max())}")
    return apply(one_hot_p, x, num_classes=int(num_classes))


from ._util import public_names as _public  # noqa: E402

# index_in_range is the losses' target check, not a torch op: not exported.
# Not ops: the losses' range check and the helpers that move index arrays
# between a primitive's params and its inputs (used by the interpreters).
_INTERNAL = {"index_in_range", "fill", "index_tensors", "slots", "static_index"}
__all__ = [n for n in _public(globals()) if n not in _INTERNAL]
