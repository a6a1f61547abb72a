"""Training: the Keras-style :class:`Trainer`, metrics and callbacks.

The explicit PyTorch loop needs none of this; it is for when ``fit`` is
enough.
"""
from . import metrics
from .callbacks import (
    Callback, CallbackList, CSVLogger, EarlyStopping, History,
    LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
)
from .progress import ProgressBar
from .trainer import Trainer

__all__ = [
    "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History",
    "LearningRateScheduler", "ModelCheckpoint", "ProgressBar", "ReduceLROnPlateau",
    "TerminateOnNaN", "Trainer", "metrics", "plot_history",
]


def __getattr__(name):
    # plot_history lives in chainrule.viz (above train in the layer order);
    # it is offered here too, where the README lists it, and loaded on use.
    if name == "plot_history":
        from ..viz import plot_history

        return plot_history
    raise AttributeError(f"module 'chainrule.train' has no attribute {name!r}")
