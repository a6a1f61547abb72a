"""``chainrule.nn``: modules, layers, activations, losses and initialisers."""
from . import functional  # noqa: F401
from .module import Module  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
