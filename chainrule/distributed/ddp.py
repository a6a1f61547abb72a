"""DistributedDataParallel: one model replica per process, gradients averaged.

Each process runs the wrapped module on its own share of the batch; backward
then leaves every replica with the gradient of the mean loss over all
processes, so the optimizers (one per process, same settings) take identical
steps and the replicas stay identical.

How the averaging overlaps backward (the design of PyTorch's reducer):

- Parameters are grouped into **buckets** of about ``bucket_cap_mb``
  megabytes (the first holds about 1 MB, so communication starts early), in
  the reverse order of ``module.parameters()``, roughly the order backward
  produces their gradients.  A bucket holds one dtype.
- Each parameter has a post-accumulate-grad hook.  When every parameter of a
  bucket has its gradient, the bucket's gradients are packed into one flat
  tensor and a non-blocking all-reduce starts on it; buckets start in index
  order on every process, so all processes issue the same collectives in the
  same order.
- When backward finishes (a callback queued on the engine), the remaining
  buckets are started, every all-reduce is awaited, divided by the world
  size and copied back into ``.grad``.  A parameter that received another
  gradient after its bucket started (a weight used twice) makes its bucket
  reduce again, synchronously, so the result is exact in every case.
- Parameters that got no gradient on this process count as zeros; every
  parameter that requires grad has a ``.grad`` after a synchronised backward.

``no_sync()`` skips the averaging, so gradients accumulate locally; the next
synchronised backward averages the accumulated sums.  Buffers (BatchNorm's
running statistics) are broadcast from rank 0 before each forward.
"""
import contextlib

from .. import ops
from ..autograd import no_grad
from ..autograd.engine import queue_callback
from ..errors import ArgumentError
from ..nn.module import Module
from ..ops import collective as C
from . import collectives
from ._group import _mpi, default_group

_FIRST_BUCKET_BYTES = 1024 * 1024


class _Bucket:
    """Parameters whose gradients travel in one all-reduce."""

    __slots__ = ("params", "index", "ready", "flat", "work", "launched", "dirty")

    def __init__(self, params, index):
        self.params = params
        self.index = index
        self.reset()

    def reset(self):
        self.ready = set()
        self.flat = None
        self.work = None
        self.launched = False
        self.dirty = False


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the process group.

    Call it like the module.  ``device_ids``, ``output_device``, ``dim``,
    ``process_group``, ``gradient_as_bucket_view`` and ``static_graph`` are
    accepted for PyTorch compatibility (CPU processes on MPI need none of
    them).  ``bucket_cap_mb`` (25 by default, as in PyTorch) sets the bucket
    size.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise ArgumentError(
                f"DistributedDataParallel: module must be a chainrule nn.Module, "
                f"got {type(module).__name__}")
        if bucket_cap_mb is None:
            bucket_cap_mb = 25
        if not bucket_cap_mb > 0:
            raise ArgumentError(f"DistributedDataParallel: bucket_cap_mb must be "
                                f"positive, got {bucket_cap_mb}")
        g = default_group("DistributedDataParallel")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self._group = g
        with no_grad():  # every replica starts from rank 0's weights
            for t in list(module.parameters()) + list(module.buffers()):
                collectives.broadcast(t, 0)
        self._buckets = _make_buckets(
            [p for p in module.parameters() if p.requires_grad],
            int(bucket_cap_mb * 1024 * 1024))
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._sync = True
        self._pending = False  # a finalize callback is queued for this backward
        self._next = 0  # index of the next bucket to start
        self._grad_hooks = [p.register_post_accumulate_grad_hook(self._on_grad)
                       for b in self._buckets for p in b.params]

    # -- forward ------------------------------------------------------------
    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self._group.size > 1:
            with no_grad():
                for t in self.module.buffers():
                    collectives.broadcast(t, 0)
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally without averaging."""
        prev, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = prev

    # -- the reducer --------------------------------------------------------
    def _on_grad(self, p):
        if not self._sync:
            return
        if not self._pending:
            self._pending = True
            queue_callback(self._finalize)
        b = self._bucket_of[id(p)]
        if b.launched:
            b.dirty = True
            return
        b.ready.add(id(p))
        while (self._next < len(self._buckets)
               and len(self._buckets[self._next].ready)
               == len(self._buckets[self._next].params)):
            self._launch(self._buckets[self._next])
            self._next += 1

    def _launch(self, b):
        b.flat = _pack(b.params)
        b.work = collectives.Work(b.flat, True, self._group.size)
        C.start_all_reduce_(b.flat, comm=self._group.comm, op=_mpi().SUM,
                            work=b.work)
        b.launched = True

    def _finalize(self):
        try:
            while self._next < len(self._buckets):
                self._launch(self._buckets[self._next])
                self._next += 1
            for b in self._buckets:
                b.work.wait()
                if b.dirty:  # late gradients: reduce the final sums again
                    b.flat = _pack(b.params)
                    collectives.all_reduce(b.flat, collectives.ReduceOp.AVG)
                _unpack(b.flat, b.params)
        finally:
            for b in self._buckets:
                b.reset()
            self._pending = False
            self._next = 0


def _make_buckets(params, cap_bytes):
    """Split ``params`` (reverse registration order) into buckets by size and
    dtype; the first bucket is capped at 1 MB."""
    buckets, cur, size, cap = [], [], 0, min(_FIRST_BUCKET_BYTES, cap_bytes)
    for p in reversed(params):
        nbytes = p.numel() * p.element_size()
        if cur and (size + nbytes > cap or p.dtype != cur[0].dtype):
            buckets.append(_Bucket(cur, len(buckets)))
            cur, size, cap = [], 0, cap_bytes
        cur.append(p)
        size += nbytes
    if cur:
        buckets.append(_Bucket(cur, len(buckets)))
    return buckets


def _pack(params):
    """One flat tensor holding every parameter's gradient (zeros for None)."""
    with no_grad():
        return ops.cat([
            (p.grad if p.grad is not None else ops.zeros_like(p)).reshape(-1)
            for p in params])


def _unpack(flat, params):
    """Copy the averaged gradients back into ``.grad``."""
    with no_grad():
        offset = 0
        for p in params:
            n = p.numel()
            g = flat[offset:offset + n].reshape(p.shape)
            if p.grad is None:
                p.grad = g.clone()
            else:
                p.grad.copy_(g)
            offset += n
