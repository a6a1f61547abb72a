"""Learning curves: ``plot_history(history, path)`` writes a PNG.

matplotlib is an optional extra (``pip install 'chainrule[plot]'``), imported
only here, through its object-oriented API with the Agg canvas: no window
opens and the global pyplot backend of the caller is left alone.
"""
import os
from pathlib import Path

from ..errors import ArgumentError

_SKIP = ("lr",)


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError("plot_history needs matplotlib, which is not installed; "
                          "install it with: pip install 'chainrule[plot]'") from None
    return Figure, FigureCanvasAgg, MaxNLocator


def _series(history):
    h = getattr(history, "history", history)
    if not isinstance(h, dict) or not h:
        raise ArgumentError("plot_history: expected a History (from fit) or a dict of "
                            f"lists of numbers, got {type(history).__name__}")
    return {k: [float(x) for x in v] for k, v in h.items()}


def plot_history(history, path, *, title=None, dpi=100):
    """Plot the training and validation curves of ``history`` to a PNG at ``path``.

    One panel per quantity (loss first, then each metric), the training curve
    solid and the ``val_`` curve dashed, against the epoch (from 1).  The
    learning rate, if logged, is left out.  Returns the path written.
    """
    series = _series(history)
    names = [k for k in series if not k.startswith("val_") and k not in _SKIP]
    names += [k[4:] for k in series if k.startswith("val_") and k[4:] not in names]
    names.sort(key=lambda k: (k != "loss", list(series).index(k) if k in series
                              else len(series)))
    if not names:
        raise ArgumentError("plot_history: the history has nothing to plot (keys: "
                            f"{', '.join(series)})")
    Figure, Canvas, IntLocator = _matplotlib()
    fig = Figure(figsize=(4.2 * len(names), 3.4), dpi=dpi)
    Canvas(fig)
    for i, name in enumerate(names, 1):
        ax = fig.add_subplot(1, len(names), i)
        for key, style, label in ((name, "-", "train"), ("val_" + name, "--",
                                                         "validation")):
            if key in series:
                ys = series[key]
                ax.plot(range(1, len(ys) + 1), ys, style, marker="o", markersize=3,
                        label=label)
        ax.xaxis.set_major_locator(IntLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(os.fspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
