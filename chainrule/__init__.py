"""chainrule: a small, readable deep-learning framework on NumPy.

PyTorch's API wherever PyTorch has the feature::

    import chainrule as cr
    x = cr.randn(3, requires_grad=True)
    (x * x).sum().backward()
    x.grad  # 2 * x
"""
from . import _malloc
from . import _tensor_methods  # noqa: F401  (binds Tensor methods)
from ._device import device  # noqa: F401
from ._threads import get_num_threads, set_num_threads  # noqa: F401
from ._dtype import (  # noqa: F401
    DType, float32, float64, get_default_dtype, int32, int64, promote_types,
    set_default_dtype,
)
from ._dtype import bool_ as bool  # noqa: F401,A001
from .autograd import (  # noqa: F401
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)
from .errors import (  # noqa: F401
    ArgumentError, AutogradError, ChainruleError, DTypeError, IndexOutOfRange,
    LinAlgError, ShapeError,
)
from .ops import *  # noqa: F401,F403
from .ops import abs, all, any, max, min, pow, round, sum  # noqa: F401,A001
from .random import (  # noqa: F401
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
    set_rng_state,
)
from .tensor import Tensor  # noqa: F401
from ._extra import *  # noqa: F401,F403,E402  (PyTorch's composite functions)
from ._tensor_methods import TOP_LEVEL as _TOP_LEVEL  # noqa: E402
globals().update(_TOP_LEVEL)
from . import autograd, linalg  # noqa: F401,E402
from . import jit  # noqa: E402,F401  (chainrule.jit is also the decorator)
from .jit import compile  # noqa: E402,A001,F401

float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
Size = tuple

__version__ = "0.1.0"

_malloc.tune()


# Subpackages load on first use (``cr.nn``, ``import chainrule.optim``...), so
# ``import chainrule`` pays only for tensors, ops and autograd.
_LAZY_MODULES = ("nn", "optim", "func", "data", "utils", "io", "train", "viz",
                 "distributed", "cuda", "backends", "distributions", "gp", "bayes",
                 "onnx", "tune", "text", "transfer", "lottery", "meta", "autobatch")
_LAZY_NAMES = {"save": "io", "load": "io", "explain": "viz"}
from ._extra import NN_FUNCTIONAL_ALIASES as _NN_ALIASES  # noqa: E402
_LAZY_NAMES.update(_NN_ALIASES)


def __getattr__(name):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module("." + name, __name__)
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module("." + _LAZY_NAMES[name], __name__),
                        name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_NAMES))


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()
