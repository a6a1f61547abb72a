"""``chainrule.func``: the functional transforms (``grad``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd``, ``hessian``, ...).  They are interpreters of the
primitive table and live in ``chainrule/autograd/func.py``; this module is
that same module under its public name."""
import sys

from .autograd import func as _func

sys.modules[__name__] = _func
