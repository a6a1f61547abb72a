"""DataLoader: batches from a dataset, in order or shuffled.

With ``num_workers=0`` loading happens in the calling process; an in-memory
:class:`TensorDataset` is batched with one indexed read per tensor instead of
a Python loop over items, and stays in process whatever ``num_workers`` says
(workers would only add the cost of sending its slices between processes).
Other datasets with ``num_workers > 0`` load in worker processes, with
PyTorch's semantics: see :mod:`chainrule.data._workers`.
"""
from numbers import Integral

from ..errors import ArgumentError
from .collate import default_collate, default_convert
from .dataset import IterableDataset, _has_batch
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style Dataset (``ds[i]``, ``len(ds)``) or an
            IterableDataset.
        batch_size: samples per batch (int), or None to yield single samples.
        shuffle: draw a new random order every epoch.  The order is drawn
            from ``generator`` (default: the global generator) when iteration
            starts, so its state between epochs determines the next epoch.
        sampler / batch_sampler: custom index order / custom batches
            (mutually exclusive with ``shuffle``; ``batch_sampler`` also with
            ``batch_size``, ``sampler`` and ``drop_last``).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        collate_fn: list of samples -> batch (default :func:`default_collate`).
        generator: the ``chainrule.Generator`` used for shuffling.

    A batch from ``TensorDataset(X, y)`` is a list ``[X[idx], y[idx]]`` with
    X[idx] of shape (B, ...).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None,
                 batch_sampler=None, num_workers=0, collate_fn=None,
                 pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if batch_size is not None and (not isinstance(batch_size, Integral) or
                                       isinstance(batch_size, bool) or
                                       batch_size < 1):
            raise ArgumentError("DataLoader: batch_size should be a positive integer "
                                f"or None, got {batch_size!r}")
        if not isinstance(num_workers, Integral) or num_workers < 0:
            raise ArgumentError("DataLoader: num_workers should be a non-negative "
                                f"integer, got {num_workers!r}")
        if not isinstance(drop_last, bool):
            raise ArgumentError(f"DataLoader: drop_last should be a boolean, got "
                                f"{drop_last!r}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
            raise ArgumentError("DataLoader: prefetch_factor and persistent_workers "
                                "need num_workers > 0")
        if prefetch_factor is not None and (not isinstance(prefetch_factor, Integral)
                                            or prefetch_factor < 1):
            raise ArgumentError("DataLoader: prefetch_factor should be a positive "
                                f"integer, got {prefetch_factor!r}")
        if timeout < 0:
            raise ArgumentError(f"DataLoader: timeout should be >= 0, got {timeout!r}")
        self.dataset = dataset
        self.num_workers = num_workers
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None else prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.timeout = timeout
        self._pool = None
        self.generator = generator
        self.drop_last = drop_last
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False) or sampler is not None or \
                    batch_sampler is not None:
                raise ArgumentError(
                    "DataLoader: an IterableDataset defines its own order; "
                    "shuffle, sampler and batch_sampler must not be given")
        elif not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise ArgumentError(
                "DataLoader: dataset must support len() and integer indexing (a "
                f"map-style Dataset) or be an IterableDataset, got "
                f"{type(dataset).__name__}")
        if sampler is not None and shuffle:
            raise ArgumentError("DataLoader: sampler option is mutually exclusive "
                                "with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ArgumentError(
                    "DataLoader: batch_sampler option is mutually exclusive with "
                    "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ArgumentError("DataLoader: batch_size=None option disables "
                                "auto-batching and is mutually exclusive with "
                                "drop_last")
        if not self._iterable:
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle
                           else SequentialSampler(dataset))
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_batch else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_batch(self):
        return self.batch_sampler is not None or (self._iterable and
                                                  self.batch_size is not None)

    def __iter__(self):
        if self.num_workers and not self._in_process():
            return self._iter_workers()
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        batches = iter(self.batch_sampler)  # draws this epoch's order now
        return self._iter_map(batches)

    def _in_process(self):
        """In-memory tensors batched by slicing: no worker can do that faster."""
        return (not self._iterable and self._auto_batch and self._default_collate
                and self.worker_init_fn is None and _has_batch(self.dataset))

    def _iter_workers(self):
        from .. import ops
        from . import _workers

        # Drawn when iteration starts, before the epoch's order, from the
        # loader's generator: the workers' seeds follow the run's seed.
        base_seed = ops.randint(0, 2**62, (), generator=self.generator).item()
        if self._iterable:
            batches = None
        elif self.batch_sampler is None:
            batches = iter(self.sampler)
        else:
            batches = iter(self.batch_sampler)  # draws this epoch's order now
        if self._pool is None:
            self._pool = _workers.WorkerPool(self, base_seed)
        return _workers.iterate(self, self._pool, batches)

    def __getstate__(self):  # (workers get the loader without the pool)
        state = dict(self.__dict__)
        state["_pool"] = None
        return state

    def _iter_map(self, batches):
        fetch = self._fetcher()
        for indices in batches:
            yield fetch(indices)

    def _fetcher(self):
        """A function: list of indices -> the batch this loader would yield for them
        (map-style, auto-batching loaders).  ``Trainer.fit`` uses it to check a
        trial batch without iterating, which would draw a shuffle order."""
        ds = self.dataset
        if self._default_collate and _has_batch(ds):
            return ds._batch
        getitems = getattr(ds, "__getitems__", None)
        if getitems is not None:
            return lambda indices: self.collate_fn(getitems(indices))
        return lambda indices: self.collate_fn([ds[i] for i in indices])

    def _iter_stream(self):
        if self.batch_size is None:
            for item in self.dataset:
                yield self.collate_fn(item)
            return
        batch = []
        for item in self.dataset:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length
            if self.batch_size is None:
                return n
            if self.drop_last:
                return n // self.batch_size
            return (n + self.batch_size - 1) // self.batch_size
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)


__all__ = ["DataLoader", "Sampler"]


def get_worker_info():
    """Inside a DataLoader worker process, its ``WorkerInfo`` (``id``,
    ``num_workers``, ``seed``, ``dataset``); None in the main process."""
    from ._workers import get_worker_info as info

    return info()
