"""Exceptions raised by chainrule.

Every user-facing error is a subclass of :class:`ChainruleError` *and* of the
built-in class a Python or PyTorch user would catch: shape problems are both
``ValueError`` and ``RuntimeError`` (PyTorch raises ``RuntimeError``), dtype
problems both ``TypeError`` and ``RuntimeError``, and so on.
"""


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class ShapeError(ChainruleError, ValueError, RuntimeError):
    """Operands whose shapes do not fit the op."""


class DTypeError(ChainruleError, TypeError, RuntimeError):
    """Operands whose dtypes the op does not accept."""


class IndexOutOfRange(ChainruleError, IndexError, RuntimeError):
    """An index or dim outside the valid range (PyTorch raises IndexError for
    ``x[i]`` and dims, RuntimeError for gather/scatter indices: both catch it)."""


class AutogradError(ChainruleError, RuntimeError):
    """Misuse of automatic differentiation (freed graph, in-place change...)."""


class ArgumentError(ChainruleError, ValueError):
    """An argument value outside what the op accepts."""


def fmt_shape(shape):
    """``(2, 3)`` -> ``[2, 3]``, the way PyTorch prints sizes in messages."""
    return "[" + ", ".join(str(s) for s in shape) + "]"


class LinAlgError(ChainruleError, RuntimeError):
    """A linear-algebra op met a singular or non-definite matrix."""


class DataDependentShape(ShapeError):
    """An abstract evaluation asked for a shape only the data determines
    (``nonzero``, a boolean-mask index)."""
