"""Collective communication between processes, as primitives.

Collectives change tensor data (an all-reduce overwrites its input with the
reduction over every process), so they go through the primitive table like
any other computation: the dispatcher bumps version counters, and an
interpreter on the stack sees them.  The communicator and the reduction are
parameters: this module knows nothing of MPI beyond calling the methods of
the ``comm`` object it is given (an ``mpi4py`` communicator), so ``ops``
keeps no dependency on ``chainrule.distributed``.

Buffers are passed to MPI straight from the arrays (no copies) when they are
C-contiguous; a strided tensor is staged through one contiguous copy.
"""
import numpy as np

from ._core import apply, primitive


def _contiguous(a):
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _all_reduce_fwd(x, *, comm, op, average):
    buf = _contiguous(x)
    comm.Allreduce(_IN_PLACE(), buf, op=op)
    if average:
        np.divide(buf, comm.Get_size(), out=buf, casting="unsafe")
    if buf is not x:
        np.copyto(x, buf)
    return x


def _IN_PLACE():  # mpi4py keeps IN_PLACE on the module, not the communicator
    from mpi4py import MPI

    return MPI.IN_PLACE


def _broadcast_fwd(x, *, comm, src):
    buf = _contiguous(x)
    comm.Bcast(buf, root=src)
    if buf is not x:
        np.copyto(x, buf)
    return x


def _all_gather_fwd(x, *, comm):
    out = np.empty((comm.Get_size(),) + x.shape, x.dtype)
    comm.Allgather(_contiguous(x), out)
    return out


def _reduce_scatter_fwd(x, *, comm, op, average):
    # x: [world, *shape], this process receives the reduction of x[rank] over
    # every process (MPI's Reduce_scatter_block).
    out = np.empty(x.shape[1:], x.dtype)
    comm.Reduce_scatter_block(_contiguous(x), out, op=op)
    if average:
        np.divide(out, comm.Get_size(), out=out, casting="unsafe")
    return out


def _start_all_reduce_fwd(x, *, comm, op, work):
    if not x.flags.c_contiguous:
        raise ValueError("an asynchronous all_reduce needs a contiguous tensor")
    work.request = comm.Iallreduce(_IN_PLACE(), x, op=op)
    return x


def _wait_fwd(x, *, work, average, size):
    work.request.Wait()
    work.request = None
    if average:
        np.divide(x, size, out=x, casting="unsafe")
    return x


def _in_place_aval(x, **params):
    return (x,)


def _gather_aval(x, *, comm):
    return (((comm.Get_size(),) + tuple(x[0]), x[1]),)


def _scatter_aval(x, **params):
    return ((tuple(x[0][1:]), x[1]),)


def _collective(name, forward, abstract, params, mutates=None):
    return primitive(name, forward, mutates=mutates, kind="other", abstract=abstract,
                     params=params)


_REDUCE = ("comm", "op", "average")
all_reduce_p = _collective("all_reduce", _all_reduce_fwd, _in_place_aval, _REDUCE,
                           (0,))
broadcast_p = _collective("broadcast", _broadcast_fwd, _in_place_aval,
                          ("comm", "src"), (0,))
all_gather_p = _collective("all_gather", _all_gather_fwd, _gather_aval, ("comm",))
reduce_scatter_p = _collective("reduce_scatter", _reduce_scatter_fwd, _scatter_aval,
                               _REDUCE)
start_all_reduce_p = _collective("start_all_reduce", _start_all_reduce_fwd,
                                 _in_place_aval, ("comm", "op", "work"), (0,))
wait_collective_p = _collective("wait_collective", _wait_fwd, _in_place_aval,
                                ("work", "average", "size"), (0,))


def all_reduce_(x, *, comm, op, average=False):
    """Replace ``x`` (any shape) by its reduction over every process."""
    return apply(all_reduce_p, x, comm=comm, op=op, average=average)


def broadcast_(x, *, comm, src):
    """Replace ``x`` by process ``src``'s ``x``."""
    return apply(broadcast_p, x, comm=comm, src=src)


def all_gather(x, *, comm):
    """``[world, *x.shape]``: every process's ``x``, in rank order."""
    return apply(all_gather_p, x, comm=comm)


def reduce_scatter(x, *, comm, op, average=False):
    """``x`` is ``[world, *shape]``; returns ``shape``: the reduction over
    processes of their ``x[rank]``."""
    return apply(reduce_scatter_p, x, comm=comm, op=op, average=average)


def start_all_reduce_(x, *, comm, op, work):
    """Start an in-place all-reduce of contiguous ``x``; ``work.request`` holds
    MPI's request until :func:`wait_collective_` completes it."""
    return apply(start_all_reduce_p, x, comm=comm, op=op, work=work)


def wait_collective_(x, *, work, average=False, size=1):
    """Complete the collective started on ``x`` (dividing by ``size`` to
    average)."""
    return apply(wait_collective_p, x, work=work, average=average, size=size)


def can_start_async(x):
    """True when MPI can work on ``x``'s buffer directly (C-contiguous)."""
    return x._data.flags.c_contiguous
