"""``Trainer(..., strategy="ddp")``: the same ``fit`` on every process.

What changes when a Trainer runs data-parallel:

- the model is wrapped in :class:`DistributedDataParallel` for training
  steps (evaluation and prediction call the plain model, so a process may
  evaluate alone without waiting for the others);
- a training set given as tensors or a Dataset is read through a
  :class:`~chainrule.data.DistributedSampler` (``batch_size`` is per
  process; the order is new each epoch, the same on every process);
- the epoch's training loss and metrics are averaged over processes,
  weighted by their sample counts, so every process logs (and every
  callback decides on) the same numbers; validation runs on the whole
  validation set in every process;
- only rank 0 prints progress and runs the callbacks that write files
  (``ModelCheckpoint``, ``CSVLogger``: those marked ``rank_zero_only``).
"""
from ..data import DataLoader, DistributedSampler
from ..errors import ArgumentError
from . import collectives
from ._group import get_rank, get_world_size, init_process_group, is_initialized
from .ddp import DistributedDataParallel


class DDPStrategy:
    """Data-parallel training for :class:`~chainrule.train.Trainer`.

    ``seed`` orders the training data (``seed + epoch`` each epoch);
    ``ddp_kwargs`` go to :class:`DistributedDataParallel`.  The process group
    is initialised on MPI if it is not yet.
    """

    def __init__(self, seed=0, **ddp_kwargs):
        self.seed = int(seed)
        self.ddp_kwargs = ddp_kwargs
        self.wrapped = None

    def setup(self, trainer):
        if not is_initialized():
            init_process_group("mpi")
        self.rank, self.size = get_rank(), get_world_size()
        self.wrapped = DistributedDataParallel(trainer.model, **self.ddp_kwargs)

    @property
    def is_main(self):
        """True on rank 0, the process that prints and writes files."""
        return self.rank == 0

    def forward(self, inputs):
        return self.wrapped(*inputs)

    def train_loader(self, dataset, batch_size, shuffle):
        sampler = DistributedSampler(dataset, self.size, self.rank, shuffle=shuffle,
                                     seed=self.seed)
        return DataLoader(dataset, batch_size=batch_size, sampler=sampler)

    def epoch_begin(self, loader, epoch):
        if isinstance(getattr(loader, "sampler", None), DistributedSampler):
            loader.sampler.set_epoch(epoch)

    def callbacks(self, callbacks):
        """The callbacks this process runs."""
        if self.is_main:
            return callbacks
        return [c for c in callbacks if not getattr(c, "rank_zero_only", False)]

    def reduce_logs(self, logs, count):
        """Average ``logs`` (floats) over processes, weighted by ``count``."""
        gathered = [None] * self.size
        collectives.all_gather_object(gathered, (logs, count))
        total = sum(n for _, n in gathered)
        keys = [k for k in logs if all(k in lg for lg, _ in gathered)]
        return {k: sum(lg[k] * n for lg, n in gathered) / total for k in keys}


def resolve(strategy):
    """``None``, ``"ddp"`` or a strategy object -> a strategy or None."""
    if strategy is None:
        return None
    if isinstance(strategy, str):
        if strategy.lower() == "ddp":
            return DDPStrategy()
        raise ArgumentError(f"Trainer: strategy must be None or 'ddp', got "
                            f"{strategy!r}")
    return strategy
