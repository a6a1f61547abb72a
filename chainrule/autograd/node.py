"""The tape entry :class:`Node`; it lives in ``chainrule/_tape.py`` (below
``ops/``) and is re-exported here under its historical path."""
from .._tape import Node  # noqa: F401
