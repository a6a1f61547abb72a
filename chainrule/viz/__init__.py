"""Pictures: learning curves (and, later, computation graphs)."""
from .plot import plot_history  # noqa: F401
