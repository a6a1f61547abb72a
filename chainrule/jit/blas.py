"""Finding the CBLAS ``gemm`` of the BLAS NumPy uses, for the C kernels.

The native kernels (convolution, LSTM, linear, the whole step) call the
same GEMM routines NumPy's ``matmul`` runs, so their products round as the
replay's do.  The routines are looked up once per process in NumPy's
bundled libraries (``numpy.libs``/``.dylibs``), then in any library this
process has loaded with ``blas`` in its name.
"""
import ctypes
import glob
import os

import numpy as np

GEMM = {np.dtype(np.float32): "sgemm", np.dtype(np.float64): "dgemm"}
# The C type of one gemm, for kernel sources that define ``T`` (float or
# double) and ``BINT`` (the integer type :func:`gemms` reports): the kernel
# gets the address and casts it.  CBLAS enums: row-major 101, no transpose
# 111, transpose 112.
GEMM_T = """typedef void (*gemm_t)(int, int, int, BINT, BINT, BINT, T, const T *, BINT,
                       const T *, BINT, T, T *, BINT);
"""
_cache = []


def _candidate_libs():
    """Shared libraries that may hold CBLAS: NumPy's bundled ones first, then
    whatever this process has loaded with 'blas' in its name."""
    here = os.path.dirname(np.__file__)
    libs = []
    for pat in ("../numpy.libs/*blas*", ".dylibs/*blas*", "../numpy.libs/*mkl*"):
        libs += sorted(glob.glob(os.path.join(here, pat)))
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in os.path.basename(path) and path not in libs:
                    libs.append(path)
    except OSError:
        pass
    return libs


def gemms():
    """``{dtype: (gemm address, C type of its integers)}`` for float32 and
    float64 (``"long long"`` for ILP64 builds, else ``"int"``), or ``{}``
    when no CBLAS gemm is found.  Looked up once, then cached."""
    if _cache:
        return _cache[0]
    found = {}
    for path in _candidate_libs():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for dt, g in GEMM.items():
            # ILP64 builds suffix their symbols with 64_ and take 64-bit ints.
            for sym, bint in ((f"scipy_cblas_{g}64_", "long long"),
                              (f"cblas_{g}64_", "long long"),
                              (f"scipy_cblas_{g}", "int"), (f"cblas_{g}", "int")):
                if dt not in found and hasattr(lib, sym):
                    found[dt] = (ctypes.cast(getattr(lib, sym), ctypes.c_void_p).value,
                                 bint)
        if len(found) == len(GEMM):
            break
    _cache.append(found)
    return found


def gemm_pair():
    """(sgemm address, dgemm address, C type of their integers) for code that
    calls both, or None unless both are found with one integer width."""
    g = gemms()
    s, d = g.get(np.dtype(np.float32)), g.get(np.dtype(np.float64))
    if s is None or d is None or s[1] != d[1]:
        return None
    return s[0], d[0], s[1]
