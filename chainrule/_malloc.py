"""Keep large NumPy buffers in the process heap instead of fresh mmaps.

glibc serves allocations above its mmap threshold (128 KiB at start) with a
new ``mmap`` and returns them with ``munmap`` when freed.  A training step
allocates and frees the same large arrays (activations, gradients, window
columns) every time, so each step pays for mapping, page-faulting and
unmapping them again; on this project's benchmark CNN that was about a third
of the step (freeing one 1.6 MB gradient took 5 ms).  PyTorch avoids it with
a caching allocator.  Raising the mmap and trim thresholds makes glibc reuse
freed heap memory instead; the cost is that the process keeps its peak heap
size until exit, as with PyTorch's cache.

Applied once at import on Linux with glibc; set ``CHAINRULE_MALLOC_TUNING=0``
to leave the allocator alone.
"""
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_MAX = 32 * 1024 * 1024  # glibc's upper bound for the mmap threshold (64-bit)


def tune():
    """Raise glibc's mmap and trim thresholds; returns True if applied."""
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0":
        return False
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        # The running process already links libc: no library search needed
        # (ctypes.util.find_library would import subprocess and more).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)
    ok = mallopt(_M_TRIM_THRESHOLD, 4 * _MMAP_MAX) and ok
    return bool(ok)
