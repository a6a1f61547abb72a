"""Data-parallel training over processes and machines, on MPI.

PyTorch's ``torch.distributed`` API on Open MPI (through ``mpi4py``, the
``distributed`` extra)::

    import chainrule.distributed as dist
    dist.init_process_group("mpi")          # rank and size from the launcher
    model = chainrule.nn.parallel.DistributedDataParallel(model)
    sampler = chainrule.data.DistributedSampler(dataset)

Start the job with ``chainrule run -n 4 train.py`` (see ``run.py``).
"""
from ._group import (  # noqa: F401
    Backend, DistributedError, ReduceOp, default_group, destroy_process_group,
    get_backend, get_rank, get_world_size, init_process_group, is_available,
    is_initialized, is_mpi_available,
)
from .collectives import (  # noqa: F401
    Work, all_gather, all_gather_into_tensor, all_gather_object, all_reduce,
    barrier, broadcast, broadcast_object_list, reduce_scatter, reduce_scatter_tensor,
)


def __getattr__(name):
    # DistributedDataParallel pulls in nn; load it on first use.
    if name == "DistributedDataParallel":
        from .ddp import DistributedDataParallel

        return DistributedDataParallel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
