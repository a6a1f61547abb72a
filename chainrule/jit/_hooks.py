"""Where the tracer listens: every primitive call, plus two Python-level events.

Primitive calls (in-place stores included: the ``store`` primitive) are
observed by an interpreter on the dispatcher's stack
(``chainrule._tape.interpreting``).  Two things are not array computations,
so the tracer wraps them for the duration of a trace:

- ``autograd.engine._accumulate_leaf`` -- which Tensor becomes ``p.grad``
  (a Python attribute): recorded as a ``copy`` node;
- ``Tensor.item``/``__bool__``/``tolist``/``numpy``/``__array__`` -- reading
  a traced value in Python: a guard (library code) or a trace break (user
  code).
"""
import contextlib
import os
import sys

from .._tape import Interpreter, interpreting
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

    engine = importlib.import_module("chainrule.autograd.engine")

    saved = []

    def patch(obj, attr, new):
        if attr not in obj.__dict__:  # e.g. a reader Tensor does not define
            return
        saved.append((obj, attr, obj.__dict__[attr]))
        setattr(obj, attr, new)

    orig_acc = engine._accumulate_leaf

    def accumulate(t, g, create_graph, fresh):
        before = t.grad
        orig_acc(t, g, create_graph, fresh)
        rec.accumulated(t, g, before)

    patch(engine, "_accumulate_leaf", accumulate)
    for name in _READERS:
        if name in Tensor.__dict__:
            patch(Tensor, name, _wrap_reader(name, Tensor.__dict__[name]))
    _active.append(rec)
    try:
        with interpreting(_Tracer(rec)):
            yield rec
    finally:
        _active.pop()
        for obj, attr, old in reversed(saved):
            setattr(obj, attr, old)


class _Tracer(Interpreter):
    """Hands every primitive call to the recorder of the trace."""

    def __init__(self, rec):
        self.rec = rec

    def observe(self, prim, inputs, params, outs):
        self.rec.observe(prim, inputs, params, outs)
