"""Op rows: indexing (``x[idx]`` and ``x[idx] = v``), gather/scatter and friends."""
import numpy as np

from tests.op_db_base import Const, Op

M = [((3, 4),)]
T3 = [((2, 3, 4),)]
_MASK34 = Const([[True, False, True, False], [False, False, True, True],
                 [True, True, False, False]])
_I = np.int64


def _get(name, index, samples=M):
    """``x[index]``; ``index`` is built from the Const arguments after x."""
    return Op(f"getitem.{name}", lambda m, x, *c: x[index(*c)], samples)


def _set(name, index, samples):
    """``y = x.clone(); y[index] = v``: gradients reach x (outside the selection)
    and v."""
    def fn(m, x, v, *c):
        y = x.clone()
        y[index(*c)] = v
        return y

    return Op(f"setitem.{name}", fn, samples)


GETITEM = [
    _get("int", lambda: 1),
    _get("negint", lambda: -1, T3),
    _get("ints", lambda: (0, -2)),
    _get("ints3", lambda: (1, 0, 3), T3),
    _get("slice", lambda: (slice(None), slice(1, 3))),
    _get("step", lambda: slice(None, None, 2), [((5, 2),)]),
    _get("steps", lambda: (slice(1, None, 2), slice(None, None, 3)), [((5, 7),)]),
    _get("negslice", lambda: (slice(None), slice(-3, -1))),
    _get("empty", lambda: slice(5, None)),
    _get("none", lambda: None, M + [((),)]),
    _get("none_mixed", lambda: (slice(None), None, slice(1, None))),
    _get("ellipsis", lambda: (Ellipsis, 1), T3),
    _get("ellipsis_none", lambda: (1, Ellipsis, None), T3),
    _get("ellipsis_only", lambda: Ellipsis, M + [((),)]),
    _get("list", lambda: [0, 2]),
    _get("list_neg", lambda: [-1, 0, -1]),
    _get("list_slice", lambda: ([0, 2], slice(1, None))),
    _get("slice_list_repeat", lambda: (slice(None), [1, 0, 1, 1])),
    _get("tensor", lambda i: i, [((3, 4), Const([2, 0]))]),
    _get("tensor_int32", lambda i: i, [((3, 4), Const(np.array([2, 0], np.int32)))]),
    _get("tensor2d", lambda i: i, [((3, 4), Const([[0, 1], [2, 2]]))]),
    _get("tensor0d", lambda i: i, [((3, 4), Const(np.array(1)))]),
    _get("pair_lists", lambda: ([0, 1, 2], [1, 2, 1])),
    _get("pair_tensors", lambda i, j: (i, j),
         [((3, 4), Const([[0], [2]]), Const([1, 3, 0]))]),
    _get("advanced_split", lambda: ([0, 1], slice(None), [3, 2]), T3),
    _get("advanced_middle", lambda: (slice(None), [2, 0], [1, 1]), T3),
    _get("advanced_int", lambda: (1, slice(None), [0, 3]), T3),
    _get("advanced_int_tensor0d", lambda i: (i, slice(None), [0, 3]),
         [((2, 3, 4), Const(np.array(1)))]),
    _get("advanced_int_between", lambda: ([0, 1], 1, [3, 2]), T3),
    _get("advanced_int_mask", lambda k: (slice(None), 1, k),
         [((2, 3, 4), Const([True, False, True, True]))]),
    _get("advanced_none_int", lambda: (None, [0, 1], 1), T3),
    _get("mask", lambda k: k, [((3, 4), _MASK34)]),
    _get("mask_rows", lambda k: k, [((3, 4), Const([True, False, True]))]),
    _get("mask_cols", lambda k: (slice(None), k),
         [((3, 4), Const([False, True, True, False]))]),
    _get("mask_3d_lead", lambda k: k, [((3, 4, 2), _MASK34)]),
    Op("getitem.mask_from_values", lambda m, x: x[x > 0], M),
]

SETITEM = [
    _set("int", lambda: 1, [((3, 4), (4,)), ((3, 4), ())]),
    _set("slice", lambda: (slice(None), slice(1, 3)), [((3, 4), (3, 2)),
                                                       ((3, 4), (2,))]),
    _set("step", lambda: slice(None, None, 2), [((5, 2), (3, 2)), ((5, 2), (1,))]),
    _set("ellipsis", lambda: (Ellipsis, 0), [((2, 3, 4), (2, 3))]),
    _set("none", lambda: (None, 1, slice(None, None, 2)), [((3, 4), (1, 2))]),
    _set("ellipsis_list", lambda: (Ellipsis, [2, 0]), [((2, 3, 4), (2, 3, 2))]),
    _set("list", lambda: [0, 2], [((3, 4), (2, 4)), ((3, 4), (4,))]),
    _set("tensor", lambda i: (slice(None), i), [((3, 4), (3, 2), Const([3, 1]))]),
    _set("mask", lambda k: k, [((3, 4), (), _MASK34)]),
    _set("int_list", lambda: (1, [0, 3]), [((3, 4), (2,))]),
    _set("int_slice_list", lambda: (1, slice(None), [0, 3]), [((2, 3, 4), (3, 2))]),
    _set("int_tensor0d", lambda i: (i, slice(None), [0, 3]),
         [((2, 3, 4), (3, 2), Const(np.array(1)))]),
    _set("mask_rows", lambda k: k, [((3, 4), (4,), Const([True, False, True]))]),
    Op("setitem.scalar", lambda m, x: _assign(x.clone(), x > 0, 0.0), M),
    Op("setitem.into_constant",
       lambda m, v: _assign(m.zeros(3, 4, dtype=v.dtype), (1, slice(1, 3)), v),
       [((2,),), ((),)]),
    Op("setitem.through_view", lambda m, x, v: _assign_view(x.clone(), v),
       [((3, 4), (2,))]),
    Op("setitem.iadd", lambda m, x, v: _add_at(x.clone(), v), [((3, 4), (2, 4)),
                                                               ((3, 4), (4,))]),
]


def _assign(y, index, v):
    y[index] = v
    return y


def _add_at(y, v):
    y[[0, 2]] += v  # getitem, add, setitem
    y[:, 1] *= 2
    return y


def _assign_view(y, v):
    row = y[1]
    row[1:3] = v  # writes into y through the view
    return y


_G1 = Const(np.array([[0, 3], [1, 1], [2, 0]], _I))  # gather along dim 1 of (3, 4)
_G0 = Const(np.array([[0, 1, 2, 0], [2, 2, 1, 0]], _I))  # along dim 0
_S1 = Const(np.array([[0, 3], [1, 2], [3, 0]], _I))  # unique within each row
_DUP = Const(np.array([[0, 0], [1, 3], [2, 2]], _I))  # repeats: scatter_add sums

GATHER_SCATTER = [
    Op("gather", lambda m, x, i: m.gather(x, 1, i), [((3, 4), _G1)]),
    Op("gather.dim0", lambda m, x, i: x.gather(0, i), [((3, 4), _G0)]),
    Op("gather.negdim", lambda m, x, i: m.gather(x, -1, i), [((3, 4), _G1)]),
    Op("gather.1d", lambda m, x, i: m.gather(x, 0, i), [((5,), Const([4, 0, 4]))]),
    Op("scatter", lambda m, x, i, s: m.scatter(x, 1, i, s), [((3, 4), _S1, (3, 2))]),
    Op("scatter.dim0", lambda m, x, i, s: x.scatter(0, i, s),
       [((3, 4), Const([[0, 1, 2, 0]]), (1, 4))]),
    # src larger than index: torch's own backward rejects it, so only values are
    # compared; finite differences check the gradient.
    Op("scatter.bigger_src", lambda m, x, i, s: m.scatter(x, 1, i, s),
       [((3, 4), _S1, (3, 3)), ((3, 4), Const([[3, 1, 0, 2]]), (2, 5))], grad=False),
    Op("scatter.value", lambda m, x, i: x.scatter(1, i, 2.5), [((3, 4), _S1)]),
    Op("scatter_add", lambda m, x, i, s: m.scatter_add(x, 1, i, s),
       [((3, 4), _DUP, (3, 2))]),
    Op("scatter_add.method", lambda m, x, i, s: x.scatter_add(0, i, s),
       [((3, 4), _G0, (2, 4))]),
    Op("scatter.reduce_add", lambda m, x, i, s: m.scatter(x, 1, i, s, reduce="add"),
       [((3, 4), _DUP, (3, 2))], ref=lambda m, x, i, s: m.scatter_add(x, 1, i, s)),
    Op("index_select", lambda m, x, i: m.index_select(x, 1, i),
       [((3, 4), Const([2, 0, 2])), ((3, 4), Const(np.array(3)))]),
    Op("index_select.dim0", lambda m, x, i: x.index_select(0, i),
       [((3, 4), Const([1])), ((2, 3, 4), Const([1, 1, 0]))]),
    Op("masked_fill", lambda m, x, k: x.masked_fill(k, 0.5),
       [((3, 4), _MASK34), ((3, 4), Const([True, False, False, True]))]),
    Op("masked_fill.tensor_value", lambda m, x, v, k: m.masked_fill(x, k, v),
       [((3, 4), (), _MASK34)]),
    Op("masked_select", lambda m, x, k: m.masked_select(x, k),
       [((3, 4), _MASK34), ((3, 4), Const([True, False, False, True]))]),
    Op("take_along_dim", lambda m, x, i: m.take_along_dim(x, i, 1),
       [((3, 4), _G1), ((3, 4), Const([[3, 0]]))]),
    Op("take_along_dim.flat", lambda m, x, i: m.take_along_dim(x, i),
       [((3, 4), Const([11, 0, 5]))]),
    Op("index_add", lambda m, x, s, i: x.index_add(0, i, s, alpha=2),
       [((3, 4), (2, 4), Const([2, 0]))]),
    Op("index_fill", lambda m, x, i: m.index_fill(x, 1, i, -1.0),
       [((3, 4), Const([0, 2]))]),
    Op("index_put", lambda m, x, v, i: m.index_put(x, (i,), v),
       [((3, 4), (2, 4), Const([2, 0]))]),
    Op("index_put.accumulate", lambda m, x, v, i: x.index_put((i,), v, accumulate=True),
       [((3, 4), (3, 4), Const([2, 0, 2]))]),
]

_NZ = [(Const([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]),), (Const([True, False, True]),),
       (Const(np.zeros((2, 0))),), (Const(3),), (Const(np.zeros((2, 2), _I)),)]

NONDIFF = [
    Op("nonzero", lambda m, x: m.nonzero(x), _NZ, dtypes=(None,), grad=False,
       fd=False),
    Op("nonzero.as_tuple", lambda m, x: x.nonzero(as_tuple=True), _NZ[:3],
       dtypes=(None,), grad=False, fd=False),
    Op("where.cond_only", lambda m, x: m.where(x), _NZ[:2], dtypes=(None,),
       grad=False, fd=False),
    Op("one_hot", lambda m, x: m.nn.functional.one_hot(x, 4),
       [(Const([0, 2, 1, 3]),), (Const([[1, 0], [3, 3]]),), (Const(np.array(2)),)],
       dtypes=(None,), grad=False, fd=False),
    Op("one_hot.infer", lambda m, x: m.nn.functional.one_hot(x),
       [(Const([0, 2, 1]),), (Const([[1], [4]]),)], dtypes=(None,), grad=False,
       fd=False),
]

ROWS = GETITEM + SETITEM + GATHER_SCATTER + NONDIFF
