"""The op families.  ``PRIMITIVES`` is the table; the functions are its
public, PyTorch-named front ends (re-exported as ``chainrule.*``)."""
from ._core import PRIMITIVES, Primitive, apply, primitive  # noqa: F401
from ._util import to_dtype  # noqa: F401
from .creation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .inplace import copy_, fill_, inplace, setitem, zero_  # noqa: F401
from .linalg import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from . import conv  # noqa: F401,E402  (registers the window primitives)
from . import collective  # noqa: F401,E402  (registers the collectives)
# The fused, layer and optimizer primitives register here too, so the table is
# complete at ``import chainrule`` (interpreters iterate it).
from . import fused, nn_ops, optim_ops  # noqa: F401,E402
from . import gaussian  # noqa: F401,E402  (the Gaussian log marginal likelihood)
from .elementwise import abs, pow, round  # noqa: F401  (shadow builtins on purpose)
from .reduce import all, any, max, min, sum  # noqa: F401

# What ``from chainrule.ops import *`` (and so ``chainrule.*``) exports: the op
# functions, not the family modules or the dispatcher's internals.
__all__ = [n for n, v in list(globals().items())
           if not n.startswith("_") and type(v).__name__ != "module"
           and n not in ("apply", "primitive", "Primitive", "PRIMITIVES", "inplace")]
