"""DistributedSampler: each process of a data-parallel job reads its share.

The dataset's indices (shuffled with ``seed + epoch``, identically on every
process) are padded by repeating the first ones so that they divide evenly,
or cut with ``drop_last``, and process ``rank`` takes every
``num_replicas``-th index starting at ``rank``.  So with N processes and
per-process batch b, the samples of step k on all processes together are
the samples of step k of one process with batch N*b reading the same padded
order round-robin; the data-order contract is documented in
``docs/distributed.md``.
"""
import math

from .. import ops
from ..errors import ArgumentError
from ..random import Generator
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Indices of ``dataset`` for process ``rank`` of ``num_replicas``.

    ``num_replicas`` and ``rank`` default to the process group's. Call
    ``set_epoch(e)`` before each epoch so every epoch gets a new order.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            # The process group lives above data/ (distributed/ is the top
            # layer), so ask it only when the caller left these out.
            from ..distributed import get_rank, get_world_size

            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ArgumentError(f"DistributedSampler: num_replicas should be a "
                                f"positive integer, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ArgumentError(f"DistributedSampler: invalid rank {rank!r}, rank "
                                f"should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            order = ops.randperm(n, generator=g).tolist()
        else:
            order = list(range(n))
        if self.drop_last:
            order = order[:self.total_size]
        elif order:
            while len(order) < self.total_size:
                order += order[:self.total_size - len(order)]
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use ``seed + epoch`` for the next shuffle (same on every process)."""
        self.epoch = int(epoch)
