"""``vmap``: run a function written for one example on a whole batch.

``vmap(f)(xs)`` pushes a :class:`VmapLevel` interpreter and calls ``f`` on
batched Tensors (see ``_batched.py``): values whose logical shape is one
example's while their data holds the batch.  Every primitive call that
reaches the interpreter with a batched input runs its batching rule
(``rules.py``) once, on the physical data, instead of once per example.

Differentiation composes both ways:

* ``grad(lambda x: vmap(f)(x).sum())``: the rules' ops run on ordinary
  (physical) Tensors, so the ordinary tape records them and backward goes
  through the batched ops.
* ``vmap(grad(f))``: ``grad`` inside marks batched Tensors as requiring
  grad.  The interpreter then records a tape node at the *logical* level
  (inputs and outputs are the batched Tensors, shapes are per example).  The
  backward engine, still inside ``vmap``, runs each primitive's vjp rule on
  those logical Tensors; the rule's ops come back to the interpreter and are
  batched in turn, so one backward pass gives every example's gradient.

Nested ``vmap`` gives each level its own id; a Tensor is batched for the
level that made it, and the rules of level L run their ops on values that
may themselves be batched by an outer level (which then batches them).
"""
import functools
import itertools

from .._tape import Interpreter, _state, interpreting
from ..errors import ArgumentError, DTypeError, ShapeError, fmt_shape
from ..ops import PRIMITIVES
from ..ops._core import _record, apply
from ..tensor import Tensor
from ._batched import BatchedData, VmapError, make
from .rules import RANDOM, RULES, fallback, loop, moveaxis, random_batched

_ids = itertools.count()
_RANDOMNESS = ("error", "different", "same")


class VmapLevel(Interpreter):
    """The interpreter of one ``vmap`` call: batch size, randomness, level id."""

    def __init__(self, level, size, randomness):
        self.level = level
        self.size = size
        self.randomness = randomness

    def process(self, prim, inputs, params):
        lvl = self.level
        phys, dims, batched = [], [], False
        for t in inputs:
            d = t._data
            if d.__class__ is BatchedData and d.level == lvl:
                phys.append(d.value)
                dims.append(d.bdim)
                batched = True
            else:
                phys.append(t)
                dims.append(None)
        name = prim.name
        if name in RANDOM:
            res = self._random(prim, phys, dims, params, batched)
            if res is not None:
                return res
        if not batched:
            return self.evaluate(prim, inputs, params)
        rule = RULES.get(name)
        if rule is None:
            outs, odims = fallback(prim, tuple(phys), tuple(dims), params)
        else:
            outs, odims = rule(tuple(phys), tuple(dims), **params)
        if len(outs) == 1:  # most primitives: no generator, no zip
            d = odims[0]
            res = (outs[0] if d is None else make(outs[0], d, lvl),)
        else:
            res = tuple([o if d is None else make(o, d, lvl)
                         for o, d in zip(outs, odims)])
        if _state.grad and prim.vjp is not None:
            for t in inputs:
                if t._rg:
                    # A grad inside this vmap: record at the per-example level.
                    _record(prim, inputs, params, res)
                    break
        return res

    def _random(self, prim, phys, dims, params, batched):
        """Random draws under the level's ``randomness``; None: not handled."""
        if self.randomness == "error":
            raise VmapError(
                f"vmap: called random operation {prim.name} while randomness='error'"
                "; pass randomness='different' (independent draws per example) or "
                "randomness='same' (one draw shared by the batch) to vmap")
        if batched or self.randomness == "same":
            return None  # elementwise draws (batched rule), or one shared draw
        if prim.name == "randperm":
            outs = [apply(prim, **params) for _ in range(self.size)]
            from ..ops.shape import stack

            return (make(stack(outs), 0, self.level),)
        outs, odims = random_batched(prim, self.size, params)
        return (make(outs[0], 0, self.level),)


# -- the transform ---------------------------------------------------------------------
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorise ``func`` over a batch dimension of its inputs.

    ``in_dims``: for each positional argument the dim that runs over the
    batch, or None if it is shared (an int or None applies to all; a nested
    tuple/list/dict matches an argument's structure).  ``out_dims``: where the
    batch dim goes in each output (None: the output must not depend on the
    batch).  ``func`` sees one example: ``x.shape`` is the example's shape.
    ``randomness``: 'error' (random ops raise), 'different' (independent
    draws per example) or 'same' (one draw shared by all examples).
    ``chunk_size``: process at most this many examples at a time (less
    memory, same result).  Keyword arguments are passed unmapped.

    Example: per-example gradients, ``vmap(grad(loss), in_dims=(None, 0,
    0))(params, xs, ys)``.
    """
    if randomness not in _RANDOMNESS:
        raise ArgumentError(f"vmap: randomness must be one of {list(_RANDOMNESS)}, "
                            f"got {randomness!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or isinstance(
            chunk_size, bool) or chunk_size < 1):
        raise ArgumentError(f"vmap: chunk_size must be a positive int or None, got "
                            f"{chunk_size!r}")
    if not callable(func):
        raise DTypeError(f"vmap: func must be callable, got {type(func).__name__}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        flat, specs, size = _mapped_args(args, in_dims)
        if chunk_size is None or chunk_size >= size:
            return _run(func, flat, specs, size, kwargs, out_dims, randomness)
        pieces = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            part = [(x, d) if d is None else (_narrow(x, d, start, n), d)
                    for x, d in flat]
            pieces.append(_run(func, part, specs, n, kwargs, out_dims, randomness,
                               tree=True))
        return _join(pieces, out_dims)

    return wrapper


def _narrow(x, d, start, n):
    from ..ops.shape import narrow

    return narrow(x, d, start, n)


def _flatten(tree):
    from ..autograd.func import _flatten as f

    return f(tree)


def _unflatten(spec, leaves):
    from ..autograd.func import _unflatten as u

    return u(spec, leaves)


def _mapped_args(args, in_dims):
    """(leaves as (value, dim or None), (arg spec, leaf count) list, size)."""
    if isinstance(in_dims, (tuple, list)):
        if len(in_dims) != len(args):
            raise ArgumentError(
                f"vmap: in_dims has {len(in_dims)} entries but the function was "
                f"called with {len(args)} positional arguments (in_dims="
                f"{in_dims!r} is not compatible with the structure of the inputs)")
        dims = in_dims
    elif in_dims is None or isinstance(in_dims, int):
        dims = (in_dims,) * len(args)
    else:
        raise ArgumentError(f"vmap: in_dims must be an int, None or a tuple, got "
                            f"{type(in_dims).__name__}")
    flat, specs, sizes = [], [], []
    for i, (a, d) in enumerate(zip(args, dims)):
        leaves, spec = _flatten(a)
        if d is None or isinstance(d, int):
            ds = [d] * len(leaves)
        else:
            ds, dspec = _flatten(d)
            if len(ds) != len(leaves):
                raise ArgumentError(
                    f"vmap: in_dims[{i}]={d!r} is not compatible with the structure "
                    f"of argument {i} ({len(leaves)} leaves)")
        for x, dd in zip(leaves, ds):
            if dd is None:
                flat.append((x, None))
                continue
            if not isinstance(dd, int) or isinstance(dd, bool):
                raise ArgumentError(f"vmap: in_dims entries must be ints or None, got "
                                    f"{dd!r}")
            if not isinstance(x, Tensor):
                raise DTypeError(
                    f"vmap: got in_dim={dd} for argument {i}, but it is a "
                    f"{type(x).__name__}; only Tensors can be mapped (use None)")
            if not -x.ndim <= dd < x.ndim:
                raise ArgumentError(
                    f"vmap: got in_dim={dd} for argument {i}, a Tensor with {x.ndim} "
                    f"dims (shape {fmt_shape(x.shape)}); in_dim must be in "
                    f"[{-x.ndim}, {x.ndim})")
            dd %= x.ndim
            sizes.append(x.shape[dd])
            flat.append((x, dd))
        specs.append((spec, len(leaves)))
    if not sizes:
        raise ArgumentError("vmap: at least one argument must be a Tensor mapped over "
                            "(all in_dims are None or no Tensor was passed)")
    if len(set(sizes)) > 1:
        raise ShapeError(f"vmap: expected all mapped Tensors to have the same size in "
                         f"the mapped dimension, got sizes {sizes}")
    return flat, specs, sizes[0]


def _run(func, flat, specs, size, kwargs, out_dims, randomness, tree=False):
    level = next(_ids)
    leaves = [x if d is None else make(x, d, level) for x, d in flat]
    args, k = [], 0
    for spec, n in specs:
        args.append(_unflatten(spec, leaves[k:k + n]))
        k += n
    with interpreting(VmapLevel(level, size, randomness)):
        out = func(*args, **kwargs)
    outs, spec = _flatten(out)
    if isinstance(out_dims, (tuple, list)) and not isinstance(out, (tuple, list)):
        ods = list(out_dims)
        if len(ods) != 1:
            raise ArgumentError(f"vmap: out_dims={out_dims!r} has {len(ods)} entries "
                                "but the function returned one Tensor")
    elif isinstance(out_dims, (tuple, list)):
        ods, _ = _flatten(tuple(out_dims))
        if len(out_dims) != len(out) or len(ods) != len(outs):
            ods = _match_out_dims(out_dims, out)
    else:
        ods = [out_dims] * len(outs)
    res = [_unbatch(o, od, level, size) for o, od in zip(outs, ods)]
    if tree:
        return res, spec, ods
    return _unflatten(spec, res)


def _match_out_dims(out_dims, out):
    """Broadcast per-output out_dims entries over each output's leaves."""
    ods = []
    for od, o in zip(out_dims, out):
        n = len(_flatten(o)[0])
        if od is None or isinstance(od, int):
            ods += [od] * n
        else:
            sub = _flatten(od)[0]
            if len(sub) != n:
                raise ArgumentError(f"vmap: out_dims={out_dims!r} is not compatible "
                                    "with the structure of the outputs")
            ods += sub
    if len(out_dims) != len(out):
        raise ArgumentError(f"vmap: out_dims={out_dims!r} has {len(out_dims)} "
                            f"entries but the function returned {len(out)} outputs")
    return ods


def _unbatch(o, od, level, size):
    if not isinstance(o, Tensor):
        raise DTypeError(f"vmap: func must only return Tensors (or tuples, lists and "
                         f"dicts of Tensors), got {type(o).__name__}")
    d = o._data
    mine = d.__class__ is BatchedData and d.level == level
    if od is None:
        if mine:
            raise ArgumentError(
                "vmap: an output with out_dims=None must be the same for every "
                f"example, but this one (logical shape {fmt_shape(o.shape)}) depends "
                "on the mapped inputs; give it an int out_dim")
        return o
    if not isinstance(od, int) or isinstance(od, bool):
        raise ArgumentError(f"vmap: out_dims entries must be ints or None, got {od!r}")
    nd = o.ndim + 1
    if not -nd <= od < nd:
        raise ArgumentError(f"vmap: out_dim={od} is out of range for an output of "
                            f"logical shape {fmt_shape(o.shape)}; it must be in "
                            f"[{-nd}, {nd})")
    od %= nd
    if not mine:  # the same for every example: broadcast over the batch
        x = apply(PRIMITIVES["reshape"], o, shape=(1,) + o.shape)
        x = apply(PRIMITIVES["expand"], x, shape=(size,) + o.shape)
        return moveaxis(x, 0, od)
    return moveaxis(d.value, d.bdim, od)


def _join(pieces, out_dims):
    """Concatenate per-chunk outputs along their out_dims."""
    from ..ops.shape import cat

    _, spec, ods = pieces[0]
    res = []
    for k, od in enumerate(ods):
        col = [p[0][k] for p in pieces]
        res.append(col[0] if od is None else cat(col, od))
    return _unflatten(spec, res)


__all__ = ["vmap", "VmapLevel", "loop"]
