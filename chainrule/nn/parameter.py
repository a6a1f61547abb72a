"""``Parameter``: a leaf tensor that a Module registers as trainable."""
import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that requires grad by default and is registered by Modules.

    It shares storage with the data it wraps, and so (as in PyTorch) its
    version counter: an in-place change of the wrapped tensor is an in-place
    change of the parameter, which backward must detect.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            arr, vc = np.zeros((0,), np.float32), [0]
        elif isinstance(data, Tensor):
            arr, vc = data._data, data._vc
        else:
            arr, vc = np.asarray(data), [0]
        self._data = arr
        self._vc = vc
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module."""

    def __init__(self, data, persistent=True):
        if isinstance(data, Tensor):  # shared storage, shared version counter
            self._data, self._vc = data._data, data._vc
        else:
            self._data, self._vc = np.asarray(data), [0]
        self.persistent = persistent
