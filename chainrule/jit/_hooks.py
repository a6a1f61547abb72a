"""Where the tracer listens: every primitive call, plus today's escapes.

Primitive calls are observed through the dispatcher's interpreter stack
(``chainrule._tape.interpreting``) when it exists, else through the
dispatcher's observer hook (``ops._core._observe``, which ``apply`` calls for
every primitive while ``_state.slow`` is set).

A few computations still bypass the primitive table; the tracer wraps them
for the duration of a trace so that it either records them or refuses to
replay:

- ``ops.inplace._write`` -- an in-place op's store of its result
  (``np.copyto``): recorded as a ``copyto`` node;
- ``autograd.engine._accumulate_leaf`` -- the gradient accumulator may store a
  private copy of a gradient: recorded as a ``copy`` node;
- ``Tensor.__setitem__`` outside autograd -- a raw indexed store: the trace
  is marked not replayable;
- ``Tensor.item``/``__bool__``/``tolist``/``numpy``/``__array__`` -- reading
  a traced value in Python: a guard (library code) or a trace break (user
  code).
"""
import contextlib
import os
import sys

from ..tensor import Tensor

_active = []  # the recorders of the traces in progress (innermost last)


def active():
    """The recorder of the trace in progress, or None."""
    return _active[-1] if _active else None


_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SKIP = (os.path.join(_PKG, "tensor.py"), os.path.join(_PKG, "_tensor_methods.py"),
         os.path.dirname(os.path.abspath(__file__)))


def caller():
    """(is_library, 'file:line: code') of the code that read a traced value."""
    import linecache

    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_SKIP):
        f = f.f_back
    if f is None:
        return False, "<unknown>"
    fn = f.f_code.co_filename
    lib = fn.startswith(_PKG + os.sep)
    line = linecache.getline(fn, f.f_lineno).strip()
    return lib, f"{fn}:{f.f_lineno}: {line}"


def _wrap_reader(name, orig):
    def reader(self, *a, **k):
        res = orig(self, *a, **k)
        rec = active()
        if rec is not None:
            rec.value_read(self, name, res)
        return res

    reader.__name__ = orig.__name__
    reader.__doc__ = orig.__doc__
    return reader


_READERS = ("item", "__bool__", "tolist", "numpy", "__array__")


@contextlib.contextmanager
def recording(rec):
    """Send every primitive call and escape to ``rec`` while the block runs."""
    import importlib

    from ..autograd.grad_mode import _state

    engine = importlib.import_module("chainrule.autograd.engine")
    inplace = importlib.import_module("chainrule.ops.inplace")
    _core = importlib.import_module("chainrule.ops._core")

    saved = []

    def patch(obj, attr, new):
        # An escape that has become a primitive (e.g. in-place stores as an
        # ``assign`` primitive) is gone from its module: nothing to wrap, the
        # primitive hook records it.
        if attr not in obj.__dict__:
            return
        saved.append((obj, attr, obj.__dict__[attr]))
        setattr(obj, attr, new)

    orig_write = getattr(inplace, "_write", None)
    orig_acc = engine._accumulate_leaf
    orig_setitem = Tensor.__setitem__

    def write(x, data, name):
        if data is not x._data:
            rec.store(x, data)
        return orig_write(x, data, name)

    def accumulate(t, g, create_graph, fresh):
        before = t.grad
        orig_acc(t, g, create_graph, fresh)
        rec.accumulated(t, g, before)

    def setitem(x, index, value):
        n, vc = len(rec.graph.nodes), x._vc[0]
        orig_setitem(x, index, value)
        if len(rec.graph.nodes) == n and x._vc[0] != vc:
            rec.escape("x[index] = value outside autograd writes the array "
                       "directly (not through a primitive)")

    patch(inplace, "_write", write)
    patch(engine, "_accumulate_leaf", accumulate)
    patch(Tensor, "__setitem__", setitem)
    for name in _READERS:
        if name in Tensor.__dict__:
            patch(Tensor, name, _wrap_reader(name, Tensor.__dict__[name]))
    interp = _interpreter(rec)
    _active.append(rec)
    try:
        if interp is not None:
            with interp:
                yield rec
        else:
            orig_observe = _core._observe

            def observe(prim, inputs, params, outs):
                orig_observe(prim, inputs, params, outs)
                rec.observe(prim, inputs, params, outs)

            patch(_core, "_observe", observe)
            _state.slow = True
            try:
                yield rec
            finally:
                _state._update()
    finally:
        _active.pop()
        for obj, attr, old in reversed(saved):
            setattr(obj, attr, old)


def _interpreter(rec):
    """The interpreter-stack context for ``rec``, if the dispatcher has one."""
    try:
        from .. import _tape
    except ImportError:
        return None
    if os.path.dirname(os.path.abspath(_tape.__file__)) != _PKG:
        return None  # another checkout's module: not this dispatcher's stack
    Interpreter, interpreting = _tape.Interpreter, _tape.interpreting

    class Tracer(Interpreter):
        def observe(self, prim, inputs, params, outs):
            rec.observe(prim, inputs, params, outs)

    return interpreting(Tracer())
