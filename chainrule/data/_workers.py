"""Worker processes for ``DataLoader(num_workers > 0)``, as PyTorch runs them.

Each worker is a process with its own copy of the dataset.  For a map-style
dataset the main process draws the epoch's batches of indices (as without
workers) and hands them out round-robin, at most ``prefetch_factor`` per
worker ahead; batches come back in order.  For an iterable dataset every
worker iterates its own copy (split the stream with :func:`get_worker_info`)
and batches are taken from the workers in turn.

Each worker seeds chainrule's default generator and Python's ``random`` with
``base_seed + worker_id``; ``base_seed`` is drawn from the loader's generator
(or the global one) when iteration starts, so a seeded run is repeatable.
``worker_init_fn(worker_id)`` runs in each worker after seeding.  An error in
a worker is raised again in the main process, naming the worker and what it
was loading.  Tensors cross the process boundary as NumPy arrays.
"""
import itertools
import queue
import random
import traceback
from dataclasses import dataclass

from .. import ops
from ..tensor import Tensor

_POLL = 5.0  # seconds between liveness checks while waiting for a batch


@dataclass(frozen=True)
class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """In a DataLoader worker: its :class:`WorkerInfo`; in the main process None."""
    return _worker_info


class _Tensor:
    """A tensor in transit: its array (tensors themselves do not pickle)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array


def _pack(obj):
    if isinstance(obj, Tensor):
        return _Tensor(obj.numpy())
    if isinstance(obj, (list, tuple)):
        packed = [_pack(o) for o in obj]
        return packed if isinstance(obj, list) else type(obj)(packed) \
            if not hasattr(obj, "_fields") else type(obj)(*packed)
    if isinstance(obj, dict):
        return {k: _pack(v) for k, v in obj.items()}
    return obj


def _unpack(obj):
    if isinstance(obj, _Tensor):
        return ops.from_numpy(obj.array)
    if isinstance(obj, (list, tuple)):
        items = [_unpack(o) for o in obj]
        return items if isinstance(obj, list) else type(obj)(items) \
            if not hasattr(obj, "_fields") else type(obj)(*items)
    if isinstance(obj, dict):
        return {k: _unpack(v) for k, v in obj.items()}
    return obj


class _Failure:
    """An exception raised in a worker, carried back as text."""

    def __init__(self, worker_id, what, exc):
        self.worker_id, self.what = worker_id, what
        self.exc_type = type(exc)
        self.text = "".join(traceback.format_exception(exc))

    def reraise(self):
        msg = (f"DataLoader worker {self.worker_id} failed while loading "
               f"{self.what}:\n{self.text}")
        try:
            err = self.exc_type(msg)
        except Exception:
            err = RuntimeError(msg)
        raise err


def _worker_loop(loader, worker_id, num_workers, seed, index_queue, result_queue):
    global _worker_info
    from ..random import manual_seed

    manual_seed(seed)
    random.seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, loader.dataset)
    try:
        if loader.worker_init_fn is not None:
            loader.worker_init_fn(worker_id)
    except Exception as e:  # reported with the first task
        init_error = _Failure(worker_id, "worker_init_fn", e)
    else:
        init_error = None
    stream = None
    while True:
        task = index_queue.get()
        if task is None:  # shut down
            return
        epoch, task_id, indices = task
        if init_error is not None:
            result_queue.put((epoch, task_id, init_error))
            continue
        try:
            if loader._iterable:
                if indices == "start":  # a new epoch of the stream
                    stream = iter(loader._iter_stream())
                    continue
                data = _pack(next(stream, _Exhausted))
            else:
                data = _pack(loader._fetcher()(indices) if loader._auto_batch
                             else loader.collate_fn(loader.dataset[indices]))
        except Exception as e:
            what = ("its share of the stream" if loader._iterable
                    else f"indices {indices}")
            data = _Failure(worker_id, what, e)
        result_queue.put((epoch, task_id, data))


class _Exhausted:
    """Sent by an iterable-dataset worker whose stream has ended."""


class WorkerPool:
    """The processes of one DataLoader (kept between epochs if persistent)."""

    def __init__(self, loader, base_seed):
        import multiprocessing as mp

        ctx = loader.multiprocessing_context
        ctx = mp.get_context(ctx) if isinstance(ctx, str) or ctx is None else ctx
        self.n = loader.num_workers
        self.result_queue = ctx.Queue()
        self.index_queues, self.procs = [], []
        for i in range(self.n):
            q = ctx.Queue()
            p = ctx.Process(target=_worker_loop, daemon=True,
                            args=(loader, i, self.n, base_seed + i, q,
                                  self.result_queue))
            p.start()
            self.index_queues.append(q)
            self.procs.append(p)
        self.epoch = 0
        self.timeout = loader.timeout

    def get(self, epoch):
        """The next result of ``epoch``: (task_id, data)."""
        waited = 0.0
        while True:
            try:
                got_epoch, task_id, data = self.result_queue.get(timeout=_POLL)
            except queue.Empty:
                waited += _POLL
                dead = [i for i, p in enumerate(self.procs) if not p.is_alive()]
                if dead:
                    codes = ", ".join(f"worker {i} (exit code {self.procs[i].exitcode})"
                                      for i in dead)
                    self.shutdown()
                    raise RuntimeError(f"DataLoader: {codes} exited unexpectedly")
                if self.timeout and waited >= self.timeout:
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} s "
                                       "waiting for a batch from its workers")
                continue
            if got_epoch == epoch:  # (results of an abandoned epoch are dropped)
                return task_id, data

    def shutdown(self):
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for p in self.procs:
            p.join(timeout=2)
            if p.is_alive():
                p.terminate()
        self.procs = []
        # Close the queues and their feeder threads: a later fork (another
        # loader's workers) must not copy a thread holding their locks.
        for q in self.index_queues + [self.result_queue]:
            q.close()
            q.join_thread()
        self.index_queues = []

    def __del__(self):
        if self.procs:
            self.shutdown()


def iterate(loader, pool, batches):
    """Yield the epoch's batches from ``pool``: ``batches`` are the index lists
    of a map-style loader, or None for an iterable dataset."""
    pool.epoch += 1
    epoch, n = pool.epoch, pool.n
    ahead = loader.prefetch_factor * n
    try:
        if batches is None:
            yield from _iterate_stream(pool, epoch, n, ahead)
            return
        tasks = enumerate(batches)
        pending, done, next_id = {}, {}, 0
        for task_id, indices in itertools.islice(tasks, ahead):
            pool.index_queues[task_id % n].put((epoch, task_id, indices))
            pending[task_id] = indices
        while pending:
            while next_id not in done:
                task_id, data = pool.get(epoch)
                done[task_id] = data
            data = done.pop(next_id)
            del pending[next_id]
            nxt = next(tasks, None)
            if nxt is not None:
                pool.index_queues[nxt[0] % n].put((epoch, nxt[0], nxt[1]))
                pending[nxt[0]] = nxt[1]
            next_id += 1
            if isinstance(data, _Failure):
                data.reraise()
            yield _unpack(data)
    finally:
        if not loader.persistent_workers:
            pool.shutdown()
            loader._pool = None


def _iterate_stream(pool, epoch, n, ahead):
    for i in range(n):
        pool.index_queues[i].put((epoch, -1, "start"))
    live = list(range(n))
    task_id = 0
    sent = {}
    # Ask each live worker for its next batch in turn; keep `ahead` in flight.
    order = []
    for k in range(ahead):
        w = live[k % len(live)]
        pool.index_queues[w].put((epoch, task_id, w))
        sent[task_id] = w
        order.append(task_id)
        task_id += 1
    done = {}
    while order:
        want = order.pop(0)
        while want not in done:
            tid, data = pool.get(epoch)
            done[tid] = data
        data = done.pop(want)
        w = sent.pop(want)
        if isinstance(data, _Failure):
            data.reraise()
        if data is _Exhausted:
            if w in live:
                live.remove(w)
            # tasks already queued to this worker will also come back exhausted
            continue
        if w in live:
            pool.index_queues[w].put((epoch, task_id, w))
            sent[task_id] = w
            order.append(task_id)
            task_id += 1
        yield _unpack(data)
