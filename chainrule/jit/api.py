"""``chainrule.jit`` and ``chainrule.compile``: compiled calls with guards.

A compiled function keeps a cache of traced graphs keyed by everything a
graph assumes: the structure of the arguments, each tensor argument's shape,
dtype and ``requires_grad``, every non-tensor argument's value (they are
static), and the captured state's signature (training modes, parameter
identities, gradient presence, optimizer state layout and hyper-parameters).
A call whose key is new is traced (run eagerly while recording); a call
whose key is cached replays the graph.
"""
import functools
import logging
import warnings

from ..errors import ChainruleError
from ..tensor import Tensor
from . import _hooks
from .passes import optimize
from .replay import GuardMiss, Program
from .state import Signature, discover, slots_of
from .tracer import Recorder, TraceBreak

log = logging.getLogger("chainrule.jit")
RETRACE_WARN = 8


class JitError(ChainruleError):
    """A function cannot be compiled as written (e.g. it branches on data)."""


def _flatten(x, leaves):
    """Append ``x``'s leaves to ``leaves``; return a hashable structure."""
    if isinstance(x, Tensor):
        leaves.append(x)
        return "T"
    if isinstance(x, (list, tuple)):
        return (type(x).__name__,) + tuple(_flatten(e, leaves) for e in x)
    if isinstance(x, dict):
        return ("dict",) + tuple((k, _flatten(x[k], leaves)) for k in x)
    leaves.append(x)
    return "S"


_PLAIN = {}  # n -> the structure of n tensor arguments and no keywords


def _unflatten(tree, it):
    if tree == "T" or tree == "S":
        return next(it)
    kind = tree[0]
    if kind == "dict":
        return {k: _unflatten(t, it) for k, t in tree[1:]}
    items = [_unflatten(t, it) for t in tree[1:]]
    return tuple(items) if kind == "tuple" else items


def _static_key(x):
    try:
        hash(x)
        return (type(x).__name__, x)
    except TypeError:
        return (type(x).__name__, id(x))


class _Entry:
    __slots__ = ("program", "graph", "eager_reason", "hits", "misses")

    def __init__(self, program, graph, eager_reason):
        self.program, self.graph, self.eager_reason = program, graph, eager_reason
        self.hits = self.misses = 0


class CompiledFunction:
    """A function (or module) whose calls run as traced graphs.

    ``mode='jit'``: a value-dependent branch on traced data raises
    :class:`JitError` naming the line.  ``mode='compile'``: such a call runs
    eagerly, with one warning (``fullgraph=True`` raises instead).
    ``backend``: ``'native'`` (generated C kernels where possible, else
    replay), ``'replay'`` (NumPy only), or ``'auto'`` (native if a C compiler
    is found).
    """

    def __init__(self, fn, mode="jit", fullgraph=False, backend="auto"):
        if not callable(fn):
            raise JitError(f"{mode}: expected a function or module, got "
                           f"{type(fn).__name__}")
        self.fn, self.mode, self.fullgraph, self.backend = fn, mode, fullgraph, backend
        self._cache = {}
        self._captured = None
        self.traces = 0
        self.retraces = 0
        self.eager_calls = 0
        self.reasons = []  # why each trace happened
        self.breaks = []  # why a trace cannot be replayed
        self._warned = set()
        self._last_key = None
        functools.update_wrapper(self, fn, updated=())
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)

    # -- keys -------------------------------------------------------------------------
    def _key(self, args, kwargs):
        if not kwargs and all([type(a) is Tensor for a in args]):
            # the common call, tensors only: its structure without the walk
            leaves = list(args)
            tree = _PLAIN.get(len(args)) or _PLAIN.setdefault(
                len(args), _flatten((args, {}), []))
            sig = tuple([(x._data.shape, x._data.dtype, x._rg) for x in args])
        else:
            leaves = []
            tree = _flatten((args, kwargs), leaves)
            sig = tuple([(x._data.shape, x._data.dtype, x._rg) if isinstance(x, Tensor)
                         else _static_key(x) for x in leaves])
        if self._captured is None:
            self._captured = discover(self.fn, args, kwargs)
            self._signature = Signature(*self._captured)
        return (("argument structure", tree), ("arguments", sig)) + \
            self._signature(), leaves, tree

    def _why(self, key):
        """What differs from the previous key, in words."""
        last = self._last_key
        if last is None:
            return "first call"
        for (name, a), (_, b) in zip(last, key):
            if a != b:
                if name == "arguments" and len(a) == len(b):
                    for i, (x, y) in enumerate(zip(a, b)):
                        if x != y:
                            return (f"argument leaf {i} changed: {_show(x)} -> "
                                    f"{_show(y)}")
                return f"{name} changed"
        return "state layout changed"

    # -- calls ------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if _hooks.active() is not None:  # inside another trace: inline it
            return self.fn(*args, **kwargs)
        if self.mode == "compile" and self._needs_tape(args):
            self.eager_calls += 1
            return self.fn(*args, **kwargs)
        key, leaves, tree = self._key(args, kwargs)
        entry = self._cache.get(key)
        if entry is None:
            return self._trace(key, leaves, args, kwargs)
        if entry.program is None:
            self.eager_calls += 1
            return self.fn(*args, **kwargs)
        try:
            outs = entry.program([x._data for x in leaves if isinstance(x, Tensor)])
        except GuardMiss as miss:
            if not miss.safe:
                raise JitError(f"{self.__name__}: a value checked while tracing "
                               f"changed after state was already updated "
                               f"({miss}); this call cannot be completed") from None
            entry.misses += 1
            self.eager_calls += 1
            return self.fn(*args, **kwargs)
        entry.hits += 1
        return _unflatten(entry.graph.out_tree, iter(outs))

    def _needs_tape(self, args):
        """A compiled module called where its output needs gradients: the tape
        must see the forward, so the call runs eagerly (compile the whole
        training step instead)."""
        from ..autograd.grad_mode import _state

        if not _state.grad or not hasattr(self.fn, "parameters"):
            return False
        return any(p._rg for p in self.fn.parameters())

    def _trace(self, key, leaves, args, kwargs):
        reason = self._why(key)
        self._last_key = key
        self.traces += 1
        if self.traces > 1:
            self.retraces += 1
        self.reasons.append(reason)
        log.info("%s: tracing (%s)", self.__name__, reason)
        if self.retraces > RETRACE_WARN and "retrace" not in self._warned:
            self._warned.add("retrace")
            warnings.warn(f"{self.__name__} was retraced {self.retraces} times; the "
                          f"last change: {reason}. Keep shapes, dtypes and modes "
                          "steady, or call it eagerly.", RuntimeWarning, stacklevel=3)
        mods, opts = self._captured
        slots = slots_of(mods, opts)
        arrays = [x._data for x in leaves if isinstance(x, Tensor)]
        rec = Recorder(arrays, slots, strict=self.mode == "jit" or self.fullgraph)
        try:
            with _hooks.recording(rec):
                result = self.fn(*args, **kwargs)
        except TraceBreak as e:
            raise JitError(f"{self.__name__}: {e}") from None
        out_leaves = []
        out_tree = _flatten(result, out_leaves)
        graph = rec.finish(out_leaves)
        graph.out_tree = out_tree
        if rec.broken is not None:
            self.breaks.append(rec.broken)
            if rec.user_break is not None and "break" not in self._warned:
                self._warned.add("break")
                warnings.warn(f"{self.__name__}: running eagerly: {rec.user_break}",
                              RuntimeWarning, stacklevel=3)
            log.info("%s: not replayable: %s", self.__name__, rec.broken)
            self._cache[key] = _Entry(None, graph, rec.broken)
        else:
            graph = optimize(graph)
            self._cache[key] = _Entry(self._lower(graph), graph, None)
        return result

    def _lower(self, graph):
        if self.backend != "replay":
            from . import native

            graph = native.lower(graph, required=self.backend == "native")
        return Program(graph)

    # -- introspection ----------------------------------------------------------
    def explain(self):
        """A report: traces and why, graphs per cache entry, eager fallbacks."""
        lines = [f"{self.__name__}: {self.traces} trace(s), {self.retraces} "
                 f"retrace(s), {self.eager_calls} eager call(s)"]
        for i, r in enumerate(self.reasons):
            lines.append(f"  trace {i + 1}: {r}")
        for b in self.breaks:
            lines.append(f"  not replayable: {b}")
        for i, e in enumerate(self._cache.values()):
            g = e.graph
            kinds = {}
            for n in g.nodes:
                kinds[n.kind] = kinds.get(n.kind, 0) + 1
            state = "eager" if e.program is None else f"{e.hits} replay(s)"
            lines.append(f"  graph {i + 1}: {len(g.nodes)} nodes {kinds}, {state}, "
                         f"{e.misses} guard miss(es)")
        return "\n".join(lines)

    def graphs(self):
        """The cached graphs (most recent last)."""
        return [e.graph for e in self._cache.values()]


def _show(x):
    if isinstance(x, tuple) and len(x) == 3 and isinstance(x[0], tuple):
        import numpy as np

        return f"shape {x[0]} {np.dtype(x[1]).name} requires_grad={x[2]}"
    return repr(x)


def jit(fn=None, *, backend="auto", static_argnums=None):
    """Compile ``fn`` (decorator): trace once per input signature, then replay.

    Non-tensor arguments are static (part of the cache key) whether or not
    ``static_argnums`` names them.  Results come back as Tensors without
    autograd history.
    """
    if fn is None:
        return lambda f: jit(f, backend=backend, static_argnums=static_argnums)
    return CompiledFunction(fn, "jit", backend=backend)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="auto",
            mode=None, options=None, disable=False):
    """torch.compile's API: a module or function whose calls are compiled.

    A call that branches on traced data runs eagerly with one warning
    (``fullgraph=True`` raises).  A compiled module called where its output
    needs gradients runs eagerly too: compile the whole training step.
    ``backend``: 'auto', 'native' or 'replay' (torch's backend names such as
    'inductor' mean 'auto').
    """
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options,
                                 disable=disable)
    if disable:
        return model
    if backend not in ("auto", "native", "replay"):
        backend = "auto"
    return CompiledFunction(model, "compile", fullgraph=fullgraph, backend=backend)


def explain(fn):
    """The report of compiled function ``fn`` (see CompiledFunction.explain)."""
    if not isinstance(fn, CompiledFunction):
        raise JitError(f"explain: expected a function made by chainrule.jit or "
                       f"chainrule.compile, got {type(fn).__name__}")
    return fn.explain()
