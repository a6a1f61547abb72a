"""Abstract-evaluation rules of the primitives whose outputs depend on params.

Each rule maps the inputs' ``(shape, dtype)`` pairs ("avals") and the call's
params to the outputs' avals, without touching data.  The elementwise rules
live in ``_core`` with the kinds; these are the ones a primitive names in its
``abstract=`` (or that a kind implies when its params are the family's).

A few rules let NumPy work out a view's shape on a *stand-in*: a zero-strided
array of the input's shape that occupies one element, so slicing, diagonal
or axis moves cost nothing and follow NumPy's own rules exactly.
"""
import numpy as np

from ..errors import DataDependentShape

_I64, _BOOL = np.dtype(np.int64), np.dtype(bool)


def stand_in(shape, dtype=np.float64):
    """A read-only array of ``shape`` backed by a single element."""
    return np.broadcast_to(np.zeros((), dtype), tuple(shape))


def _int_promoted(d):
    """Accumulating reductions of bool/int give int64, as PyTorch does."""
    return _I64 if d.kind in "bi" else d


def _reduced(shape, axis, keepdim):
    nd = len(shape)
    if axis is None:
        axes = set(range(nd))
    else:
        axes = {a % nd for a in ((axis,) if isinstance(axis, int) else axis)} \
            if nd else set()
    if keepdim:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


# -- reductions: params ``axis`` (None, an int or a tuple) and ``keepdim`` -------------
def reduce_aval(x, *, axis, keepdim):
    """The kind's rule: reduced shape, same dtype (amax, amin)."""
    return ((_reduced(x[0], axis, keepdim), x[1]),)


def sum_aval(x, *, axis, keepdim):
    return ((_reduced(x[0], axis, keepdim), _int_promoted(x[1])),)


def arg_reduce_aval(x, *, axis, keepdim):
    return ((_reduced(x[0], axis, keepdim), _I64),)


def logic_reduce_aval(x, *, axis, keepdim):
    return ((_reduced(x[0], axis, keepdim), _BOOL),)


# -- along one axis: shape kept ------------------------------------------------------
def along_axis_aval(x, **params):
    """The kind's rule: same shape and dtype (softmax, log_softmax)."""
    return (x,)


def scan_aval(x, *, axis):
    return ((x[0], _int_promoted(x[1])),)


def argsort_aval(x, **params):
    return ((x[0], _I64),)


# -- movement -------------------------------------------------------------------------
def cat_aval(*xs, axis):
    shape = list(xs[0][0])
    shape[axis] = sum(s[axis] for s, _ in xs)
    return ((tuple(shape), np.result_type(*(d for _, d in xs))),)


def split_copy_aval(x, *, axis, sizes, squeeze):
    out = []
    for k in sizes:
        shape = list(x[0])
        if squeeze:
            del shape[axis]
        else:
            shape[axis] = k
        out.append((tuple(shape), x[1]))
    return tuple(out)


def split_copy_count(n_inputs, params):
    return len(params["sizes"])


def diagonal_aval(x, *, offset, a1, a2):
    return ((np.diagonal(stand_in(x[0]), offset, a1, a2).shape, x[1]),)


def diag_embed_aval(x, *, offset, a1, a2, size):
    shape = tuple(x[0][:-1]) + (size, size)
    return ((np.moveaxis(stand_in(shape), (-2, -1), (a1, a2)).shape, x[1]),)


def pad_aval(x, *, widths, value):
    return ((tuple(s + lo + hi for s, (lo, hi) in zip(x[0], widths)), x[1]),)


# -- indexing -------------------------------------------------------------------------
def _parts(index):
    """The pieces of a normalised index (a tuple, or a two-step Split)."""
    if hasattr(index, "first"):
        return tuple(index.first) + tuple(index.second)
    return index if isinstance(index, tuple) else (index,)


def getitem_aval(x, *arrays, index):
    """``arrays``: the avals of the index inputs (filling the index's slots)."""
    from .index import _take, fill

    if any(d == np.bool_ for _, d in arrays) or any(
            isinstance(i, np.ndarray) and i.dtype == np.bool_ for i in _parts(index)):
        raise DataDependentShape(
            "getitem: a boolean-mask index selects as many elements as the mask "
            "has True values: the output shape depends on data")
    index = fill(index, [stand_in(s, d) for s, d in arrays])
    return ((_take(stand_in(x[0]), index).shape, x[1]),)


def index_grad_aval(g, *arrays, shape, index):
    return ((tuple(shape), g[1]),)


def first_aval(x, *rest, **params):
    """Output like input 0: index_put, scatter, in-place steps."""
    return (x,)


def gather_aval(x, index, *, dim):
    return ((index[0], x[1]),)


def nonzero_aval(x):
    raise DataDependentShape(
        f"nonzero: the output (count, {len(x[0])}) has one row per non-zero "
        "element: its shape depends on data")


def one_hot_aval(x, *, num_classes):
    return ((tuple(x[0]) + (num_classes,), _I64),)


# -- windows: convolution and pooling -------------------------------------------------
def unfold_aval(x, *, kernel, dilation, padding, stride, windows, size):
    n, c = x[0][:2]
    return (((n, c * kernel[0] * kernel[1], windows[0] * windows[1]), x[1]),)


def fold_aval(cols, *, kernel, dilation, padding, stride, windows, size):
    n, k = cols[0][:2]
    return (((n, k // (kernel[0] * kernel[1])) + tuple(size), cols[1]),)


def conv2d_aval(x, w, *b, kernel, dilation, padding, stride, windows, size):
    """(out (N, O, oh, ow), columns (N*oh*ow, kh*kw*C)): the second is a
    residual the backward reads."""
    (n, c), o = x[0][:2], w[0][0]
    d = np.result_type(x[1], w[1], *(v[1] for v in b))
    return (((n, o) + tuple(windows), d),
            ((n * windows[0] * windows[1], kernel[0] * kernel[1] * c), x[1]))


def conv2d_backward_aval(g, w, cols, *, bias, kernel, dilation, padding, stride,
                         windows, size):
    n, c = g[0][0], w[0][1]
    d = np.result_type(g[1], w[1], cols[1])
    out = (((n, c) + tuple(size), d), (tuple(w[0]), d))
    return out + ((((w[0][0],), g[1]),) if bias else ())


def conv2d_backward_count(n_inputs, params):
    return 3 if params["bias"] else 2


def max_pool_aval(x, *, kernel, dilation, padding, stride, windows, size):
    shape = tuple(x[0][:2]) + tuple(windows)
    return ((shape, x[1]), (shape, _I64))


def adaptive_max_pool_indices_aval(x, *, windows):
    return ((tuple(x[0][:2]) + tuple(windows), _I64),)


def pool_gather_aval(x, idx):
    return ((idx[0], x[1]),)


def pool_scatter_aval(g, idx, *, size, unique=False):
    return ((tuple(g[0][:2]) + tuple(size), g[1]),)


# -- linear algebra -------------------------------------------------------------------
def matmul_aval(a, b):
    sa, sb = tuple(a[0]), tuple(b[0])
    d = np.result_type(a[1], b[1])
    if not sa or not sb:
        raise ValueError("matmul: both operands need at least one dimension")
    va, vb = len(sa) == 1, len(sb) == 1
    ma = (1,) + sa if va else sa
    mb = sb + (1,) if vb else sb
    batch = np.broadcast_shapes(ma[:-2], mb[:-2])
    shape = batch + (() if va else (ma[-2],)) + (() if vb else (mb[-1],))
    return ((shape, d),)


def einsum_aval(*xs, ins, out):
    sizes = {}
    for sub, (shape, _) in zip(ins, xs):
        for ch, k in zip(sub, shape):
            if sizes.get(ch, 1) == 1:
                sizes[ch] = k
    return ((tuple(sizes[ch] for ch in out), np.result_type(*(d for _, d in xs))),)


def square_aval(a, **params):
    """inv, cholesky: the matrix's own shape."""
    return (a,)


def det_aval(a):
    return ((tuple(a[0][:-2]), a[1]),)


def slogdet_aval(a):
    return det_aval(a) * 2


def solve_aval(a, b, **params):
    """``A X = B`` with B a (batch of) matrices: X has B's trailing dims."""
    batch = np.broadcast_shapes(a[0][:-2], b[0][:-2])
    return ((batch + tuple(b[0][-2:]), np.result_type(a[1], b[1])),)


def eigh_aval(a, *, upper):
    return ((tuple(a[0][:-1]), a[1]), a)


def svd_aval(a, *, full_matrices):
    *batch, m, n = a[0]
    k = min(m, n)
    batch = tuple(batch)
    return ((batch + (m, m if full_matrices else k), a[1]), (batch + (k,), a[1]),
            (batch + (n if full_matrices else k, n), a[1]))


# -- fused kernels --------------------------------------------------------------------
def linear_aval(x, w, *b):
    d = np.result_type(x[1], w[1], *(v[1] for v in b))
    return ((tuple(x[0][:-1]) + (w[0][0],), d),)


def nll_aval(logp, target, *, ignore_index, reduction, op="nll_loss"):
    return (((logp[0][0],) if reduction == "none" else (), logp[1]),)


def nll_grad_aval(g, target, *, classes, ignore_index, reduction, op=None):
    return (((target[0][0], classes), g[1]),)


def layer_norm_aval(x, *wb, k, eps):
    return (x,)


def layer_norm_backward_aval(g, x, *w, k, eps):
    """(gx) without weights, (gx, gw, gb) with them."""
    d = np.result_type(g[1], x[1])
    if not w:
        return ((x[0], d),)
    norm = tuple(x[0][len(x[0]) - k:])
    return ((x[0], d), (norm, d), (norm, g[1]))


def layer_norm_backward_count(n_inputs, params):
    return 1 if n_inputs == 2 else 3


def lstm_seq_aval(xg, whh, h0, c0, *, reverse):
    """out (T, N, H), h_T, c_T, then residuals: gates (T, N, 4H), cells (T, N, H)
    (no N dim when unbatched)."""
    shape, d = xg
    seq = (tuple(shape[:-1]) + (shape[-1] // 4,), d)
    return seq, (tuple(h0[0]), d), (tuple(c0[0]), d), (tuple(xg[0]), d), seq


def lstm_seq_backward_aval(gout, ghT, gcT, whh, h0, c0, out, acts, cs, *, reverse):
    return (acts, whh, h0, c0)


# -- random draws, optimizer steps, opaque primitives ---------------------------------
def draw_aval(*, shape, dtype, gen, **bounds):
    return ((tuple(shape), np.dtype(dtype)),)


def randperm_aval(*, shape, dtype, gen):
    return (((shape[0],), np.dtype(dtype)),)


def inputs_aval(*xs, **params):
    """One output per input, unchanged (hook_identity)."""
    return xs


def inputs_count(n_inputs, params):
    return n_inputs


def custom_function_aval(*xs, fn, ctx):
    """The user's forward has already run: its outputs are ``ctx``'s arrays."""
    return tuple((o.shape, o.dtype) for o in ctx._out_arrays)
