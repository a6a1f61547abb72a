"""Transfer learning: reuse a trained network for a new task.

``freeze`` / ``unfreeze`` parameters by name, ``replace_head``, optimizer
groups with ``discriminative_groups`` learning rates, ``extract_features``
into a cached dataset, and the ``GradualUnfreezing`` callback.  See
``docs/transfer.md``.  (Lottery tickets live in :mod:`chainrule.lottery`,
meta-learning in :mod:`chainrule.meta`.)
"""
from .features import extract_features
from .freeze import freeze, trainable, unfreeze
from .groups import discriminative_groups
from .heads import replace_head
from .unfreezing import GradualUnfreezing

__all__ = ["GradualUnfreezing", "discriminative_groups", "extract_features", "freeze",
           "replace_head", "trainable", "unfreeze"]
