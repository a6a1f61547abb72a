"""Composable function transforms with ``torch.func``'s names and semantics.

``grad``, ``grad_and_value``, ``vjp`` and ``jacrev`` use reverse mode (the
tape); ``jvp`` and ``jacfwd`` use forward mode (dual tensors, one pass per
input direction); ``hessian`` is ``jacfwd(jacrev(f))``.  Transforms nest in
any order, e.g. ``grad(grad(f))``, ``jacfwd(jacrev(f))`` or
``jvp(grad(f), ...)`` (a Hessian-vector product)::

    >>> import chainrule as cr
    >>> from chainrule.func import grad
    >>> x = cr.tensor(0.5, dtype=cr.float64)
    >>> round(grad(grad(cr.sin))(x).item(), 6) == round(-x.sin().item(), 6)
    True

Arguments and results may be pytrees: tensors inside (nested) tuples, lists
and dicts.  A transformed function's inputs are aliased, not modified: when
an input already takes part in an outer differentiation (an outer transform,
or a tensor that requires grad), the alias is a differentiable copy, so the
result stays connected to the outer computation, and inner gradients are
built with ``create_graph=True``.  ``vmap`` runs batching rules (see
``chainrule.batching``): one batched call per primitive, not a loop.
"""
import functools

from .. import ops
from .._tape import _state
from ..errors import ArgumentError, DTypeError, ShapeError, fmt_shape
from ..ops._util import dim1 as _dim1
from ..tensor import Tensor
from . import forward_ad as fwad
from .engine import grad as _autograd_grad

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
           "vmap", "functional_call"]

_depth = 0  # how many transforms are running (>0: we are nested in one)


# -- pytrees: tensors in nested tuples, lists and dicts -------------------------------
def _flatten(tree):
    """(leaves, spec): ``spec`` rebuilds the structure with :func:`_unflatten`."""
    leaves = []
    return leaves, _walk(tree, leaves)


# The walkers are module functions, not closures: a recursive closure refers
# to itself through its cell, a reference cycle that kept every flattened
# tensor (a transform's inputs and results) alive until the cyclic garbage
# collector ran, so each call's arrays took fresh memory instead of reusing
# the last call's.
def _walk(t, leaves):
    if isinstance(t, tuple) and hasattr(t, "_fields"):  # namedtuple
        return ("namedtuple", type(t), [_walk(x, leaves) for x in t])
    if isinstance(t, (tuple, list)):
        return (type(t).__name__, None, [_walk(x, leaves) for x in t])
    if isinstance(t, dict):
        return ("dict", type(t), [(k, _walk(v, leaves)) for k, v in t.items()])
    leaves.append(t)
    return ("leaf", None, None)


def _unflatten(spec, leaves):
    return _build(spec, iter(leaves))


def _build(s, it):
    kind, typ, kids = s
    if kind == "leaf":
        return next(it)
    if kind == "namedtuple":
        return typ(*[_build(k, it) for k in kids])
    if kind == "dict":
        return typ((k, _build(v, it)) for k, v in kids)
    seq = [_build(k, it) for k in kids]
    return tuple(seq) if kind == "tuple" else seq


# -- shared machinery ------------------------------------------------------------------
class _Transform:
    """Enter one transform: count the nesting, enable gradient recording.

    ``nested`` says whether results must stay differentiable for something
    outside: an enclosing transform, an open dual level, or (when recording
    is on) user tensors that require grad.
    """

    def __init__(self, tensors=()):
        self.tensors = tensors

    def __enter__(self):
        global _depth
        self.prev = _state.grad
        self.nested = _depth > 0 or _state.forward_ad > 0 or (
            self.prev and any(getattr(t, "_rg", False) for t in self.tensors))
        _depth += 1
        _state.grad = True
        return self

    def __exit__(self, *exc):
        global _depth
        _depth -= 1
        _state.grad = self.prev
        return False


def _argnums(argnums, nargs, api):
    """Normalise ``argnums`` to a tuple of non-negative positions."""
    single = isinstance(argnums, int) and not isinstance(argnums, bool)
    nums = (argnums,) if single else argnums
    if not isinstance(nums, tuple) or not nums or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in nums):
        raise ArgumentError(f"{api}: argnums must be an int or a non-empty tuple of "
                            f"ints, got {argnums!r}")
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise ArgumentError(
                f"{api}: got argnums={argnums!r}, but the function was called with "
                f"only {nargs} positional argument(s)")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise ArgumentError(f"{api}: argnums must be unique, got {argnums!r}")
    return tuple(out)


def _check_diff_leaves(leaves, api, what):
    for x in leaves:
        if not isinstance(x, Tensor):
            raise DTypeError(f"{api}: expected {what} to be Tensors (or tuples, lists "
                             f"and dicts of Tensors), got {type(x).__name__}")
        if x._data.dtype.kind != "f":
            raise DTypeError(f"{api}: only floating-point Tensors can be "
                             f"differentiated; {what} has a {x.dtype.name} Tensor of "
                             f"shape {fmt_shape(x.shape)}")


def _track(x, connect):
    """An alias of ``x`` that requires grad; differentiable when ``connect``
    and ``x`` is part of an outer computation, else cut from it."""
    if connect and (x._rg or x._fw):
        a = ops.clone(x)  # keeps x's graph and tangents
        if not a._rg:
            a.requires_grad_(True)
        return a
    return x.detach().requires_grad_(True)


def _select(args, nums, api, connect):
    """Replace args ``nums`` by tracked aliases; return (new args, per-arg
    (leaves, spec)) for the differentiated ones."""
    args = list(args)
    parts = []
    for i in nums:
        leaves, spec = _flatten(args[i])
        _check_diff_leaves(leaves, api, f"argument {i}")
        tracked = [_track(x, connect) for x in leaves]
        args[i] = _unflatten(spec, tracked)
        parts.append((tracked, spec))
    return args, parts


def _split_aux(out, api):
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ArgumentError(f"{api}: with has_aux=True the function must return a "
                            f"pair (output, aux), got {type(out).__name__}")
    return out


def _out_leaves(out, api):
    leaves, spec = _flatten(out)
    for o in leaves:
        if not isinstance(o, Tensor):
            raise DTypeError(f"{api}: expected the function to return Tensors (or "
                             f"tuples, lists and dicts of Tensors), got "
                             f"{type(o).__name__}")
    return leaves, spec


def _vjp_core(outs, cots, inputs, create_graph):
    """Gradients of sum(out * cot) for each input (zeros where unused)."""
    pairs = [(o, c) for o, c in zip(outs, cots) if o._rg]
    if not pairs:
        return [ops.zeros_like(x) for x in inputs]
    gs = _autograd_grad([o for o, _ in pairs], inputs, [c for _, c in pairs],
                        retain_graph=True, create_graph=create_graph,
                        allow_unused=True, materialize_grads=True)
    return list(gs)


def _result(t, nested):
    return t if nested else t.detach()


def _aux(aux, nested):
    """Auxiliary outputs, cut from the transform's graph at the top level."""
    leaves, spec = _flatten(aux)
    return _unflatten(spec, [_result(x, nested) if isinstance(x, Tensor) else x
                             for x in leaves])


# -- grad ------------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """``f`` -> a function returning ``(gradient, value)`` of scalar ``f``.

    The gradient is taken with respect to the arguments ``argnums`` (an int,
    or a tuple giving a tuple of gradients), each shaped like its argument.
    With ``has_aux``, ``f`` returns ``(value, aux)`` and the result is
    ``(gradient, (value, aux))``.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        api = "grad_and_value"
        nums = _argnums(argnums, len(args), api)
        with _Transform(_flatten([args[i] for i in nums])[0]) as tr:
            new_args, parts = _select(args, nums, api, tr.nested)
            out = func(*new_args, **kwargs)
            aux = None
            if has_aux:
                out, aux = _split_aux(out, api)
            if not isinstance(out, Tensor):
                raise DTypeError(f"{api}: expected f(*args) to return a Tensor, got "
                                 f"{type(out).__name__}")
            if out.ndim != 0:
                raise ShapeError(
                    f"{api}: expected f(*args) to return a scalar Tensor, got shape "
                    f"{fmt_shape(out.shape)}; use vjp or jacrev for non-scalar "
                    "outputs, or reduce the output (e.g. .sum())")
            if out._data.dtype.kind != "f":
                raise DTypeError(f"{api}: f(*args) returned a {out.dtype.name} "
                                 "Tensor; only floating-point outputs have gradients")
            flat = [x for tracked, _ in parts for x in tracked]
            gs = _vjp_core([out], [None], flat, tr.nested)
            gs = [_result(g, tr.nested) for g in gs]
            grads, k = [], 0
            for tracked, spec in parts:
                grads.append(_unflatten(spec, gs[k:k + len(tracked)]))
                k += len(tracked)
            g = grads[0] if isinstance(argnums, int) else tuple(grads)
            value = _result(out, tr.nested)
        if has_aux:
            return g, (value, _aux(aux, tr.nested))
        return g, value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``f`` -> its gradient function (``f`` must return a scalar Tensor).

    ``grad(f)(x)`` has ``x``'s shape; see :func:`grad_and_value` for
    ``argnums`` and ``has_aux`` (then the result is ``(gradient, aux)``).
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


# -- vjp -------------------------------------------------------------------------------
def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` returns a tuple with
    ``J^T cotangents`` for each primal.

    ``cotangents`` has the structure and shapes of ``func``'s output;
    ``vjp_fn`` may be called any number of times.  With ``has_aux``,
    returns ``(output, vjp_fn, aux)``.
    """
    api = "vjp"
    nums = tuple(range(len(primals)))
    with _Transform(_flatten(primals)[0]) as tr:
        new_args, parts = _select(primals, nums, api, tr.nested)
        out = func(*new_args)
        aux = None
        if has_aux:
            out, aux = _split_aux(out, api)
        outs, spec = _out_leaves(out, api)
    nested = tr.nested
    inputs = [x for tracked, _ in parts for x in tracked]

    def vjp_fn(cotangents):
        cots, cspec = _flatten(cotangents)
        if cspec != spec:
            raise ArgumentError(
                "vjp_fn: expected cotangents with the same structure as the "
                f"function's output ({len(outs)} Tensor(s)); got {len(cots)} leaves "
                "in a different structure")
        for o, c in zip(outs, cots):
            if not isinstance(c, Tensor) or c.shape != o.shape:
                got = fmt_shape(c.shape) if isinstance(c, Tensor) else type(c).__name__
                raise ShapeError(f"vjp_fn: each cotangent must be a Tensor with the "
                                 f"shape of its output {fmt_shape(o.shape)}, got {got}")
        cg = nested or _depth > 0 or _state.forward_ad > 0 or any(
            c._rg for c in cots)
        with _Transform():
            gs = _vjp_core(outs, cots, inputs, cg)
        gs = [_result(g, cg) for g in gs]
        res, k = [], 0
        for tracked, pspec in parts:
            res.append(_unflatten(pspec, gs[k:k + len(tracked)]))
            k += len(tracked)
        return tuple(res)

    shown = _unflatten(spec, [_result(o, nested) for o in outs])
    if has_aux:
        return shown, vjp_fn, _aux(aux, nested)
    return shown, vjp_fn


# -- jvp -------------------------------------------------------------------------------
def _jvp_pass(func, args, kwargs, slots, tangents, has_aux, api):
    """One forward-mode pass: ``args`` leaves at ``slots`` (arg index, leaf
    index) get ``tangents``.  Returns (out leaves, out spec, tangent leaves,
    aux); output tangents that are absent are zeros."""
    lvl = fwad.enter_dual_level()
    try:
        args = list(args)
        flat = [_flatten(a) for a in args]
        for (i, j), t in zip(slots, tangents):
            flat[i][0][j] = fwad.make_dual(flat[i][0][j], t, level=lvl)
        args = [_unflatten(spec, leaves) for leaves, spec in flat]
        out = func(*args, **kwargs)
        aux = None
        if has_aux:
            out, aux = _split_aux(out, api)
        outs, spec = _out_leaves(out, api)
        prim, tan = [], []
        for o in outs:
            p, t = fwad.unpack_dual(o, level=lvl)
            prim.append(p)
            tan.append(t if t is not None else ops.zeros_like(o))
    finally:
        fwad.exit_dual_level(level=lvl)
    return prim, spec, tan, aux


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)`` by one forward-mode pass.

    ``primals`` and ``tangents`` are tuples with the same structure and
    shapes.  With ``has_aux``, ``func`` returns ``(output, aux)`` and the
    result is ``(output, jvp_out, aux)``.
    """
    api = "jvp"
    for name, v in (("primals", primals), ("tangents", tangents)):
        if not isinstance(v, (tuple, list)):
            raise ArgumentError(f"{api}: expected {name} to be a tuple (so that "
                                f"f(*{name}) is valid), got {type(v).__name__}")
    pl, pspec = _flatten(tuple(primals))
    tl, tspec = _flatten(tuple(tangents))
    if pspec != tspec:
        raise ArgumentError(f"{api}: primals and tangents must have the same "
                            f"structure ({len(pl)} vs {len(tl)} leaves)")
    _check_diff_leaves(pl, api, "primals")
    _check_diff_leaves(tl, api, "tangents")
    for p, t in zip(pl, tl):
        if p.shape != t.shape:
            raise ShapeError(f"{api}: each tangent must have its primal's shape; got "
                             f"{fmt_shape(t.shape)} for a primal of shape "
                             f"{fmt_shape(p.shape)}")
    slots = []
    for i, a in enumerate(primals):
        slots += [(i, j) for j in range(len(_flatten(a)[0]))]
    with _Transform(pl + tl) as tr:
        prim, spec, tan, aux = _jvp_pass(func, tuple(primals), {}, slots, tl,
                                         has_aux, api)
    res = (_unflatten(spec, [_result(p, tr.nested) for p in prim]),
           _unflatten(spec, [_result(t, tr.nested) for t in tan]))
    return res + (_aux(aux, tr.nested),) if has_aux else res


# -- Jacobians -------------------------------------------------------------------------
def _jac_result(per_out, out_spec, arg_specs, single):
    """Nest Jacobian blocks: output structure outside, argnums inside."""
    blocks = []
    for per_arg in per_out:
        trees = [_unflatten(s, leaves) for leaves, s in zip(per_arg, arg_specs)]
        blocks.append(trees[0] if single else tuple(trees))
    return _unflatten(out_spec, blocks)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None,
           _preallocate_and_copy=False):
    """Jacobian of ``func`` by reverse mode: one vjp per output element.

    For an output of shape ``O`` and an argument of shape ``I`` the block has
    shape ``O + I``.  Several outputs or ``argnums`` give nested tuples
    (outputs outside).  ``chunk_size`` is accepted for compatibility; rows are
    always computed one at a time.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        api = "jacrev"
        nums = _argnums(argnums, len(args), api)
        with _Transform(_flatten([args[i] for i in nums])[0]) as tr:
            new_args, parts = _select(args, nums, api, tr.nested)
            out = func(*new_args, **kwargs)
            aux = None
            if has_aux:
                out, aux = _split_aux(out, api)
            outs, spec = _out_leaves(out, api)
            inputs = [x for tracked, _ in parts for x in tracked]
            per_out = []
            for o in outs:
                cols = _jac_rows(o, inputs, tr.nested)
                per_arg, k = [], 0
                for tracked, _ in parts:
                    per_arg.append(cols[k:k + len(tracked)])
                    k += len(tracked)
                per_out.append(per_arg)
        res = _jac_result(per_out, spec, [s for _, s in parts],
                          isinstance(argnums, int))
        return (res, _aux(aux, tr.nested)) if has_aux else res

    return wrapper


def _jac_rows(o, inputs, nested):
    """d o / d x for each input: one reverse pass per element of ``o``."""
    m = o._data.size
    if not o._rg or m == 0 or o._data.dtype.kind != "f":
        return [ops.zeros(o.shape + x.shape, dtype=x.dtype) for x in inputs]
    eye = ops.eye(m, dtype=o.dtype)
    rows = [_vjp_core([o], [ops.reshape(eye[i], o.shape)], inputs, nested)
            for i in range(m)]
    return [_result(ops.reshape(ops.stack([r[k] for r in rows]), o.shape + x.shape),
                    nested) for k, x in enumerate(inputs)]


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """Jacobian of ``func`` by forward mode: one jvp per input element.

    Shapes and nesting as :func:`jacrev`.  ``randomness`` is accepted for
    compatibility; random ops draw afresh in each pass.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        api = "jacfwd"
        nums = _argnums(argnums, len(args), api)
        leaves = []
        for i in nums:
            lv, _ = _flatten(args[i])
            _check_diff_leaves(lv, api, f"argument {i}")
            leaves += [(i, j, x) for j, x in enumerate(lv)]
        with _Transform([x for _, _, x in leaves]) as tr:
            cols, aux, outs, spec = {}, None, None, None
            for i, j, x in leaves:
                n = x._data.size
                eye = ops.eye(n, dtype=x.dtype)
                for c in range(n):
                    prim, spec, tan, aux = _jvp_pass(
                        func, args, kwargs, [(i, j)], [ops.reshape(eye[c], x.shape)],
                        has_aux, api)
                    outs = prim
                    cols.setdefault((i, j), []).append(tan)
            if outs is None:  # every argument is empty: one plain call for shapes
                prim, spec, _, aux = _jvp_pass(func, args, kwargs, [], [], has_aux, api)
                outs = prim
            per_out = []
            for k, o in enumerate(outs):
                per_arg = []
                for i in nums:
                    blocks = []
                    for ii, j, x in leaves:
                        if ii != i:
                            continue
                        cs = cols.get((i, j))
                        if not cs:
                            blk = ops.zeros(o.shape + x.shape, dtype=o.dtype)
                        else:
                            blk = ops.reshape(ops.stack([c[k] for c in cs], -1),
                                              o.shape + x.shape)
                        blocks.append(_result(blk, tr.nested))
                    per_arg.append(blocks)
                per_out.append(per_arg)
        specs = [_flatten(args[i])[1] for i in nums]
        res = _jac_result(per_out, spec, specs, isinstance(argnums, int))
        return (res, _aux(aux, tr.nested)) if has_aux else res

    return wrapper


def hessian(func, argnums=0):
    """Hessian of scalar ``func``: ``jacfwd(jacrev(func, argnums), argnums)``
    (forward-over-reverse).  For an argument of shape ``I`` it has shape
    ``I + I``."""
    return jacfwd(jacrev(func, argnums), argnums)


# -- vmap ------------------------------------------------------------------------------
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map ``func`` over a batch dimension of its inputs, by batching rules.

    See :func:`chainrule.batching.vmap` (torch.func's semantics: ``in_dims``,
    ``out_dims``, ``randomness``, ``chunk_size``; nests and composes with the
    transforms above).
    """
    # Call-time import: batching builds on this layer (its rules and
    # interpreter use autograd's helpers), so it cannot be imported above.
    from ..batching.vmap import vmap as _vmap

    return _vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


def vmap_loop(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """The per-example loop ``vmap`` was before batching rules (kept as a
    reference and a fallback): map ``func`` over a batch dimension.

    ``in_dims``: an int or None (not mapped) for all arguments, or a tuple
    with one per positional argument.  ``out_dims``: where the batch dim goes
    in each output.  Implemented as a loop over the batch and a stack, so it
    is differentiable and nests with the other transforms but is no faster
    than the loop; random ops draw independently per example.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        api = "vmap"
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ArgumentError(f"{api}: in_dims has {len(dims)} entries but the "
                                f"function was called with {len(args)} arguments")
        mapped, size = [], None
        for a, d in zip(args, dims):
            leaves, spec = _flatten(a)
            ds = _flatten(d)[0] if isinstance(d, (tuple, list, dict)) else [d] * len(
                leaves)
            if len(ds) != len(leaves):
                raise ArgumentError(f"{api}: in_dims entry {d!r} does not match the "
                                    "structure of its argument")
            norm = []
            for x, dd in zip(leaves, ds):
                if dd is None:
                    norm.append(None)
                    continue
                if not isinstance(x, Tensor):
                    raise DTypeError(f"{api}: in_dims={dd} given for a "
                                     f"{type(x).__name__}; only Tensors can be mapped")
                dd = _dim1(dd, x.ndim, api)
                if size is not None and x.shape[dd] != size:
                    raise ShapeError(f"{api}: expected all mapped Tensors to have the "
                                     f"same size in the mapped dimension, got {size} "
                                     f"and {x.shape[dd]}")
                size = x.shape[dd]
                norm.append(dd)
            mapped.append((leaves, spec, norm))
        if size is None:
            raise ArgumentError(f"{api}: at least one argument must be a Tensor mapped "
                                "over (in_dims not None)")
        results, spec = [], None
        for b in range(size):
            call = []
            for leaves, sp, norm in mapped:
                picked = [x if dd is None else x[(slice(None),) * dd + (b,)]
                          for x, dd in zip(leaves, norm)]
                call.append(_unflatten(sp, picked))
            out_leaves, spec = _out_leaves(func(*call, **kwargs), api)
            results.append(out_leaves)
        n = len(results[0])
        ods = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * n
        if len(ods) != n:
            raise ArgumentError(f"{api}: out_dims has {len(ods)} entries for {n} "
                                "outputs")
        outs = []
        for k, od in enumerate(ods):
            if od is None:
                outs.append(results[0][k])
            else:
                col = [r[k] for r in results]
                outs.append(ops.stack(col, _dim1(od, col[0].ndim + 1, api)))
        return _unflatten(spec, outs)

    return wrapper


# -- functional_call -----------------------------------------------------------------
def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module`` with some parameters and buffers replaced.

    ``parameter_and_buffer_dicts`` maps dotted names (``"fc1.weight"``) to
    Tensors (or is a tuple of such dicts); they stand in for the module's own
    for this call only, and the originals are restored afterwards, even if
    the call raises.  ``args`` is one argument or a tuple.  With
    ``tie_weights``, a replaced tensor also replaces every name that shares
    it (tied weights); ``strict`` requires exactly the module's names.
    """
    api = "functional_call"
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = (dicts,)
    new = {}
    for d in dicts:
        for k, v in d.items():
            if k in new:
                raise ArgumentError(f"{api}: {k!r} appears in more than one of the "
                                    "given dicts")
            new[k] = v
    own = dict(module.named_parameters(remove_duplicate=False))
    own.update(module.named_buffers(remove_duplicate=False))
    if strict:
        missing = sorted(set(own) - set(new))
        unexpected = sorted(set(new) - set(own))
        if missing or unexpected:
            raise ArgumentError(f"{api}: with strict=True the names must match the "
                                f"module's; missing: {missing}, unexpected: "
                                f"{unexpected}")
    if tie_weights:
        by_id = {}
        for k in new:
            if k in own:
                by_id.setdefault(id(own[k]), []).append(k)
        for k, t in own.items():
            given = by_id.get(id(t))
            if given and k not in new:
                new[k] = new[given[0]]
            elif given and new[k] is not new[given[0]]:
                raise ArgumentError(f"{api}: {k!r} and {given[0]!r} are tied in the "
                                    "module but were given different values")
    undo = []
    try:
        for name, value in new.items():
            undo.append(_swap(module, name, value, api))
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for restore in reversed(undo):
            restore()


def _swap(module, name, value, api):
    """Put ``value`` at dotted ``name``; return a function that undoes it."""
    path, _, attr = name.rpartition(".")
    try:
        sub = module.get_submodule(path)
    except AttributeError:
        raise ArgumentError(f"{api}: {name!r} does not name a submodule's parameter "
                            f"or buffer ({type(module).__name__} has no submodule "
                            f"{path!r})") from None
    for store in (sub._parameters, sub._buffers):
        if attr in store:
            old = store[attr]
            store[attr] = value

            def restore(store=store, old=old):
                store[attr] = old

            return restore
    d = sub.__dict__
    had, old = attr in d, d.get(attr)
    d[attr] = value

    def restore_attr():
        if had:
            d[attr] = old
        else:
            d.pop(attr, None)

    return restore_attr

from ..autobatch import autobatch  # noqa: E402,F401 -- unequal shapes, batched

__all__ += ["autobatch"]
