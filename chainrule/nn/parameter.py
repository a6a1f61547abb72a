"""``Parameter``: a leaf tensor that a Module registers as trainable."""
import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that requires grad by default and is registered by Modules.

    It shares storage with the data it wraps.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            arr = np.zeros((0,), np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = np.asarray(data)
        self._data = arr
        self._vc = [0]
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module."""

    def __init__(self, data, persistent=True):
        self._data = data._data if isinstance(data, Tensor) else np.asarray(data)
        self._vc = [0]
        self.persistent = persistent
