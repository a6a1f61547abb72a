"""The compiler: trace a whole call once, replay it fast.

``chainrule.jit(fn)`` and ``chainrule.compile(model_or_fn)`` record every
primitive call of a function call (forward, backward rules, optimizer
updates, random draws) into a graph (:mod:`.ir`), optimise it
(:mod:`.passes`) and run it with the NumPy replay backend (:mod:`.replay`)
or generated C kernels (:mod:`.native`).  See ``docs/compiler.md``.
"""
from .api import CompiledFunction, JitError, compile, explain, jit  # noqa: F401

import sys as _sys
import types as _types


class _CallableModule(_types.ModuleType):
    """``chainrule.jit`` is both this package and the decorator: ``@cr.jit``
    and ``cr.jit.explain(step)`` both read naturally."""

    def __call__(self, fn=None, **kwargs):
        return jit(fn, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
