"""In-place ops: ``x.add_(y)``, ``x[idx] = v`` and friends.

An in-place op is its out-of-place twin followed by writing the result into
the tensor's storage.  When gradients are being recorded, the tensor takes
the new node as its ``grad_fn`` (the old history stays reachable through
it); when the tensor is a view, its base is updated through an index map so
that gradients reach the base's history too, as in PyTorch.

Every write into a tensor's array is one call of the ``store`` primitive
(destination, source, optional index), so interpreters see it: a tracer or
the record-and-replay test can reproduce a training step from its primitive
calls alone.
"""
import numpy as np

from .._tape import _state
from ..errors import AutogradError, ChainruleError, DTypeError, ShapeError, fmt_shape
from ..tensor import Tensor
from ._core import apply, cast_like_result, primitive
from ._util import lift, t_
from .index import _put, _take, fill, index_put, index_tensors, normalize_index, slots


# -- the store primitive ---------------------------------------------------------------
def _store_fwd(dst, src, *arrays, index=None, op="store"):
    """Write ``src`` into ``dst`` (or ``dst[index]``, a normalised index whose
    slots take ``arrays``) in place; returns ``dst``.  ``src`` broadcasts;
    casting is unsafe (the caller checked the dtypes with PyTorch's rule)."""
    if not dst.flags.writeable:
        raise AutogradError(f"{op}: cannot write into this tensor in place (the "
                            "destination is read-only); expanded tensors are "
                            "read-only, use .clone() first")
    if index is None:
        try:
            np.copyto(dst, src, casting="unsafe")
        except ValueError as e:
            raise ShapeError(f"{op}: cannot write a value of shape "
                             f"{fmt_shape(src.shape)} into a tensor of shape "
                             f"{fmt_shape(dst.shape)} ({e})") from None
        return dst
    index = fill(index, arrays)
    v = src if src.ndim else src[()]  # a 0-d value assigns like a number
    try:
        _put(dst, index, v, False)
    except ChainruleError:
        raise
    except ValueError as e:
        raise ShapeError(f"{op}: cannot assign a value of shape "
                         f"{fmt_shape(src.shape)} to the selection of shape "
                         f"{fmt_shape(_take(dst, index).shape)} ({e})") from None
    except TypeError as e:
        raise DTypeError(f"{op}: {e}") from None
    return dst


def _store_aval(dst, src, *arrays, index=None, op="store"):
    return (dst,)


store_p = primitive("store", _store_fwd, mutates=(0,), kind="other",
                    params=("index", "op"),
                    abstract=_store_aval)
"""``store(dst, src, *index_arrays, index=None)``: the one way data is
written into an existing array (in-place ops, ``x[i] = v``, fills, ``copy_``).  Not
differentiable: autograd records the out-of-place twin instead."""


def store(dst, src, index=None, op="store", arrays=()):
    """Write Tensor ``src`` into Tensor ``dst`` (at ``index``, whose slots take
    the Tensors ``arrays``); bumps ``dst``'s version counter.  Returns ``dst``."""
    if index is None:
        apply(store_p, dst, src, op=op)
    else:
        apply(store_p, dst, src, *arrays, index=index, op=op)
    return dst


def _leaf_check(x, name):
    base = x._base if x._base is not None else x
    if _state.grad and base._rg and base.grad_fn is None:
        what = "a leaf Variable" if base is x else "a view of a leaf Variable"
        raise AutogradError(
            f"{name}: {what} that requires grad (shape {fmt_shape(base.shape)}) is "
            "being used in an in-place operation; wrap it in `with "
            "chainrule.no_grad():` (as optimizers do) or use an out-of-place op")


def inplace(x, fn, name):
    """Apply ``fn`` (an out-of-place op on one tensor) to ``x`` in place."""
    _leaf_check(x, name)
    alias = Tensor._make(x._data, x._rg, x.grad_fn, x._oi)
    alias._fw = x._fw  # forward-mode tangents flow through in-place ops too
    res = fn(alias)
    if res._data.shape != x._data.shape:
        from ..errors import ShapeError

        raise ShapeError(f"{name}: output with shape {fmt_shape(x.shape)} doesn't "
                         f"match the broadcast shape {fmt_shape(res.shape)}; an "
                         "in-place op cannot change the tensor's shape")
    cast_like_result(res, x, name)
    if res._data.dtype != x._data.dtype:
        res = lift(res, x._data.dtype)
    tracked = res._rg or x._rg or (x._base is not None and x._base._rg)
    # Writing through a view must update the base's forward-mode tangents too.
    fw_view = x._base is not None and (res._fw or x._fw or x._base._fw)
    if not (_state.grad and tracked) and not fw_view:
        _write(x, res._data, name)
        _take_tangents(x, res)
        return x
    node = res.grad_fn
    if node is not None and any(t is alias for t in node.inputs):
        alias._data = alias._data.copy()  # the node needs x's old values
    if x._base is None:
        _write(x, res._data, name)
        # A constant result (fill_, copy_ of data) cuts x from its history.
        x.grad_fn, x._oi, x._rg = res.grad_fn, res._oi, res._rg
        _take_tangents(x, res)
    else:
        _rebase_view(x, res, name)
    return x


set_data_p = primitive("set_data", lambda dst, src: src, kind="other",
                       abstract=lambda dst, src: (src,), params=())
"""``t.data = value``: ``t`` takes ``value``'s storage (no copy, as in
PyTorch).  The output is ``value``'s array; an interpreter sees which tensor
now holds it."""


def set_data(t, value):
    """``t.data = value``: rebind ``t`` to ``value``'s array through the table."""
    t._data = apply(set_data_p, t, value)._data


def _write(x, data, name):
    """Store array ``data`` into ``x`` (a ``store`` call, which bumps x's
    version counter)."""
    if data is x._data:
        x._vc[0] += 1  # already there: nothing to write, but x counts as written
        return
    if not isinstance(x._data, np.ndarray):  # a batched value inside vmap
        raise AutogradError(f"{name}: cannot write in place into a batched Tensor "
                            "inside vmap (in-place writes are not batched); use the "
                            "out-of-place op")
    apply(store_p, x, Tensor._make(data), op=name)


def _view_index(x):
    """Flat indices into the base of the elements ``x`` views, shaped like x."""
    from .creation import arange
    from .shape import reshape

    base = x._base
    idx = reshape(arange(base._data.size), base._data.shape)
    for prim, params in x._view:
        idx = apply(prim, idx, **params)  # the view's own primitives, replayed
    return idx


def _rebase_view(x, res, name):
    from .index import getitem, index_put
    from .shape import reshape

    base = x._base
    idx = reshape(_view_index(x), (-1,))
    base_alias = Tensor._make(base._data, base._rg, base.grad_fn, base._oi)
    base_alias._fw = base._fw
    flat = index_put(reshape(base_alias, (-1,)), (idx,), reshape(res, (-1,)))
    new_base = reshape(flat, base.shape)
    _write(base, new_base._data, name)  # also bumps x's shared version counter
    base.grad_fn, base._oi, base._rg = new_base.grad_fn, new_base._oi, new_base._rg
    _take_tangents(base, new_base)
    again = reshape(getitem(reshape(base, (-1,)), (idx,)), x.shape)
    x.grad_fn, x._oi, x._rg = again.grad_fn, again._oi, again._rg
    _take_tangents(x, again)


def _take_tangents(x, res):
    """``x`` now holds ``res``'s values: give it ``res``'s forward-mode tangents."""
    if x._fw or res._fw:
        # tangents exist only while forward mode (autograd/, above ops/) is on
        from ..autograd.forward_ad import take_tangents

        take_tangents(x, res)


def setitem(x, index, value):
    """``x[index] = value``: recorded for autograd when it matters."""
    if not isinstance(value, (Tensor, int, float, np.number, np.ndarray, list, tuple)):
        raise DTypeError(f"setitem: can't assign a {type(value).__name__} to a "
                         f"{x.dtype.name} tensor; assign a Tensor or a number")
    if isinstance(value, Tensor):
        v_rg = value._rg
    else:
        v_rg = False
    fw = _state.stack and _state.forward_ad and (
        x._fw or isinstance(value, Tensor) and value._fw)
    if (not _state.grad or not (x._rg or v_rg)) and not fw:
        idx, ins = slots(normalize_index(x, index, "setitem"), index_tensors(index))
        if isinstance(value, Tensor):
            v = value
        else:
            try:
                v = Tensor._make(np.asarray(value))
            except (ValueError, TypeError) as e:
                raise DTypeError(f"setitem: can't assign {value!r:.40} to a "
                                 f"{x.dtype.name} tensor ({e})") from None
        store(x, v, idx, "setitem", ins)
        return
    val = value if isinstance(value, Tensor) else Tensor._make(
        np.asarray(value, x._data.dtype))
    inplace(x, lambda a: index_put(a, index, val), "setitem")


def fill_(x, value):
    """Fill with ``value`` (a number or a 0-d tensor)."""
    from .creation import full_like
    from .shape import expand

    if isinstance(value, Tensor) and value.ndim:
        raise ShapeError(f"fill_: only supports a 0-dimensional value tensor, but got "
                         f"one with {value.ndim} dimension(s)")
    if not isinstance(value, (Tensor, int, float, np.number)):
        raise DTypeError(f"fill_: value must be a number or a 0-d tensor, got "
                         f"{type(value).__name__}")
    if isinstance(value, Tensor):  # read on the table, not as a host number
        return inplace(x, lambda a: expand(lift(value, a._data.dtype), a.shape),
                       "fill_")
    return inplace(x, lambda a: full_like(a, value), "fill_")


def zero_(x):
    """Fill with zeros."""
    return fill_(x, 0)


def copy_(x, src):
    """Copy ``src`` (broadcast to x's shape, cast to x's dtype) into x."""
    from .shape import expand

    src = t_(src)
    return inplace(x, lambda a: lift(expand(src, a.shape), a._data.dtype), "copy_")
