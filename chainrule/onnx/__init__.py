"""``chainrule.onnx``: export to ONNX with PyTorch's ``torch.onnx.export`` API."""
from ._ops import RULES  # noqa: F401
from ._record import ExportError  # noqa: F401
from .export import export  # noqa: F401
