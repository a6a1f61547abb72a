"""``chainrule.io``: checkpoints (safetensors, never pickle) -- see
:mod:`chainrule.io.checkpoint` for the format and its guarantees."""
from .checkpoint import CheckpointError, load, save  # noqa: F401
from .torch_weights import (  # noqa: F401,E402
    ImportReport, load_torch_weights, save_torch_weights,
)
