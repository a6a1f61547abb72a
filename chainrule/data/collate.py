"""Turning a list of samples into one batch (PyTorch's ``default_collate``)."""
from collections.abc import Mapping, Sequence

import numpy as np

from .. import ops
from ..errors import DTypeError, ShapeError, fmt_shape
from ..tensor import Tensor


def default_collate(batch):
    """Stack a list of samples into a batch, recursing into containers.

    Tensors of shape S become one tensor of shape (B, *S); Python floats a
    float64 tensor of shape (B,), ints an int64 tensor, bools a bool tensor;
    NumPy arrays are converted then stacked; strings stay a list; dicts are
    collated per key; tuples and lists are collated per position (returned
    as a list; named tuples keep their type).
    """
    if not batch:
        raise ShapeError("default_collate: cannot collate an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {tuple(b.shape) for b in batch}
        if len(shapes) > 1:
            raise ShapeError(
                "default_collate: stack expects each tensor to be equal size, got "
                + ", ".join(fmt_shape(s) for s in sorted(shapes))
                + "; pad the samples or pass a collate_fn")
        return ops.stack(batch)
    if isinstance(elem, np.ndarray):
        return default_collate([ops.as_tensor(b) for b in batch])
    if isinstance(elem, (bool, np.bool_)):
        return ops.tensor([bool(b) for b in batch])
    if isinstance(elem, (int, np.integer)):
        return ops.tensor([int(b) for b in batch], dtype="int64")
    if isinstance(elem, (float, np.floating)):
        return ops.tensor([float(b) for b in batch], dtype="float64")
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise ShapeError("default_collate: each element in the list of the batch "
                             "should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise DTypeError(
        "default_collate: batch must contain tensors, NumPy arrays, numbers, "
        f"strings, dicts or lists; found {type(elem).__name__}")


def default_convert(data):
    """Convert NumPy arrays to tensors, recursing into containers (no stacking).

    Used when the DataLoader's automatic batching is off (``batch_size=None``).
    """
    if isinstance(data, np.ndarray):
        return ops.as_tensor(data)
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data
