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
    "TerminateOnNaN", "Trainer", "metrics",
]
