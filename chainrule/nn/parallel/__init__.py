"""``nn.parallel.DistributedDataParallel``, where PyTorch users look for it.

The class lives in :mod:`chainrule.distributed.ddp` (the distributed layer
sits above ``nn``); this module loads it on first use, so ``nn`` never
imports ``distributed`` (nor MPI) by itself.
"""


def __getattr__(name):
    if name == "DistributedDataParallel":
        from ...distributed.ddp import DistributedDataParallel

        return DistributedDataParallel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
