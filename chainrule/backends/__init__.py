"""``chainrule.backends``: PyTorch's backend switches, on a CPU-only framework.

Programs set ``torch.backends.cudnn.benchmark = True`` or ask
``torch.backends.mps.is_available()`` before choosing a device; here the
flags are plain attributes with PyTorch's defaults (they change nothing, as
there is no cuDNN) and no accelerator backend is available.
"""
from . import cudnn, mps  # noqa: F401
