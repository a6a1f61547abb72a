"""``set_num_threads`` / ``get_num_threads``: the threads of NumPy's BLAS.

chainrule's heavy lifting (matrix products, convolutions as GEMMs) runs in
the BLAS library NumPy links (OpenBLAS, MKL...), so its thread pool is what
PyTorch's intra-op thread count maps to.  The pool is set through
``threadpoolctl`` (the ``chainrule[threads]`` extra), which reaches the
library already loaded; environment variables such as
``OPENBLAS_NUM_THREADS`` only act before NumPy is imported.
"""
from numbers import Integral

from .errors import ArgumentError


def _threadpoolctl(op):
    try:
        import threadpoolctl
    except ImportError:
        raise ImportError(f"{op} needs threadpoolctl to reach NumPy's BLAS thread "
                          "pool: pip install 'chainrule[threads]' (or "
                          "threadpoolctl)") from None
    return threadpoolctl


def set_num_threads(n):
    """Use ``n`` threads (a positive int) in NumPy's BLAS from now on."""
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ArgumentError(f"set_num_threads expects a positive integer, got {n!r}")
    _threadpoolctl("set_num_threads").threadpool_limits(limits=int(n),
                                                        user_api="blas")


def get_num_threads():
    """The number of threads NumPy's BLAS uses (the largest, if several BLAS
    libraries are loaded; 1 if none reports a pool)."""
    info = _threadpoolctl("get_num_threads").threadpool_info()
    counts = [i["num_threads"] for i in info if i.get("user_api") == "blas"]
    return max(counts, default=1)
