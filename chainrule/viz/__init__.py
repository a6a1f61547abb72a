"""Pictures: learning curves, computation graphs and the chain rule walked."""
from .plot import plot_history  # noqa: F401
from .walk import Explanation, explain  # noqa: F401
from .graph import Graph, ModuleRecord, draw_graph, draw_model, record_modules  # noqa: F401
