"""Datasets: anything indexable by an int, plus the ways to combine them.

A map-style :class:`Dataset` has ``__getitem__(i)`` and ``__len__``.  Those
that hold whole tensors in memory (:class:`TensorDataset`, and a
:class:`Subset` of one) also answer ``_batch(indices)``: one indexed read per
tensor for a whole batch, which the DataLoader uses instead of a Python loop
over items.
"""
import bisect
import math
from numbers import Integral, Real

from .. import ops
from ..errors import ArgumentError, IndexOutOfRange, ShapeError, fmt_shape
from ..tensor import Tensor


class Dataset:
    """Base class of map-style datasets: ``ds[i]`` for ``0 <= i < len(ds)``."""

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__}: a Dataset subclass must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of datasets read as a stream: define ``__iter__``."""

    def __iter__(self):
        raise NotImplementedError(
            f"{type(self).__name__}: an IterableDataset subclass must define __iter__")

    def __add__(self, other):
        raise ArgumentError("IterableDataset: concatenation is not supported; chain "
                            "the iterators with itertools.chain instead")


def _check_index(i, n, who):
    if not isinstance(i, Integral) or isinstance(i, bool):
        raise ArgumentError(f"{who}: index must be an int, got {type(i).__name__}")
    if i < -n or i >= n:
        raise IndexOutOfRange(f"{who}: index {i} is out of range for a dataset of "
                              f"length {n}")
    return int(i) % n if n else 0


class TensorDataset(Dataset):
    """Samples are rows of tensors that share their first dimension.

    ``TensorDataset(X, y)`` with X of shape (N, ...) and y of shape (N, ...):
    item ``i`` is ``(X[i], y[i])``.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ArgumentError("TensorDataset: expected at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise ArgumentError("TensorDataset: every argument must be a Tensor, "
                                    f"got {type(t).__name__}")
            if t.ndim == 0:
                raise ShapeError("TensorDataset: tensors need a first (sample) "
                                 "dimension, got a 0-d tensor")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ShapeError(
                "TensorDataset: size mismatch between tensors; all must have the same "
                "first dimension, got shapes "
                + ", ".join(fmt_shape(t.shape) for t in tensors))
        self.tensors = tuple(tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        i = _check_index(index, len(self), "TensorDataset")
        return tuple(t[i] for t in self.tensors)

    def _batch(self, indices):
        """The samples at ``indices`` (a list of ints), already stacked."""
        idx = ops.tensor(indices, dtype="int64")
        return [t[idx] for t in self.tensors]


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[_check_index(index, len(self), "Subset")]]

    def _batch(self, indices):
        return self.dataset._batch([self.indices[i] for i in indices])


def _owner(cls, name):
    return next((c for c in cls.__mro__ if name in c.__dict__), None)


def _has_batch(dataset):
    """Whether ``dataset`` can fetch a whole batch at once.

    Only if ``_batch`` is defined where ``__getitem__`` is (or below): a
    subclass that overrides ``__getitem__`` (to augment, say) must see its
    own method called for every item.
    """
    while type(dataset) is Subset:
        dataset = dataset.dataset
    cls = type(dataset)
    batch, item = _owner(cls, "_batch"), _owner(cls, "__getitem__")
    return batch is not None and item is not None and issubclass(batch, item)


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ArgumentError("ConcatDataset: datasets should not be an empty list")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ArgumentError("ConcatDataset: does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        i = _check_index(index, len(self), "ConcatDataset")
        k = bisect.bisect_right(self.cumulative_sizes, i)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][i - start]


def _split_lengths(lengths, n):
    """Absolute lengths from ``lengths`` (ints summing to n, or fractions to 1)."""
    lengths = list(lengths)
    if not lengths:
        raise ArgumentError("random_split: lengths must not be empty")
    if all(isinstance(x, Integral) and not isinstance(x, bool) for x in lengths):
        if any(x < 0 for x in lengths) or sum(lengths) != n:
            raise ArgumentError(
                f"random_split: sum of input lengths {list(lengths)} does not equal "
                f"the length of the input dataset ({n})")
        return [int(x) for x in lengths]
    if not all(isinstance(x, Real) and 0 <= x <= 1 for x in lengths) or \
            not math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
        raise ArgumentError(
            "random_split: lengths must be non-negative ints summing to the dataset "
            f"length ({n}) or fractions in [0, 1] summing to 1, got {lengths}")
    out = [int(math.floor(n * f)) for f in lengths]
    # Hand out the remainder one item at a time, round-robin (PyTorch's rule).
    for i in range(n - sum(out)):
        out[i % len(out)] += 1
    return out


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` s.

    ``lengths``: ints summing to ``len(dataset)`` or fractions summing to 1
    (the remainder of flooring goes to the first splits).  The permutation is
    drawn from ``generator`` (a ``chainrule.Generator``; default: the global
    one).
    """
    n = len(dataset)
    sizes = _split_lengths(lengths, n)
    perm = ops.randperm(n, generator=generator).tolist()
    out, start = [], 0
    for s in sizes:
        out.append(Subset(dataset, perm[start:start + s]))
        start += s
    return out
