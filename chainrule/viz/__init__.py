"""Pictures: learning curves, computation graphs and the chain rule walked."""
from .plot import plot_history  # noqa: F401
from .walk import Explanation, explain  # noqa: F401
