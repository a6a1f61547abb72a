"""The native backend: optimizer updates as generated C, compiled with gcc.

Lowering replaces nodes it has a kernel for with ``kernel`` nodes; the rest
stay NumPy replay.  Kernels are C source generated per (primitive, dtype),
compiled once with the system C compiler into a shared library named by the
hash of its source and flags, cached on disk (``$CHAINRULE_JIT_CACHE`` or
``~/.cache/chainrule/jit``; a second process loads the cached library), and
called through ``ctypes``.

Flags: ``-O3 -march=native -fno-math-errno`` (without it gcc does not
vectorise ``sqrt``) and ``-ffp-contract=off`` so that no multiply-add is
fused: the C loop rounds exactly as NumPy's passes do, and the fused Adam
update is bit-identical to the primitive's NumPy forward.

Without a C compiler the backend steps aside with one notice and the replay
backend runs.
"""
import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import warnings

import numpy as np

CFLAGS = ["-O3", "-march=native", "-fno-math-errno", "-ffp-contract=off",
          "-fPIC", "-shared"]
_ADAM = r"""
#include <math.h>
void KNAME(T *restrict p, const T *restrict g, T *restrict m, T *restrict v,
           CT *restrict count, long n, double lr, double beta1, double beta2,
           double eps, double wd, int decoupled, int maximize) {
    count[0] += (CT)1;
    double step = (double)count[0];
    const T c1 = (T)(1 - beta1), c2 = (T)(1 - beta2), b2 = (T)beta2;
    const T bc2 = (T)(1.0 / sqrt(1 - pow(beta2, step)));
    const T e = (T)eps, sc = (T)(-lr / (1 - pow(beta1, step)));
    const T decay = (T)(1 - lr * wd), wdt = (T)wd;
    if (wd != 0 && decoupled)
        for (long i = 0; i < n; i++) p[i] *= decay;
    for (long i = 0; i < n; i++) {
        T gi = maximize ? -g[i] : g[i];
        if (wd != 0 && !decoupled) gi = gi + wdt * p[i];
        T mi = m[i] + (gi - m[i]) * c1;
        T vi = v[i] * b2 + (gi * gi) * c2;
        m[i] = mi;
        v[i] = vi;
        T d = SQRT(vi) * bc2 + e;
        p[i] += (mi / d) * sc;
    }
}
"""
_CTYPES = {np.dtype(np.float32): ("float", "sqrtf"),
           np.dtype(np.float64): ("double", "sqrt")}
_notice = []
_libs = {}


def cache_dir():
    d = os.environ.get("CHAINRULE_JIT_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "chainrule", "jit")
    os.makedirs(d, exist_ok=True)
    return d


def compiler():
    return os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")


def available():
    """True when a C compiler is there (``CHAINRULE_JIT_NATIVE=0`` disables)."""
    return os.environ.get("CHAINRULE_JIT_NATIVE", "1") != "0" and compiler() is not None


def source(kind, dtype, count_dtype):
    """The C source of one kernel (what ``explain``'s readers can inspect)."""
    ctype, sqrt = _CTYPES[np.dtype(dtype)]
    cnt = _CTYPES[np.dtype(count_dtype)][0]
    name = f"{kind}_{ctype}_{cnt}"
    body = {"adam": _ADAM}[kind]
    return name, (f"#define T {ctype}\n#define CT {cnt}\n#define SQRT {sqrt}\n"
                  f"#define KNAME {name}\n" + body)


def build(name, src, extra_flags=()):
    """Compile ``src`` (or reuse the cached library); returns (lib, path, hit).
    ``extra_flags``: more compiler flags (include paths)."""
    cc = compiler()
    flags = CFLAGS + list(extra_flags)
    key = hashlib.sha256("\0".join([src, cc] + flags).encode()).hexdigest()[:20]
    path = os.path.join(cache_dir(), f"{name}-{key}.so")
    hit = os.path.exists(path)
    if not hit:
        with tempfile.TemporaryDirectory() as tmp:
            c = os.path.join(tmp, name + ".c")
            with open(c, "w") as f:
                f.write(src)
            out = os.path.join(tmp, name + ".so")
            subprocess.run([cc, *flags, c, "-o", out, "-lm"], check=True,
                           capture_output=True)
            with open(c) as f, open(path[:-3] + ".c", "w") as g:
                g.write(f.read())
            os.replace(out, path)  # atomic: a concurrent process sees all or none
    if path not in _libs:
        _libs[path] = ctypes.CDLL(path)
    return _libs[path], path, hit


def build_or_warn(make, what, required, instead="replay", stacklevel=5):
    """``make()`` -- a kernel build -- or None after a warning when the
    compiler fails; with ``required`` (``backend='native'`` asked for
    explicitly) the error propagates.  ``stacklevel``: as the caller would
    pass it to ``warnings.warn`` (the user's call, through the lowering)."""
    try:
        return make()
    except (OSError, subprocess.CalledProcessError) as e:
        if required:
            raise
        warnings.warn(f"chainrule.jit: {what} build failed ({e}); using {instead}",
                      RuntimeWarning, stacklevel=stacklevel + 1)
        return None


def cached_kernel(kernels, key, make, what, required, stacklevel=5):
    """``kernels[key]``, built by ``make()`` the first time it is asked for;
    None when that build fails (see :func:`build_or_warn`)."""
    k = kernels.get(key)
    if k is None:
        k = build_or_warn(make, what, required, stacklevel=stacklevel + 1)
        if k is not None:
            kernels[key] = k
    return k


def contiguous(a):
    """``a`` when C-contiguous, else a C-contiguous copy: what a kernel's
    pointer arithmetic needs."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def make_kernel_node(node, kernel):
    """Turn primitive ``node`` into a kernel node running ``kernel`` (in
    place); its primitive stays in ``params["_prim"]`` for the fallback."""
    node.params = dict(node.params, _prim=node.prim)
    node.kind, node.prim = "kernel", kernel


def prim_fallback(node, outs=None, ins=None):
    """The replay step of the primitive a kernel ``node`` stands for (kept in
    ``node.params["_prim"]``; params starting with ``_`` are the lowering's
    own), reading ``ins`` and writing ``outs`` (default: the node's): what
    the kernel hands a call it does not cover."""
    from .ir import Node
    from .replay import _prim_step

    prm = {k: v for k, v in node.params.items() if k[0] != "_"}
    return _prim_step(Node("prim", node.params["_prim"],
                           node.ins if ins is None else ins, prm,
                           node.outs if outs is None else list(outs)))


def run_steps(steps, drop=()):
    """One step running ``steps`` in order (the replay of the nodes a kernel
    node stands for), then forgetting the values ``drop`` (intermediates the
    kernel does not keep)."""
    def run(env):
        for st in steps:
            st(env)
        for v in drop:
            env[v] = None

    return run


class LibraryNode:
    """What a kernel node runs when its functions live in a shared library
    of kernels (``kernels``: one dtype's library, with its ``name``, ``src``,
    ``path`` and ``cache_hit``): ``name`` is what ``explain`` prints."""

    def __init__(self, kernels, name):
        self.k, self.name = kernels, f"{kernels.name}:{name}"
        self.src, self.path, self.cache_hit = kernels.src, kernels.path, \
            kernels.cache_hit

    @staticmethod
    def step_args(node):
        """(params, fallback, ins, outs) of a lowered primitive ``node``:
        ``fallback(outs)`` is its replay step writing ``outs``."""
        prm = {k: v for k, v in node.params.items() if k != "_prim"}
        return (prm, functools.partial(prim_fallback, node), tuple(node.ins),
                tuple(node.outs))


class AdamKernel:
    """The fused Adam update of one parameter as a C loop."""

    def __init__(self, dtype, count_dtype):
        self.name, self.src = source("adam", dtype, count_dtype)
        lib, self.path, self.cache_hit = build(self.name, self.src)
        fn = getattr(lib, self.name)
        p = ctypes.c_void_p
        d = ctypes.c_double
        fn.argtypes = [p, p, p, p, p, ctypes.c_long, d, d, d, d, d, ctypes.c_int,
                       ctypes.c_int]
        fn.restype = None
        self.fn = fn

    def step(self, node):
        ins, out, fn = tuple(node.ins), node.outs[0], self.fn
        prm = node.params
        scal = (float(prm["lr"]), float(prm["beta1"]), float(prm["beta2"]),
                float(prm["eps"]), float(prm["weight_decay"]), int(prm["decoupled"]),
                int(prm["maximize"]))
        fallback = node.params["_prim"].forward
        kw = {k: v for k, v in prm.items() if k != "_prim"}

        held = [None]  # (p, m, v, c, their pointers): state arrays persist

        def run(env):
            p, g, m, v, c = [env[i] for i in ins]
            h = held[0]
            if h is None or h[0] is not p or h[1] is not m or h[2] is not v \
                    or h[3] is not c:
                ok = (p.flags.c_contiguous and m.flags.c_contiguous
                      and v.flags.c_contiguous and m.dtype == p.dtype == v.dtype)
                h = held[0] = (p, m, v, c, ok, p.ctypes.data, m.ctypes.data,
                               v.ctypes.data, c.ctypes.data, p.size)
            if h[4] and g.dtype == p.dtype and g.flags.c_contiguous:
                fn(h[5], g.ctypes.data, h[6], h[7], h[8], h[9], *scal)
            else:
                fallback(p, g, m, v, c, **kw)
            env[out] = p

        return run


def lower(graph, required=False):
    """Replace the nodes a kernel exists for; the rest stay replay nodes."""
    if not available():
        if required:
            raise RuntimeError("chainrule.jit: backend='native' needs a C compiler "
                               "(gcc or $CC)")
        if not _notice:
            _notice.append(1)
            warnings.warn("chainrule.jit: no C compiler found; the native backend "
                          "steps aside and graphs run with NumPy replay",
                          RuntimeWarning, stacklevel=4)
        return graph
    from .whole_step import lower as lower_whole

    whole = build_or_warn(lambda: lower_whole(graph), "whole-step kernel",
                          required, "per-node kernels", stacklevel=4)
    if whole is not None:
        return whole
    vals = graph.values
    kernels = {}
    for n in graph.nodes:
        if n.kind == "prim" and n.prim.name == "adam_step" and len(n.ins) == 5:
            dt, ct = vals[n.ins[0]].dtype, vals[n.ins[4]].dtype
            if dt not in _CTYPES or ct not in _CTYPES:
                continue
            k = cached_kernel(kernels, (dt, ct), lambda: AdamKernel(dt, ct),
                              "kernel", required, stacklevel=4)
            if k is None:
                return graph
            make_kernel_node(n, k)
    from . import native_conv, native_linear, native_norm
    from .fusion import fuse
    from .native_lstm import lower as lower_lstm
    from .native_scatter import lower as lower_scatter

    lower_lstm(graph, required)
    lower_scatter(graph, required)
    for mod in (native_conv, native_linear, native_norm):
        graph = mod.lower(graph, required)

    fused = build_or_warn(lambda: fuse(graph), "fused kernel", required,
                          "replay for elementwise chains", stacklevel=4)
    return graph if fused is None else fused
