"""The recorder: an interpreter that turns primitive calls into lazy nodes,
and the scheduler that runs them in batched calls.

Recording.  A call with at least one lazy operand becomes a :class:`Node`
whose outputs are :class:`LazyTensor` s shaped by :mod:`._shapes`.  A call on
concrete tensors only runs at once (below this interpreter); when all its
operands are shared -- parameters, or results of such calls, like
``weight.t()`` -- its result is remembered, so the per-example code that
recomputes it for every node costs one call.

Scheduling.  Pending nodes are grouped by ``(depth, signature)``: the same
primitive, parameters and grad mode, lazy operands of the same shape and
dtype, the same shared tensors.  Nodes of one depth never depend on each
other, so each group runs as one batched call (``_rules.rule_for``): time
step t of every sentence, tree nodes at one height in every tree.  A group's
operand is gathered with one slice or index of the batch it comes from (a
``cat`` when it comes from several); results stay in their batch until
someone asks for a single node's value.
"""
from collections import defaultdict

import numpy as np

from .._tape import Interpreter, _state, suspended
from ..errors import ChainruleError, fmt_shape
from ..ops._core import PRIMITIVES, apply
from ..ops.index import static_index
from ..tensor import Tensor
from . import _rules
from ._lazy import LAZY, LazyTensor, LazyValue, Node, become, placeholder
from ._shapes import output_avals

_NEW = object.__new__
_MEMO_KINDS = frozenset({"unary", "binary", "movement", "reduction", "linalg",
                         "compare", "predicate"})


class AutobatchError(ChainruleError, RuntimeError):
    """A value was needed while recording and ``on_value='error'``."""


class Stats:
    """Counts of one run: nodes recorded, batched calls, nodes run one by
    one (no rule), forced evaluations, eager calls while recording, examples
    replayed from a cached trace."""

    def __init__(self):
        self.nodes = self.groups = self.single = self.forced = self.eager = 0
        self.replayed = 0

    def __repr__(self):
        return (f"Stats(nodes={self.nodes}, groups={self.groups}, "
                f"single={self.single}, forced={self.forced}, eager={self.eager}, "
                f"replayed={self.replayed})")


def _freeze(v):
    """A hashable stand-in for a parameter value (grouping and caching key)."""
    c = v.__class__
    if c is slice:  # (the common unhashable value: getitem's index)
        return ("slice", v.start, v.stop, v.step)
    if c is tuple:
        return tuple([_freeze(x) for x in v])
    if c is int or v is None:
        return v
    if isinstance(v, (int, float, str, bool, type(None), np.dtype)):
        return v
    if isinstance(v, (tuple, list)):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    if isinstance(v, np.ndarray):
        return ("nd", v.dtype.str, v.shape, v.tobytes())
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


def _pkey(params):
    """A hashable key for a call's parameters."""
    try:
        key = tuple(params.items())
        hash(key)
        return key
    except TypeError:
        return tuple((k, _freeze(v)) for k, v in params.items())


class Recorder(Interpreter):
    """Records calls on lazy tensors; see the module docstring."""

    def __init__(self, on_value="force", sigs=None):
        if on_value not in ("force", "error"):
            raise ValueError(f"autobatch: on_value must be 'force' or 'error', got "
                             f"{on_value!r}")
        self.on_value = on_value
        self.groups = {}      # (depth, signature id) -> pending nodes, in order
        self.shared = set()   # ids of tensors every node may share (parameters)
        self.canon = {}       # id of a remembered shared result -> its stable key
        self.keep = []        # keeps shared results alive so their ids stay unique
        self.memo = {}
        # signature -> (its id, output avals, outputs with grad, placeholder);
        # signatures name shared tensors by stable keys (:meth:`shared_key`),
        # so a table kept from call to call stays valid (cached traces).
        self.sigs = {} if sigs is None else sigs
        self.stats = Stats()

    # -- recording -------------------------------------------------------------------
    def is_shared(self, t):
        """Is concrete ``t`` the same for every node: a parameter (a leaf that
        requires grad) or a remembered result computed from parameters?"""
        return id(t) in self.shared or (t._rg and t.grad_fn is None)

    def shared_key(self, t):
        """A shared tensor's name in signatures, the same from call to call: a
        parameter's identity and shape; for a remembered result, the call
        that made it (its objects are new at every call)."""
        key = self.canon.get(id(t))
        if key is None:
            d = t._data
            key = (id(t), d.shape, d.dtype)
        return key

    capture = None  # a Capture while an example's trace is written down

    def process(self, prim, inputs, params):
        if self.capture is not None:
            return self._captured(prim, inputs, params)
        k = _INDEXED.get(prim)
        if k is not None and len(inputs) > k and all(
                t.__class__ not in LAZY for t in inputs[k:]):
            # index Tensors at hand: their arrays go back into the index
            params, inputs = static_index(params, inputs[k:]), inputs[:k]
        for t in inputs:
            if t.__class__ in LAZY:
                break
        else:
            if prim is _GETITEM and self.is_shared(inputs[0]):
                idx = params["index"]
                i = idx[0] if len(idx) == 1 else None
                if (isinstance(i, int) and not isinstance(i, bool)) or (
                        isinstance(i, np.ndarray) and i.ndim <= 1
                        and i.dtype.kind in "iu"):
                    return self._take(inputs[0], i, params)
            return self._eager(prim, inputs, params)
        if prim.mutates or prim is _INDEX_PUT:
            raise AutobatchError(
                f"autobatch: {prim.name} writes into a tensor in place; recorded "
                "(lazy) tensors can only be used by out-of-place operations")
        grad = _state.grad
        if prim is _RESHAPE:
            back = _unreshape(inputs[0], params["shape"], grad)
            if back is not None:
                return (back,)
        sig_in, ins, depth, rg = [], [], 0, False
        shared = self.shared
        for t in inputs:
            if t.__class__ in LAZY:
                d = t.__dict__
                node = d["_node"]
                ins.append((node, d["_k"]))
                sig_in.append(d["_aval"])
                if node.val is None and node.depth >= depth:
                    depth = node.depth + 1
                if t._rg:
                    rg = True
                continue
            ins.append(t)
            i = id(t)
            if t._rg:
                rg = True
                sig_in.append(self.shared_key(t) if i in shared or t.grad_fn is None
                              else ("C", t._data.shape, t._data.dtype))
            elif i in shared:
                sig_in.append(self.shared_key(t))
            else:
                sig_in.append(("C", t._data.shape, t._data.dtype))
        # (an index holds slices, unhashable: frozen without trying a hash)
        pkey = () if not params else _pkey(params) if k is None else tuple(
            [(name, _freeze(v)) for name, v in params.items()])
        # One hash of the full signature per call: it maps to a small integer
        # and the outputs' avals, and nodes are grouped by (depth, that int).
        sig = (prim, pkey, grad, tuple(sig_in))
        entry = self.sigs.get(sig)
        if entry is None:
            avals = output_avals(
                prim, [None if i.__class__ is tuple else i for i in ins],
                [i.__class__ is tuple and i[0].avals[i[1]] or
                 (i._data.shape, i._data.dtype) for i in ins], params)
            if avals is None:
                return self._eager(prim, [self._value(t) for t in inputs], params,
                                   forced=True)
            n_grad = len(avals) - prim.residuals if prim.vjp is not None else 0
            # per output: can it require grad (a differentiable float output)?
            diff = tuple(k < n_grad and a[1].kind == "f" for k, a in enumerate(avals))
            entry = self.sigs[sig] = (len(self.sigs), avals, diff,
                                      avals[0][1].kind == "f" and placeholder(avals[0]))
        sid, avals, diff, ph = entry
        depth = depth or 1
        node = Node(prim, params, ins, avals, sig, depth, grad)
        group = self.groups.get((depth, sid))
        if group is None:
            self.groups[(depth, sid)] = [node]
        else:
            group.append(node)
        if len(avals) > 1:
            rg = rg and grad
            return tuple([_lazy(self, node, k, aval, rg and diff[k])
                          for k, aval in enumerate(avals)])
        if ph is False:
            return (_lazy(self, node, 0, avals[0], rg and grad and diff[0]),)
        # the common case inline: one floating-point output
        o = _NEW(LazyTensor)
        d = o.__dict__
        d["_data"] = ph
        d["_node"] = node
        d["_k"] = 0
        d["_aval"] = avals[0]
        d["_rec"] = self
        if rg and grad and diff[0]:
            d["_rg"] = True
        return (o,)

    def _captured(self, prim, inputs, params):
        """:meth:`process`, with the call written into ``self.capture``."""
        capture, self.capture = self.capture, None
        try:
            refs = [capture.ref(t) for t in inputs]
            if prim.mutates:
                capture.ok = False
            outs = self.process(prim, inputs, params)
        finally:
            self.capture = capture
        capture.add(self, prim, params, refs,
                    outs if outs.__class__ is tuple else (outs,))
        return outs

    def _take(self, table, idx, params):
        """``table[idx]`` for a shared table (an embedding lookup): recorded,
        so the lookups of all examples run as one."""
        d = table._data
        aval = (np.shape(idx) + d.shape[1:], d.dtype)
        grad = _state.grad
        sig = ("take", self.shared_key(table), np.ndim(idx), grad)
        node = Node(_GETITEM, params, (table,), (aval,), sig, 1, grad)
        self.groups.setdefault((1, sig), []).append(node)
        return (_lazy(self, node, 0, aval, grad and table._rg),)

    def leaves(self, tensors):
        """Lazy stand-ins for the examples' floating-point tensors, already
        evaluated: those of equal trailing shape are concatenated into one
        batch, so that their rows (time steps) gather with one index."""
        groups = defaultdict(list)
        for t in tensors:
            if t.__class__ is Tensor and t._data.ndim and t._data.dtype.kind == "f":
                groups[(t._data.shape[1:], t._data.dtype)].append(t)
        out = {}
        for ts in groups.values():
            b = ts[0] if len(ts) == 1 else apply(PRIMITIVES["cat"], *ts, axis=0)
            off = 0
            for t in ts:
                n = t._data.shape[0]
                aval = (t._data.shape, t._data.dtype)
                node = Node(None, None, (), (aval,), None, 0, _state.grad)
                node.val = [(b, slice(off, off + n))]
                out[id(t)] = _lazy(self, node, 0, aval, t._rg)
                off += n
        return out

    def _eager(self, prim, inputs, params, forced=False):
        """Run a call on concrete operands now; remember it when all are shared."""
        memo = (not forced and inputs and prim.kind in _MEMO_KINDS
                and all(self.is_shared(t) for t in inputs))
        if memo:
            key = (prim, tuple(map(id, inputs)), tuple(t._vc[0] for t in inputs),
                   _pkey(params), _state.grad)
            hit = self.memo.get(key)
            if hit is not None:
                return hit
        self.stats.eager += 1
        outs = self.evaluate(prim, inputs, params)
        if memo:
            self.memo[key] = outs
            self.keep.append(outs)
            made = (prim, key[3], key[4], tuple([self.shared_key(t) for t in inputs]))
            for k, o in enumerate(outs):
                self.shared.add(id(o))
                self.canon[id(o)] = (made, k)
        return outs

    # -- values ----------------------------------------------------------------------
    def _value(self, t):
        """The concrete value of an operand (evaluating a lazy one)."""
        if t.__class__ in LAZY:
            self.need_value(t, why=False)
        return t

    def need_value(self, lazy, why=True):
        """Called when ``lazy``'s value is read: evaluate or raise."""
        if why and self.on_value == "error":
            shape, dtype = lazy._aval
            raise AutobatchError(
                f"autobatch: the value of a recorded tensor ({dtype} "
                f"{fmt_shape(shape)}, output of {lazy._node.prim.name}) was read "
                "while recording (.item(), bool(), printing, an integer index or "
                "mask...). autobatch lets control flow depend on shapes and "
                "structure, not on values; pass on_value='force' to evaluate at "
                "this point (correct, but less is batched)")
        self.stats.forced += why
        with suspended(lambda i: i is not self):
            if lazy._node.val is None:
                self.run()
            self.materialize([lazy])

    # -- scheduling ------------------------------------------------------------------
    def run(self):
        """Evaluate every pending node, in batched calls."""
        groups, self.groups = self.groups, {}
        if not groups:
            return
        self.stats.nodes += sum(map(len, groups.values()))
        prev = _state.grad
        try:
            # nodes of one depth are independent; the sort is stable, so
            # groups of one depth run in the order they were first recorded
            for gkey in sorted(groups, key=_depth):
                group = groups[gkey]
                _state.grad = group[0].grad
                self._run_group(group)
        finally:
            _state.grad = prev

    def _run_group(self, group):
        n0 = group[0]
        prim, params = n0.prim, n0.params
        if n0.sig[0] == "take":
            return self._run_take(group)
        if prim is _GETITEM or prim is _SPLIT:
            group = [n for n in group if not _view(n)]
            if not group:
                return
            n0 = group[0]
        rule = _rules.rule_for(prim) if len(group) > 1 else None
        if rule is not None:
            ins, dims = [], []
            for j in range(len(n0.inputs)):
                x, d = _gather(group, j)
                ins.append(x)
                dims.append(d)
            if all(d is None for d in dims):
                # every node computes the same thing from the same operands
                self.stats.groups += 1
                outs = apply(prim, *ins, **params)
                outs = (outs,) if prim.n_out == 1 else outs
                val = [(o, None) for o in outs]
                for n in group:
                    n.val = val
                return
            try:
                outs, out_dims = rule(tuple(ins), tuple(dims), **params)
            except NotImplementedError:
                outs = None
            if outs is not None:
                self.stats.groups += 1
                outs = [o if d is None or d == 0 else _rules._front(o, d)
                        for o, d in zip(outs, out_dims)]
                if len(outs) == 1:
                    o = outs[0]
                    if out_dims[0] is None:  # the same value for every node
                        val = [(o, None)]
                        for n in group:
                            n.val = val
                    else:
                        for i, n in enumerate(group):
                            n.val = [(o, i)]
                    return
                for i, n in enumerate(group):
                    n.val = [(o, None if d is None else i)
                             for o, d in zip(outs, out_dims)]
                return
        for n in group:  # one by one
            self.stats.single += 1
            if prim is _CAT and _cat_of_rows(n):
                continue
            ins = [_single(x) for x in n.inputs]
            outs = apply(prim, *ins, **params)
            outs = (outs,) if prim.n_out == 1 else outs
            n.val = [(o, None) for o in outs]

    def _run_take(self, group):
        self.stats.groups += 1
        idx = [n.params["index"][0] for n in group]
        table = group[0].inputs[0]
        b = apply(_GETITEM, table, index=(np.concatenate([np.ravel(i) for i in idx]),))
        off = 0
        for n, i in zip(group, idx):
            if np.ndim(i) == 0:
                n.val = [(b, off)]
                off += 1
            else:
                n.val = [(b, slice(off, off + len(i)))]
                off += len(i)

    def materialize(self, tensors):
        """Give evaluated lazy ``tensors`` their own value (one ``unbind`` per
        batch when several rows of it are wanted)."""
        by_batch = defaultdict(list)
        for t in tensors:
            if t.__class__ not in LAZY:
                continue
            b, row = t._node.val[t._k]
            if row is None:
                become(t, b)
            elif row.__class__ is slice:
                become(t, apply(_GETITEM, b, index=(row,)))
            else:
                by_batch[id(b)].append((b, row, t))
        for items in by_batch.values():
            b = items[0][0]
            if len(items) > 2 and b._data.shape[0] > 1:
                rows = apply(PRIMITIVES["split_copy"], b, axis=0,
                             sizes=(1,) * b._data.shape[0], squeeze=True)
                for _, row, t in items:
                    become(t, rows[row])
            else:
                for _, row, t in items:
                    become(t, apply(PRIMITIVES["getitem"], b, index=(row,)))


_GETITEM = PRIMITIVES["getitem"]
# The indexing primitives, by their number of data inputs (index inputs follow).
_INDEXED = {PRIMITIVES[name]: k for name, k in
            (("getitem", 1), ("index_grad", 1), ("index_put", 2), ("store", 2))}
_SPLIT = PRIMITIVES["split_copy"]
_CAT = PRIMITIVES["cat"]
_SMALL = 8192  # elements: a batch this small is copied whole rather than sliced
_RESHAPE = PRIMITIVES["reshape"]
_INDEX_PUT = PRIMITIVES["index_put"]


def _depth(key):
    return key[0]


def _lazy(rec, node, k, aval, rg):
    """A new lazy tensor for output ``k`` of ``node``."""
    if aval[1].kind == "f":
        o = _NEW(LazyTensor)
        d = o.__dict__
        d["_data"] = placeholder(aval)
    else:
        o = _NEW(LazyValue)
        d = o.__dict__
    d["_node"] = node
    d["_k"] = k
    d["_aval"] = aval
    d["_rec"] = rec
    if rg:
        d["_rg"] = True
    return o


def _unreshape(x, shape, grad):
    """Undoing a pending reshape (``unsqueeze`` after ``squeeze``, as RNN cells
    do on one example's state at every step) needs no node: a new lazy tensor
    for the reshape's own operand.  None when that does not apply."""
    if x.__class__ not in LAZY:
        return None
    node = x._node
    if node.prim is not _RESHAPE or node.val is not None or node.grad != grad:
        return None
    src = node.inputs[0]
    if src.__class__ is not tuple:
        return None
    srcnode, k = src
    aval = srcnode.avals[k]
    if aval[0] != shape or srcnode.grad != grad:
        return None
    return _lazy(x._rec, srcnode, k, aval, x._rg)


def _rowrange(val):
    """``(b, first row, count)`` of a value that is whole rows of ``b``."""
    b, row = val
    if row is None:
        return b, 0, b._data.shape[0] if b._data.ndim else None
    if row.__class__ is slice:
        return b, row.start, row.stop - row.start
    return b, None, None


def _view(node):
    """Give a getitem or split_copy node whose operand is whole rows of a
    batch its value without computing: rows of that batch.  False if the
    index is not a leading integer or unit-step slice."""
    src, k = node.inputs[0] if node.inputs[0].__class__ is tuple else (None, 0)
    if src is None:
        return False
    b, base, n = _rowrange(src.val[k])
    if base is None:
        return False
    p = node.params
    if node.prim is _SPLIT:
        if p["axis"] != 0:
            return False
        vals, off = [], base
        for size in p["sizes"]:
            if p["squeeze"]:
                vals.append((b, off))
            else:
                vals.append((b, slice(off, off + size)))
            off += size
        node.val = vals
        return True
    index = p["index"]
    if len(index) != 1:
        return False
    i = index[0]
    if isinstance(i, (int, np.integer)) and not isinstance(i, bool):
        if not -n <= i < n:
            return False
        node.val = [(b, base + int(i) % n)]
        return True
    if isinstance(i, slice):
        start, stop, step = i.indices(n)
        if step != 1:
            return False
        node.val = [(b, slice(base + start, base + max(start, stop)))]
        return True
    return False


def _cat_of_rows(node):
    """Run a ``cat`` along axis 0 of equal-shaped pending values (a ``stack``
    of one example's time steps) as a reshape of their gather: a few
    gathers from the batches they are rows of, not one per operand.  False
    (nothing done) when that does not apply."""
    ins = node.inputs
    if node.params["axis"] != 0 or len(ins) < 3:
        return False
    aval = None
    for x in ins:
        if x.__class__ is not tuple:
            return False
        a = x[0].avals[x[1]]
        if aval is None:
            aval = a
        elif a != aval:
            return False
    if not aval[0]:
        return False
    x, axis = _gather_entries(list(ins))
    if axis is None:  # one value read again and again: not stacked
        return False
    node.val = [(apply(_RESHAPE, x, shape=node.avals[0][0]), None)]
    return True


def _single(x):
    """One node's operand as a Tensor."""
    if x.__class__ is not tuple:
        return x
    b, row = x[0].val[x[1]]
    return b if row is None else apply(_GETITEM, b, index=(row,))


def _gather(group, j):
    """Operand ``j`` of every node of ``group`` as one tensor: ``(tensor,
    batch axis)``, the axis None when every node reads the same tensor."""
    return _gather_entries([n.inputs[j] for n in group])


def _gather_entries(entries):
    """Operands (``(node, k)`` or Tensors) stacked as one tensor: ``(tensor,
    batch axis)``, the axis None when they are all the same tensor."""
    e0 = entries[0]
    if e0.__class__ is not tuple:  # concrete tensors
        for e in entries:
            if e is not e0:
                return _stack(entries), 0
        return e0, None
    b0, r0 = e0[0].val[e0[1]]
    if r0.__class__ is int:
        # The common case in one pass: the operands are consecutive rows of
        # one batch (the output of one earlier batched call), read as a slice
        # of it -- or the batch itself -- without copying.
        r = r0
        for src, k in entries:
            b, row = src.val[k]
            if b is not b0 or row != r:
                break
            r += 1
        else:
            if r0 == 0 and r == b0._data.shape[0]:
                return b0, 0
            return apply(_GETITEM, b0, index=(slice(r0, r),)), 0
    vals = [node.val[k] for node, k in entries]
    b0 = vals[0][0]
    if vals[0][1].__class__ is int and all(
            v[0] is b0 and v[1].__class__ is int for v in vals):
        return _rows(b0, [v[1] for v in vals]), 0
    if all(v[0] is b0 and v[1] is None for v in vals):
        return b0, None  # every node reads the same shared value
    # Several batches: one cat of the batches, then one index that picks
    # the rows in the group's order (two autograd nodes, whatever the number
    # of batches).  A large batch much larger than what is read from it (the
    # examples' concatenated leaves) contributes only its rows.
    by_b, pieces, extra = {}, [], []
    for i, (b, row) in enumerate(vals):
        if row.__class__ is int:
            by_b.setdefault(id(b), (b, []))[1].append((row, i))
        else:
            extra.append(i)
    where = [0] * len(vals)
    p = 0
    for i in extra:  # values that are not rows: one row each, first
        b, row = vals[i]
        x = b if row is None else apply(_GETITEM, b, index=(row,))
        pieces.append(apply(_RESHAPE, x, shape=(1,) + x.shape))
        where[i] = p
        p += 1
    for b, items in by_b.values():
        n = b._data.shape[0]
        if n <= 4 * len(items) or b._data.size <= _SMALL:
            pieces.append(b)
            for r, i in items:
                where[i] = p + r
            p += n
        else:
            pieces.append(_rows(b, [r for r, _ in items]))
            for _, i in items:
                where[i] = p
                p += 1
    out = pieces[0] if len(pieces) == 1 else apply(PRIMITIVES["cat"], *pieces, axis=0)
    if where != list(range(out._data.shape[0])):
        out = apply(_GETITEM, out, index=(np.asarray(where),))
    return out, 0


def _rows(b, rows):
    """``b[rows]``: one slice, a view, when the rows are evenly spaced (the
    rows of one example of several read in turn); else one gather."""
    start, n = rows[0], len(rows)
    step = rows[1] - start if n > 1 else 1
    if step > 0 and rows[-1] == start + step * (n - 1) and (
            n < 3 or rows == list(range(start, rows[-1] + 1, step))):
        if step == 1 and start == 0 and n == b._data.shape[0]:
            return b
        return apply(_GETITEM, b, index=(slice(start, rows[-1] + 1, step),))
    return apply(_GETITEM, b, index=(np.asarray(rows),))


def _stack(tensors):
    reshape = PRIMITIVES["reshape"]
    return apply(PRIMITIVES["cat"], *[apply(reshape, t, shape=(1,) + t._data.shape)
                                      for t in tensors], axis=0)


def walk(tree, fn, leaf=Tensor):
    """Apply ``fn`` to every ``leaf`` (a Tensor) in nested tuples, lists and
    dicts; returns the nest of the results."""
    if isinstance(tree, leaf):
        return fn(tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(walk(x, fn, leaf) for x in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(walk(x, fn, leaf) for x in tree)
    if isinstance(tree, dict):
        return {k: walk(v, fn, leaf) for k, v in tree.items()}
    return tree
