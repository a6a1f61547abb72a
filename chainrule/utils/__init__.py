"""PyTorch-compatible paths: ``chainrule.utils.data`` *is* ``chainrule.data``,
so ``from chainrule.utils.data import DataLoader`` works as in PyTorch."""
import sys

from .. import data

sys.modules[__name__ + ".data"] = data
