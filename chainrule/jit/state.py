"""What a traced function captures: modules, optimizers and their state.

A training step reads and writes state that is not among its arguments:
parameters, their ``.grad``, optimizer buffers, BatchNorm statistics.  The
tracer finds the modules and optimizers a function can reach (its
``__self__``, closure cells, the globals its code names, its arguments) and
lists their tensors as *slots*: places read at the start of a call and,
if the call rebinds them, written back at its end.  The same discovery gives
the guard: a signature of training modes, parameter identities, gradient
presence, optimizer state layout and hyper-parameters.
"""
import operator
import types

from ..tensor import Tensor


def _is_module(o):
    return (hasattr(o, "named_parameters") and hasattr(o, "named_buffers")
            and hasattr(o, "training") and not isinstance(o, type))


def _is_optimizer(o):
    return (hasattr(o, "param_groups") and hasattr(o, "state")
            and not isinstance(o, type))


def _code_names(code, seen=None):
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _code_names(c)
    return names


def discover(fn, args, kwargs):
    """(modules, optimizers) reachable from ``fn`` and its arguments."""
    found, seen = [], set()

    def visit(o, depth):
        if id(o) in seen or o is None or isinstance(o, (int, float, str, bytes,
                                                        Tensor)):
            return
        seen.add(id(o))
        if _is_module(o) or _is_optimizer(o):
            found.append(o)
            if _is_module(o):
                return  # its submodules are walked through the module itself
        if depth <= 0:
            return
        if isinstance(o, (list, tuple)):
            for x in o:
                visit(x, depth - 1)
        elif isinstance(o, dict):
            for x in o.values():
                visit(x, depth - 1)
        elif isinstance(o, (types.FunctionType, types.MethodType)):
            visit_fn(o, depth - 1)
        elif hasattr(o, "__dict__") and not isinstance(o, (type, types.ModuleType)):
            for x in list(vars(o).values()):
                visit(x, depth - 1)

    def visit_fn(f, depth):
        if isinstance(f, types.MethodType):
            visit(f.__self__, depth)
            f = f.__func__
        f = getattr(f, "__wrapped__", f)
        code = getattr(f, "__code__", None)
        if code is None:
            return
        for cell in f.__closure__ or ():
            try:
                visit(cell.cell_contents, depth)
            except ValueError:  # an empty cell
                pass
        g = f.__globals__
        for name in _code_names(code):
            if name in g:
                visit(g[name], depth)

    if _is_module(fn):
        found.append(fn)
        seen.add(id(fn))
    else:
        visit_fn(fn, 2)
    for a in list(args) + list(kwargs.values()):
        visit(a, 1)
    modules = [o for o in found if _is_module(o)]
    optimizers = [o for o in found if _is_optimizer(o)]
    return modules, optimizers


class Slot:
    """A captured array: ``tensor._data`` (``kind='data'``) or
    ``param.grad._data`` (``kind='grad'``, the grad tensor is rebound per step)."""

    __slots__ = ("kind", "obj", "name")

    def __init__(self, kind, obj, name):
        self.kind, self.obj, self.name = kind, obj, name

    def read(self):
        if self.kind == "data":
            return self.obj._data
        g = self.obj.grad
        return None if g is None else g._data

    def write(self, arr):
        if self.kind == "data":
            self.obj._data = arr
        else:
            self.obj.grad = None if arr is None else Tensor._make(arr)

    def __repr__(self):
        return self.name


def slots_of(modules, optimizers):
    """Every slot of the captured state, parameters first."""
    out, seen = [], set()

    def add(kind, obj, name):
        if (kind, id(obj)) not in seen:
            seen.add((kind, id(obj)))
            out.append(Slot(kind, obj, name))

    names = {}
    for mi, m in enumerate(modules):
        pre = type(m).__name__
        for n, p in m.named_parameters():
            names[id(p)] = f"{pre}.{n}"
            add("data", p, f"{pre}.{n}")
            add("grad", p, f"{pre}.{n}.grad")
        for n, b in m.named_buffers():
            if b is not None:
                add("data", b, f"{pre}.{n}")
    for o in optimizers:
        pre = type(o).__name__
        for gi, g in enumerate(o.param_groups):
            for pi, p in enumerate(g["params"]):
                pn = names.get(id(p), f"{pre}.group{gi}[{pi}]")
                add("data", p, pn)
                add("grad", p, pn + ".grad")
                for k, v in o.state.get(p, {}).items():
                    if isinstance(v, Tensor):
                        add("data", v, f"{pre}.state[{pn}].{k}")
    return out


_SIMPLE = (int, float, bool, str, type(None))
_IMMUTABLE = _SIMPLE + (tuple, frozenset)


def _hyper(v):
    if isinstance(v, _SIMPLE):
        return v
    if isinstance(v, (tuple, list)) and all(isinstance(x, _SIMPLE) for x in v):
        return tuple(v)
    if isinstance(v, Tensor) and v._data.size == 1:
        return ("tensor", float(v._data.reshape(())))
    return ("id", id(v))


class Signature:
    """Computes the state part of the cache key on every call, cheaply.

    The module tree is walked once; each call then reads every cached
    module's own ``training`` flag and its direct parameters, buffers and
    children (so replacing any of them changes the key, and a changed tree
    is walked again).
    """

    def __init__(self, modules, optimizers):
        self.modules, self.optimizers = modules, optimizers
        self._hyper_cache, self._state_cache = {}, {}
        self._walk()

    def _walk(self):
        self.trees = [list(m.modules()) if hasattr(m, "modules") else [m]
                      for m in self.modules]
        self.ids = {id(s) for t in self.trees for s in t}

    def __call__(self):
        parts = self._module_parts()
        if parts is None:
            self._walk()
            parts = self._module_parts()
        for o in self.optimizers:
            name = type(o).__name__
            parts.append(("hyper-parameters of " + name, tuple(
                [self._group_hyper(g) for g in o.param_groups])))
            parts.append(("parameters and state of " + name, self._opt_state(o)))
        return tuple(parts)

    def _opt_state(self, o):
        """Per parameter: identity, grad presence and its state's layout
        ((key, tensor identity or value) pairs).  The layouts are reused
        while every state holds the very same objects under the same keys
        (Adam updates its buffers in place), so a step checks identities."""
        ps = [p for g in o.param_groups for p in g["params"]]
        st = {id(p): v for p, v in o.state.items()}  # a Parameter hashes in Python
        dicts = [st.get(id(p)) for p in ps]
        flat = [v for d in dicts if d for v in d.values()]
        names = [k for d in dicts if d for k in d]
        hit = self._state_cache.get(id(o))
        if (hit is not None and hit[0] is o and len(hit[1]) == len(dicts)
                and all(map(operator.is_, dicts, hit[1])) and len(hit[2]) == len(flat)
                and all(map(operator.is_, flat, hit[2])) and hit[3] == names):
            layouts = hit[4]
        else:
            layouts = [() if d is None else tuple([
                (k, id(v) if isinstance(v, Tensor) else _hyper(v))
                for k, v in d.items()]) for d in dicts]
            if all(isinstance(v, (Tensor,) + _IMMUTABLE) for v in flat):
                self._state_cache[id(o)] = (o, dicts, flat, names, layouts)
        return tuple([(id(p), p.grad is None, lay) for p, lay in zip(ps, layouts)])

    def _group_hyper(self, g):
        """A param group's hyper-parameters; the last result is reused while
        the group holds the very same (immutable) values."""
        vals = tuple([v for k, v in g.items() if k != "params"])
        hit = self._hyper_cache.get(id(g))
        if hit is not None and hit[0] is g and len(hit[1]) == len(vals) and all(
                map(operator.is_, vals, hit[1])):
            return hit[2]
        out = tuple([(k, _hyper(v)) for k, v in g.items() if k != "params"])
        if all(isinstance(v, _IMMUTABLE) for v in vals):
            self._hyper_cache[id(g)] = (g, vals, out)
        return out

    def _module_parts(self):
        """Per module tree: training flags, then children, parameters (identity,
        shape, dtype, requires_grad, grad presence) and buffers; None if a
        child is not in the cached tree (walk again)."""
        parts, ids = [], self.ids
        for m, tree in zip(self.modules, self.trees):
            name = type(m).__name__
            parts.append(("training mode of " + name, tuple([s.training
                                                              for s in tree])))
            sig = []
            for s in tree:
                sub = getattr(s, "_modules", None)
                if sub is not None:
                    kids = [id(c) for c in sub.values() if c is not None]
                    if not ids.issuperset(kids):
                        return None
                    sig.append(tuple([id(c) for c in sub.values()]))
                ps = getattr(s, "_parameters", None)
                if ps:
                    sig += [(id(p), p._data.shape, p._data.dtype, p._rg,
                             p.grad is None) for p in ps.values() if p is not None]
                bs = getattr(s, "_buffers", None)
                if bs:
                    sig += [(id(b), b._data.shape, b._data.dtype)
                            for b in bs.values() if b is not None]
            parts.append(("parameters and buffers of " + name, tuple(sig)))
        return parts
