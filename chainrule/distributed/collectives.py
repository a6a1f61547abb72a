"""Collectives with PyTorch's signatures: all_reduce, broadcast, all_gather,
reduce_scatter, barrier.

Each works in place on chainrule tensors of every dtype (bool, int32, int64,
float32, float64) through the collective primitives of ``ops/collective.py``;
MPI reads and writes the tensors' buffers directly.  With ``async_op=True``
a :class:`Work` is returned whose ``wait()`` completes the operation
(``all_reduce`` really overlaps with computation; the others complete
before returning).
"""
from .. import ops
from .._dtype import bool_
from ..errors import ArgumentError, DTypeError, fmt_shape
from ..ops import collective as C
from ..tensor import Tensor
from ._group import DistributedError, ReduceOp, _mpi, default_group
from ..autograd import no_grad as _no_grad


class Work:
    """Handle of an asynchronous collective, as returned with ``async_op=True``."""

    def __init__(self, tensor=None, average=False, size=1):
        self.request = None
        self._tensor = tensor
        self._average = average
        self._size = size

    def wait(self, timeout=None):
        """Block until the collective has completed; returns True."""
        if self.request is not None:
            C.wait_collective_(self._tensor, work=self, average=self._average,
                               size=self._size)
        return True

    def is_completed(self):
        """True once the data is in place (``wait`` still must be called)."""
        return self.request is None or self.request.Test()


_DONE = Work()


def _check_tensor(op, t, name="tensor"):
    if not isinstance(t, Tensor):
        raise DTypeError(f"{op}: {name} must be a chainrule Tensor, got "
                         f"{type(t).__name__}")


def _mpi_op(op_name, op, dtype):
    """MPI's reduction for ``op`` on ``dtype``, and whether to divide (AVG)."""
    MPI = _mpi()
    if not isinstance(op, ReduceOp):
        try:
            op = ReduceOp(str(op).lower().split(".")[-1])
        except ValueError:
            raise ArgumentError(
                f"{op_name}: op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), "
                f"got {op!r}") from None
    if op is ReduceOp.AVG and not dtype.is_floating_point:
        raise DTypeError(
            f"{op_name}: ReduceOp.AVG needs a floating-point tensor, got "
            f"{dtype.name}; use SUM and divide, or convert with .float()")
    if dtype is bool_:  # PyTorch: sum/max of bools is "any", product/min "all"
        table = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR,
                 ReduceOp.PRODUCT: MPI.LAND, ReduceOp.MIN: MPI.LAND}
        return table[op], False
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
             ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}
    return table[op], op is ReduceOp.AVG


def _check_signature(g, name, *tensors, **extra):
    """Debug mode: every process must issue the same collective on tensors of
    the same shapes and dtypes; raise naming the first difference."""
    g.calls += 1
    if not g.debug:
        return
    sig = (name, tuple((tuple(t.shape), t.dtype.name) for t in tensors),
           tuple(sorted(extra.items())))
    sigs = g.comm.allgather(sig)
    for r, other in enumerate(sigs):
        if other != sigs[0]:
            raise DistributedError(
                f"{name}: collective #{g.calls} differs between processes: rank 0 "
                f"called {_show(sigs[0])} but rank {r} called {_show(other)}; every "
                "process must call the same collectives in the same order")


def _show(sig):
    op, shapes, extra = sig
    args = ", ".join(f"{d} {fmt_shape(s)}" for s, d in shapes)
    more = "".join(f", {k}={v}" for k, v in extra)
    return f"{op}({args}{more})"


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Replace ``tensor`` on every process by the reduction of all of them."""
    _check_tensor("all_reduce", tensor)
    g = default_group("all_reduce")
    mpi_op, average = _mpi_op("all_reduce", op, tensor.dtype)
    _check_signature(g, "all_reduce", tensor, op=str(op))
    if async_op and C.can_start_async(tensor):
        work = Work(tensor, average, g.size)
        C.start_all_reduce_(tensor, comm=g.comm, op=mpi_op, work=work)
        return work
    C.all_reduce_(tensor, comm=g.comm, op=mpi_op, average=average)
    return _DONE if async_op else None


def broadcast(tensor, src, group=None, async_op=False):
    """Replace ``tensor`` on every process by process ``src``'s."""
    _check_tensor("broadcast", tensor)
    g = default_group("broadcast")
    _check_rank("broadcast", "src", src, g)
    _check_signature(g, "broadcast", tensor, src=src)
    C.broadcast_(tensor, comm=g.comm, src=src)
    return _DONE if async_op else None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with process ``r``'s ``tensor`` for every ``r``."""
    _check_tensor("all_gather", tensor)
    g = default_group("all_gather")
    _check_per_process("all_gather", "tensor_list", tensor_list, tensor, g)
    _check_signature(g, "all_gather", tensor)
    gathered = C.all_gather(tensor, comm=g.comm)
    with _no_grad():
        for r, t in enumerate(tensor_list):
            t.copy_(gathered[r])
    return _DONE if async_op else None


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """``output_tensor`` ([world * n, ...]) gets every process's ``input_tensor``
    ([n, ...]) concatenated along dim 0."""
    _check_tensor("all_gather_into_tensor", input_tensor, "input_tensor")
    _check_tensor("all_gather_into_tensor", output_tensor, "output_tensor")
    g = default_group("all_gather_into_tensor")
    want = ((g.size * input_tensor.shape[0],) + tuple(input_tensor.shape[1:])
            if input_tensor.dim() else (g.size,))
    if tuple(output_tensor.shape) != want or output_tensor.dtype != input_tensor.dtype:
        raise ArgumentError(
            f"all_gather_into_tensor: output_tensor must be {input_tensor.dtype.name} "
            f"{fmt_shape(want)} for input {input_tensor.dtype.name} "
            f"{fmt_shape(input_tensor.shape)} on {g.size} processes, got "
            f"{output_tensor.dtype.name} {fmt_shape(output_tensor.shape)}")
    _check_signature(g, "all_gather_into_tensor", input_tensor)
    gathered = C.all_gather(input_tensor, comm=g.comm)
    with _no_grad():
        output_tensor.copy_(gathered.reshape(want))
    return _DONE if async_op else None


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` on process ``r`` gets the reduction over processes of their
    ``input_list[r]``."""
    _check_tensor("reduce_scatter", output, "output")
    g = default_group("reduce_scatter")
    _check_per_process("reduce_scatter", "input_list", input_list, output, g)
    mpi_op, average = _mpi_op("reduce_scatter", op, output.dtype)
    _check_signature(g, "reduce_scatter", output, op=str(op))
    res = C.reduce_scatter(ops.stack(input_list), comm=g.comm, op=mpi_op,
                           average=average)
    with _no_grad():
        output.copy_(res)
    return _DONE if async_op else None


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None,
                          async_op=False):
    """``input`` is [world * n, ...]; process ``r``'s ``output`` ([n, ...]) gets
    the reduction of every process's rows ``r*n .. (r+1)*n - 1``."""
    g = default_group("reduce_scatter_tensor")
    _check_tensor("reduce_scatter_tensor", input, "input")
    _check_tensor("reduce_scatter_tensor", output, "output")
    if (input.shape[0] != g.size * output.shape[0]
            or input.shape[1:] != output.shape[1:]):
        raise ArgumentError(
            f"reduce_scatter_tensor: input {fmt_shape(input.shape)} must be "
            f"[{g.size} * n, ...] for output {fmt_shape(output.shape)} = [n, ...]")
    return reduce_scatter(output, list(input.chunk(g.size)), op, group, async_op)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every process has reached this call."""
    g = default_group("barrier")
    g.calls += 1
    if g.debug:
        _check_signature_raw(g, "barrier")
    g.comm.Barrier()
    return _DONE if async_op else None


def _check_signature_raw(g, op):
    sigs = g.comm.allgather(op)
    for r, other in enumerate(sigs):
        if other != op:
            raise DistributedError(
                f"{op}: collective #{g.calls} differs between processes: this "
                f"process called {op} but rank {r} called {other}")


def all_gather_object(object_list, obj, group=None):
    """``object_list[r]`` = process ``r``'s picklable ``obj``."""
    g = default_group("all_gather_object")
    if not isinstance(object_list, list) or len(object_list) != g.size:
        raise ArgumentError(f"all_gather_object: object_list must be a list of "
                            f"{g.size} entries, got {_describe_list(object_list)}")
    g.calls += 1
    object_list[:] = g.comm.allgather(obj)


def broadcast_object_list(object_list, src=0, group=None):
    """Replace ``object_list``'s entries by process ``src``'s (picklable)."""
    g = default_group("broadcast_object_list")
    _check_rank("broadcast_object_list", "src", src, g)
    g.calls += 1
    object_list[:] = g.comm.bcast(list(object_list), root=src)


def _check_rank(op, name, r, g):
    if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < g.size:
        raise ArgumentError(f"{op}: {name} must be a rank in [0, {g.size - 1}], "
                            f"got {r!r}")


def _check_per_process(op, name, tensors, ref, g):
    """``tensors`` is a list of one tensor per process, each like ``ref``."""
    if not isinstance(tensors, list) or len(tensors) != g.size:
        raise ArgumentError(
            f"{op}: {name} must be a list of {g.size} tensors (one per process), "
            f"got {_describe_list(tensors)}")
    for i, t in enumerate(tensors):
        _check_same(op, t, ref, f"{name}[{i}]")


def _check_same(op, t, ref, name):
    _check_tensor(op, t, name)
    if t.shape != ref.shape or t.dtype != ref.dtype:
        raise ArgumentError(
            f"{op}: {name} is {t.dtype.name} {fmt_shape(t.shape)} but must match "
            f"{ref.dtype.name} {fmt_shape(ref.shape)}")


def _describe_list(x):
    if isinstance(x, list):
        return f"a list of {len(x)}"
    return type(x).__name__

