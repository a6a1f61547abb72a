"""Samplers: which indices a DataLoader reads, and in what order.

Random samplers draw from a ``chainrule.Generator`` (the global one unless
given ``generator=``), and fix a whole epoch's order when iteration starts,
so saving the generator's state between epochs is enough to replay the next
epoch exactly.  A long epoch (``RandomSampler(..., num_samples=int(1e10))``,
the "infinite loader" of many training scripts) is not drawn up front: its
start takes one seed from the generator, and a private generator seeded with
it yields the indices in chunks as they are consumed.
"""
from numbers import Integral

from .. import ops
from ..errors import ArgumentError
from ..random import Generator
from ..tensor import Tensor

_CHUNK = 1 << 16  # indices drawn at a time by a long RandomSampler epoch


def _positive_int(value, name, who, allow_zero=False):
    if not isinstance(value, Integral) or isinstance(value, bool) or \
            value < (0 if allow_zero else 1):
        kind = "non-negative" if allow_zero else "positive"
        raise ArgumentError(f"{who}: {name} should be a {kind} integer, got {value!r}")
    return int(value)


class Sampler:
    """Base class: iterate over dataset indices."""

    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise TypeError(f"{type(self).__name__} has no length")


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the dataset's indices, new each epoch.

    Without replacement (default): a permutation, every index exactly once
    (``num_samples`` larger than the dataset repeats whole permutations).
    With replacement: ``num_samples`` independent uniform draws.  Any
    ``num_samples`` works, ``int(1e10)`` too: such epochs are drawn lazily.
    """

    def __init__(self, data_source, replacement=False, num_samples=None,
                 generator=None):
        if not isinstance(replacement, bool):
            raise ArgumentError("RandomSampler: replacement should be a boolean, "
                                f"got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None:
            _positive_int(num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, k = len(self.data_source), self.num_samples
        if n == 0:
            return iter(())
        if not self.replacement and k <= n:  # one permutation, drawn now
            return iter(ops.randperm(n, generator=self.generator)[:k].tolist())
        # Longer epochs: one draw now fixes the epoch; indices come lazily.
        seed = ops.randint(0, 2**62, (), generator=self.generator).item()
        return self._lazy(n, k, Generator().manual_seed(seed))

    def _lazy(self, n, k, gen):
        """``k`` indices of ``n`` from ``gen``, ``_CHUNK`` (or one permutation)
        at a time, so memory stays bounded however large ``k`` is."""
        while k > 0:
            if self.replacement:
                chunk = ops.randint(0, n, (min(k, _CHUNK),), generator=gen).tolist()
            else:
                chunk = ops.randperm(n, generator=gen)[:k].tolist()
            k -= len(chunk)
            yield from chunk

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, new each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = [int(i) for i in indices]
        self.generator = generator

    def __iter__(self):
        perm = ops.randperm(len(self.indices), generator=self.generator).tolist()
        return iter([self.indices[i] for i in perm])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    ``weights``: a sequence or 1-d tensor of non-negative numbers, one per
    dataset item (e.g. inverse class frequencies to balance classes).
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        w = weights if isinstance(weights, Tensor) else ops.tensor(
            [float(x) for x in weights], dtype="float64")
        if w.ndim != 1 or w.shape[0] == 0:
            raise ArgumentError("WeightedRandomSampler: weights should be a non-empty "
                                f"1-d sequence, got shape {tuple(w.shape)}")
        if bool((w < 0).any()) or not bool(w.isfinite().all()) or w.sum().item() <= 0:
            raise ArgumentError("WeightedRandomSampler: weights must be finite and "
                                "non-negative with a positive sum")
        self.weights = w.double()
        self.num_samples = _positive_int(num_samples, "num_samples",
                                         "WeightedRandomSampler")
        if not isinstance(replacement, bool):
            raise ArgumentError("WeightedRandomSampler: replacement should be a "
                                f"boolean, got {replacement!r}")
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        draw = ops.multinomial(self.weights, self.num_samples, self.replacement,
                               generator=self.generator)
        return iter(draw.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of ``batch_size``."""

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        if not isinstance(drop_last, bool):
            raise ArgumentError("BatchSampler: drop_last should be a boolean, got "
                                f"{drop_last!r}")
        self.drop_last = drop_last

    def __iter__(self):
        # iter() now, not inside the generator: the epoch's order is drawn
        # when iteration starts, not when the first batch is requested.
        return self._batches(iter(self.sampler))

    def _batches(self, it):
        batch = []
        for i in it:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size
