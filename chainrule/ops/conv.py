"""Sliding-window primitives: convolution and pooling are built on these.

Every window op works on 4-d ``(N, C, H, W)`` arrays (1-d ops pass H = 1)
and shares one *geometry*, passed as keyword params:

- ``kernel``   (kh, kw)          window size
- ``dilation`` (dh, dw)          spacing between window elements
- ``padding``  (top, bottom, left, right)  implicit padding
- ``stride``   (sh, sw)          step between windows
- ``windows``  (oh, ow)          number of window positions
- ``size``     (H, W)            spatial size of the unpadded image

Window (a, b) covers padded rows ``a*sh + i*dh`` (i < kh) and columns
``b*sw + j*dw`` (j < kw).  ``windows`` is explicit so that ``fold`` can
rebuild an image larger than the windows strictly need (transposed
convolution with output_padding), and so unfold and fold are exact
adjoints with identical params.

Primitives:

- ``unfold`` (im2col): (N, C, H, W) -> (N, C*kh*kw, oh*ow), one strided
  view copied once.  Its vjp is ``fold``.
- ``fold`` (col2im): the adjoint, summing overlapping windows back; a loop
  over the kh*kw kernel offsets, never over batch or pixels.  Its vjp is
  ``unfold``.
- ``max_pool``: each window's maximum and where it is, as PyTorch reports
  it (flat index into H*W of the input; ties go to the first maximum, NaN
  wins).  Its vjp scatters the gradient to those indices.
- ``adaptive_max_pool_indices``: the same indices over adaptive windows.
- ``pool_gather`` (pick values at indices) and ``pool_scatter`` (add
  gradients back at them): adjoints of each other, so max pooling has first
  and higher derivatives.

Convolution (``nn/conv.py``) is unfold plus one matmul; average pooling is
unfold plus a sum; adaptive average pooling is two matmuls with constant
averaging matrices built here.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..errors import ShapeError
from ..tensor import Tensor
from .._tape import _state
from . import _abstract
from ._core import apply, primitive

def _check_fits(hp, wp, kernel, dilation, stride, windows):
    """Guard the strided view: every window must lie inside the padded image."""
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel, dilation, stride, windows
    if (oh - 1) * sh + (kh - 1) * dh >= hp or (ow - 1) * sw + (kw - 1) * dw >= wp:
        raise ShapeError(
            f"unfold: {oh}x{ow} windows of size {kh}x{kw} (stride {sh}x{sw}, "
            f"dilation {dh}x{dw}) do not fit a padded image of {hp}x{wp}")


# -- unfold / fold (im2col / col2im) ------------------------------------------------
# The window geometry every convolution and pooling primitive takes as params.
_GEOMETRY = ("kernel", "dilation", "padding", "stride", "windows", "size")

def _unfold_fwd(x, kernel, dilation, padding, stride, windows, size):
    n, c, h, w = x.shape
    pt, pb, pl, pr = padding
    if pt or pb or pl or pr:
        xp = np.zeros((n, c, h + pt + pb, w + pl + pr), x.dtype)
        xp[:, :, pt:pt + h, pl:pl + w] = x
    else:
        xp = x
    _check_fits(xp.shape[2], xp.shape[3], kernel, dilation, stride, windows)
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel, dilation, stride, windows
    s = xp.strides
    # (N, C, kh, kw, oh, ow): the image's own row order stays innermost, so the
    # one copy below streams through memory and the result is already the
    # (N, K, L) layout the convolution matmul wants.
    view = as_strided(xp, (n, c, kh, kw, oh, ow),
                      (s[0], s[1], dh * s[2], dw * s[3], sh * s[2], sw * s[3]),
                      writeable=False)
    return np.ascontiguousarray(view).reshape(n, c * kh * kw, oh * ow)


def _fold_fwd(cols, kernel, dilation, padding, stride, windows, size):
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel, dilation, stride, windows
    pt, pb, pl, pr = padding
    h, w = size
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    blocks = cols.reshape(n, c, kh, kw, oh, ow)
    hp, wp = h + pt + pb, w + pl + pr
    _check_fits(hp, wp, kernel, dilation, stride, windows)
    out = np.zeros((n, c, hp, wp), cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                j * dw:j * dw + sw * (ow - 1) + 1:sw] += blocks[:, :, i, j]
    if pt or pb or pl or pr:
        out = np.ascontiguousarray(out[:, :, pt:pt + h, pl:pl + w])
    return out


unfold_p = primitive(
    "unfold", _unfold_fwd,
    vjp=lambda n, g: (apply(fold_p, g, **n.params),),
    jvp=lambda c, t: apply(unfold_p, t[0], **c.params),
    saves=(),
    kind="conv", abstract=_abstract.unfold_aval, params=_GEOMETRY,
)
fold_p = primitive(
    "fold", _fold_fwd,
    vjp=lambda n, g: (apply(unfold_p, g, **n.params),),
    jvp=lambda c, t: apply(fold_p, t[0], **c.params),
    saves=(),
    kind="conv", abstract=_abstract.fold_aval, params=_GEOMETRY,
)


def unfold(x, **geom):
    """(N, C, H, W) -> (N, C*kh*kw, oh*ow): every window as a column."""
    return apply(unfold_p, x, **geom)


def fold(cols, **geom):
    """(N, C*kh*kw, oh*ow) -> (N, C, H, W): sum the windows back (unfold's adjoint)."""
    return apply(fold_p, cols, **geom)


# -- geometry -----------------------------------------------------------------------
def out_len(size, kernel, dilation, pad_lo, pad_hi, stride, ceil_mode=False):
    """Number of window positions along one axis (PyTorch's pooling formula
    with ``ceil_mode``: a last partial window counts if it starts inside the
    input or the left padding)."""
    span = size + pad_lo + pad_hi - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    if not ceil_mode:
        return span // stride + 1
    n = -(-span // stride) + 1
    if (n - 1) * stride >= size + pad_lo:
        n -= 1
    return n


def positions(windows, kernel, dilation, pad_lo, stride):
    """(windows, kernel) table of input positions each window reads;
    positions outside [0, size) are padding."""
    return (np.arange(windows)[:, None] * stride - pad_lo
            + np.arange(kernel)[None, :] * dilation)


def adaptive_bounds(size, out):
    """PyTorch's adaptive windows: start floor(i*size/out), end ceil((i+1)*size/out)."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    return start, end


# -- max pooling: where the maxima are -------------------------------------------------
def _first_max(slabs):
    """Index into ``slabs`` of the first maximum per element (NaN counts as max).

    ``slabs`` are equally shaped arrays, one per kernel offset in window order.
    Returns (max values, offset index).
    """
    v = slabs[0].copy()
    for s in slabs[1:]:
        np.maximum(v, s, out=v)  # propagates NaN, as PyTorch's pooling does
    k = len(slabs)
    # Walking backwards leaves the smallest offset holding the maximum.  Done
    # with branch-free arithmetic on small ints (q -= (q - i) * is_max):
    # np.where and copyto(where=) branch per element and are 3-10x slower on
    # the random masks pooling produces.
    small = np.int8 if k <= 127 else np.int32
    q = np.full(v.shape, k - 1, small)
    for i in range(k - 2, -1, -1):
        q -= (q - small(i)) * (slabs[i] == v).view(np.int8).astype(small, copy=False)
    nan = np.isnan(v)
    if nan.any():
        for i in range(k - 1, -1, -1):
            np.copyto(q, small(i), where=np.isnan(slabs[i]))
    return v, q


def _flat_index(q, hpos, wpos, kw, width):
    """Offset index ``q`` (N, C, oh, ow) -> flat input index ``h * W + w``."""
    qi, qj = np.divmod(q, kw)
    rows = np.arange(hpos.shape[0])[:, None]
    cols = np.arange(wpos.shape[0])[None, :]
    return (hpos[rows, qi] * width + wpos[cols, qj]).astype(np.int64)


def _tiles(x, kernel, stride, dilation, padding, windows):
    """Windows that tile the input exactly (stride == kernel, no padding or
    dilation): their elements as contiguous slabs, one per kernel offset."""
    (kh, kw), (oh, ow) = kernel, windows
    n, c, h, w = x.shape
    if (tuple(stride) != tuple(kernel) or tuple(dilation) != (1, 1) or any(padding)
            or (oh * kh, ow * kw) != (h, w)):
        return None
    # (kh, kw, N, C, oh, ow): one copy, then every slab is a contiguous block.
    t = x.reshape(n, c, oh, kh, ow, kw).transpose(3, 5, 0, 1, 2, 4)
    t = np.ascontiguousarray(t)
    return [t[i, j] for i in range(kh) for j in range(kw)]


def _max_pool_fwd(x, kernel, dilation, padding, stride, windows, size):
    """(max values, flat h * W + w index of each) over the windows."""
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel, dilation, stride, windows
    pt, pb, pl, pr = padding
    slabs = _tiles(x, kernel, stride, dilation, padding, windows)
    if slabs is None:
        xp = _padded(x, padding, -np.inf)
        _check_fits(xp.shape[2], xp.shape[3], kernel, dilation, stride, windows)
        slabs = [xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                    j * dw:j * dw + sw * (ow - 1) + 1:sw]
                 for i in range(kh) for j in range(kw)]
    v, q = _first_max(slabs)
    if pt or pb or pl or pr:
        neg = np.isneginf(v)
        if neg.any():
            # A window of -inf values ties with the padding; PyTorch then
            # reports the window's first element that lies inside the input.
            hpos = positions(oh, kh, dh, pt, sh)
            wpos = positions(ow, kw, dw, pl, sw)
            fh = np.argmax((hpos >= 0) & (hpos < h), axis=1)
            fw = np.argmax((wpos >= 0) & (wpos < w), axis=1)
            first = (fh[:, None] * kw + fw[None, :]).astype(np.int32)
            np.copyto(q, np.broadcast_to(first, q.shape), where=neg)
    # Window (a, b), offset (i, j) reads input (a*sh - pt + i*dh, b*sw - pl + j*dw):
    # the flat index is a per-window base plus a per-offset step.
    base = ((np.arange(oh) * sh - pt)[:, None] * w + (np.arange(ow) * sw - pl)[None, :])
    step = (np.arange(kh)[:, None] * dh * w + np.arange(kw)[None, :] * dw).reshape(-1)
    return v, np.take(step.astype(np.int64), q) + base


def _no_overlap(kernel, dilation, stride):
    """Windows never share an input element, so scattered indices are unique."""
    return all(s >= d * (k - 1) + 1 for k, d, s in zip(kernel, dilation, stride))


max_pool_p = primitive(
    "max_pool", _max_pool_fwd,
    vjp=lambda n, g: (apply(pool_scatter_p, g[0], n.out[1], size=n.metas[0][0][2:],
                            unique=_no_overlap(n.params["kernel"], n.params["dilation"],
                                               n.params["stride"])),),
    jvp=lambda c, t: (apply(pool_gather_p, t[0], c.out[1]), None),
    saves=(), save_out=(1,), n_out=2,  # the vjp reads only the indices
    kind="conv", abstract=_abstract.max_pool_aval, params=_GEOMETRY,
)


def max_pool(x, **geom):
    """Window maxima of ``x`` (N, C, H, W) and their flat ``h * W + w`` indices
    (int64, ties to the first maximum, NaN wins), both (N, C, oh, ow)."""
    return apply(max_pool_p, x, **geom)


def _adaptive_max_fwd(x, windows):
    n, c, h, w = x.shape
    oh, ow = windows
    tables = []
    for size, out in ((h, oh), (w, ow)):
        start, end = adaptive_bounds(size, out)
        k = int((end - start).max())
        # Short windows repeat their last element: a repeat never beats the
        # first occurrence, so the reported index is unchanged.
        tables.append(start[:, None] + np.minimum(np.arange(k)[None, :],
                                                  (end - start - 1)[:, None]))
    hpos, wpos = tables
    kh, kw = hpos.shape[1], wpos.shape[1]
    g = x[:, :, hpos[:, None, :, None], wpos[None, :, None, :]]
    q = np.argmax(g.reshape(n, c, oh, ow, kh * kw), axis=-1)  # first max; NaN wins
    return _flat_index(q, hpos, wpos, kw, w)


adaptive_max_pool_indices_p = primitive(
    "adaptive_max_pool_indices", _adaptive_max_fwd, saves=(), kind="conv",
    abstract=_abstract.adaptive_max_pool_indices_aval, params=("windows",))


def adaptive_max_pool_indices(x, windows):
    """Like :func:`max_pool_indices` over PyTorch's adaptive windows."""
    return apply(adaptive_max_pool_indices_p, x, windows=tuple(windows))


# -- gather / scatter at pooling indices ----------------------------------------------
def _global_index(idx, hw):
    """Per-(n, c) flat indices -> indices into the whole flattened input."""
    n, c = idx.shape[:2]
    base = (np.arange(n * c, dtype=np.int64) * hw).reshape(n, c, *(1,) * (idx.ndim - 2))
    return idx + base


def _pool_gather_fwd(x, idx):
    hw = int(np.prod(x.shape[2:]))
    return np.take(x.reshape(-1), _global_index(idx, hw))


def _pool_scatter_fwd(g, idx, size, unique=False):
    n, c = g.shape[:2]
    out = np.zeros(n * c * int(np.prod(size)), g.dtype)
    where = _global_index(idx, int(np.prod(size))).reshape(-1)
    if unique:  # non-overlapping windows: a plain (much faster) assignment
        out[where] = g.reshape(-1)
    else:  # overlapping windows can pick the same input twice: add
        np.add.at(out, where, g.reshape(-1))
    return out.reshape((n, c) + tuple(size))


pool_gather_p = primitive(
    "pool_gather", _pool_gather_fwd,
    vjp=lambda n, g: (apply(pool_scatter_p, g, n.inputs[1],
                            size=n.metas[0][0][2:]), None),
    jvp=lambda c, t: apply(pool_gather_p, t[0], c.inputs[1]),
    saves=(1,),
    kind="conv", abstract=_abstract.pool_gather_aval, params=(),
)
pool_scatter_p = primitive(
    "pool_scatter", _pool_scatter_fwd,
    vjp=lambda n, g: (apply(pool_gather_p, g, n.inputs[1]), None),
    jvp=lambda c, t: apply(pool_scatter_p, t[0], c.inputs[1], **c.params),
    saves=(1,),
    kind="conv", abstract=_abstract.pool_scatter_aval, params=("size", "unique"),
)


def pool_gather(x, idx):
    """``x`` (N, C, *S) at per-(n, c) flat indices ``idx`` (N, C, *O) -> (N, C, *O)."""
    return apply(pool_gather_p, x, idx)


def pool_scatter(g, idx, size):
    """Adjoint of :func:`pool_gather`: add ``g`` into zeros of shape (N, C, *size)."""
    return apply(pool_scatter_p, g, idx, size=tuple(size))


# -- constant tables for average pooling and resizing ---------------------------------
def avg_divisor(size, kernel, padding, stride, windows, count_include_pad, like):
    """(oh, ow) tensor of PyTorch's average-pooling divisors, dtype of ``like``.

    ``padding`` is (ph, pw), the symmetric user padding: a window is clipped
    to the padded image before counting, and further to the input when
    padded cells do not count.
    """
    counts = []
    for n, k, p, s, o in zip(size, kernel, padding, stride, windows):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        full = end - start
        inner = np.minimum(end, n) - np.maximum(start, 0)
        counts.append(full if count_include_pad else inner)
    return Tensor._make(np.outer(counts[0], counts[1]).astype(like._data.dtype))


def adaptive_avg_matrix(size, out, like):
    """(out, size) matrix whose row i averages PyTorch's adaptive window i
    (dtype of ``like``)."""
    start, end = adaptive_bounds(size, out)
    cols = np.arange(size)[None, :]
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return Tensor._make((inside / (end - start)[:, None]).astype(like._data.dtype))


def nearest_index(size, out, scale, exact=False):
    """PyTorch's nearest-neighbour source index for each of ``out`` outputs.

    ``scale`` is the user's scale factor or None (then size/out is used).
    The arithmetic is float32, as in PyTorch's CPU kernel, so the chosen
    pixels agree exactly.  Returns (index tensor, r) where r > 0 means the
    index is simply each input repeated r times (callers can then use a
    broadcast instead of a gather).
    """
    if out == size and not exact:
        idx = np.arange(size, dtype=np.int64)
    else:
        r = np.float32(1.0 / scale) if scale else np.float32(size) / np.float32(out)
        i = np.arange(out, dtype=np.float32)
        src = np.floor((i + np.float32(0.5)) * r if exact else i * r)
        idx = np.minimum(src.astype(np.int64), size - 1)
    rep = out // size if out % size == 0 else 0
    if rep and not np.array_equal(idx, np.repeat(np.arange(size), rep)):
        rep = 0
    return Tensor._make(idx), rep


def linear_weights(size, out, scale, align_corners, like):
    """Linear interpolation along one axis: (index0, index1, weight1) tensors,
    the weight in ``like``'s dtype.

    output[i] = input[i0] * (1 - w1) + input[i1] * w1, with PyTorch's source
    coordinate: i * (size-1)/(out-1) with align_corners, else
    (i + 0.5) * ratio - 0.5 clamped at 0.
    """
    dt = like._data.dtype
    i = np.arange(out, dtype=dt)
    if align_corners:
        r = dt.type((size - 1) / (out - 1)) if out > 1 else dt.type(0)
        src = i * r
    else:
        r = dt.type(1.0 / scale) if scale else dt.type(size) / dt.type(out)
        src = np.maximum((i + dt.type(0.5)) * r - dt.type(0.5), dt.type(0))
    i0 = np.minimum(src.astype(np.int64), size - 1)
    w1 = np.clip(src - i0.astype(dt), 0, 1).astype(dt)
    i1 = np.minimum(i0 + 1, size - 1)
    return Tensor._make(i0), Tensor._make(i1), Tensor._make(w1)


__all__ = []  # internal building blocks; the public API is in chainrule.nn


# -- fused convolution: one GEMM over the whole batch ---------------------------------
# ``unfold`` + a batched matmul runs N small products; here the image is
# turned channels-last once and the window copy laid out (N*oh*ow,
# kh*kw*C), whose contiguous runs are kw*C long, so the forward is one
# (N*L, K) @ (K, O) product and the backward two more plus one col2im.  The
# window columns are kept as a residual output for the weight gradient.
# tests/test_fused.py checks it against the unfold composite (values,
# gradients, second order, tangents).
def _padded(x, padding, fill=0.0):
    pt, pb, pl, pr = padding
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    xp = np.full((n, c, h + pt + pb, w + pl + pr), fill, x.dtype)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    return xp


def _cols_nhwc(x, kernel, dilation, padding, stride, windows, size):
    """(N*oh*ow, kh*kw*C) window rows of ``x`` (N, C, H, W)."""
    n, c, h, w = x.shape
    pt, pb, pl, pr = padding
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c), x.dtype)
    xp[:, pt:pt + h, pl:pl + w, :] = x.transpose(0, 2, 3, 1)
    _check_fits(xp.shape[1], xp.shape[2], kernel, dilation, stride, windows)
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel, dilation, stride, windows
    s = xp.strides
    view = as_strided(xp, (n, oh, ow, kh, kw, c),
                      (s[0], sh * s[1], sw * s[2], dh * s[1], dw * s[2], s[3]),
                      writeable=False)
    return np.ascontiguousarray(view).reshape(n * oh * ow, kh * kw * c)


def _weight_rows(w):
    """(O, C, kh, kw) weight -> (kh*kw*C, O), matching the window rows."""
    return w.transpose(2, 3, 1, 0).reshape(-1, w.shape[0])


def _conv2d_fwd(x, w, *b, kernel, dilation, padding, stride, windows, size):
    n, o = x.shape[0], w.shape[0]
    oh, ow = windows
    cols = _cols_nhwc(x, kernel, dilation, padding, stride, windows, size)
    out = cols @ _weight_rows(w)  # (N*L, O)
    if b:
        out += b[0]
    out = np.ascontiguousarray(out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2))
    return out, cols


def _conv2d_bwd_fwd(g, w, cols, *, bias, kernel, dilation, padding, stride, windows,
                    size):
    n, o, oh, ow = g.shape
    c = w.shape[1]
    (kh, kw), (dh, dw), (sh, sw) = kernel, dilation, stride
    g2 = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(n * oh * ow, o)
    gw = (cols.T @ g2).reshape(kh, kw, c, o).transpose(3, 2, 0, 1)
    gcols = (g2 @ _weight_rows(w).T).reshape(n, oh, ow, kh, kw, c)
    # col2im, channels-last: add every kernel offset's block back in place.
    pt, pb, pl, pr = padding
    h, wd = size
    gx = np.zeros((n, h + pt + pb, wd + pl + pr, c), g.dtype)
    for i in range(kh):
        for j in range(kw):
            gx[:, i * dh:i * dh + sh * (oh - 1) + 1:sh,
               j * dw:j * dw + sw * (ow - 1) + 1:sw, :] += gcols[:, :, :, i, j, :]
    gx = np.ascontiguousarray(gx[:, pt:pt + h, pl:pl + wd, :].transpose(0, 3, 1, 2))
    if bias:
        return gx, np.ascontiguousarray(gw), g.sum(axis=(0, 2, 3))
    return gx, np.ascontiguousarray(gw)


conv2d_bwd_p = primitive("conv2d_backward", _conv2d_bwd_fwd,
                         n_out=_abstract.conv2d_backward_count, kind="conv",
                         abstract=_abstract.conv2d_backward_aval,
                         params=("bias",) + _GEOMETRY)


def conv2d_composite(x, w, *b, kernel, dilation, padding, stride, windows, size):
    """The definition: unfold, one batched matmul, bias; ``(out, None)``."""
    from .linalg import matmul
    from .shape import reshape

    n, o = x.shape[0], w.shape[0]
    cols = apply(unfold_p, x, kernel=kernel, dilation=dilation, padding=padding,
                 stride=stride, windows=windows, size=size)
    out = reshape(matmul(reshape(w, (o, -1)), cols), (n, o) + tuple(windows))
    if b:
        out = out + reshape(b[0], (o, 1, 1))
    return out, None


def _conv2d_vjp(n, g):
    from .fused import _recompute_vjp  # fused.py builds on this module

    if _state.grad:  # create_graph: differentiate the composite
        return _recompute_vjp(conv2d_composite, n, (g[0],), 1)
    res = apply(conv2d_bwd_p, g[0], n.inputs[1], n.out[1], bias=len(n.inputs) > 2,
                **n.params)
    return tuple(res)


def _conv2d_jvp(c, t):
    from .elementwise import _tadd
    from .shape import reshape

    x, w = c.inputs[0], c.inputs[1]
    out = None
    if t[0] is not None:
        out = apply(conv2d_p, t[0], w, **c.params)[0]
    if t[1] is not None:
        out = _tadd(out, apply(conv2d_p, x, t[1], **c.params)[0])
    if len(t) > 2 and t[2] is not None:
        from .shape import expand

        out = _tadd(out, expand(reshape(t[2], (-1, 1, 1)), c.out[0].shape))
    return out, None


conv2d_p = primitive("conv2d", _conv2d_fwd, vjp=_conv2d_vjp, jvp=_conv2d_jvp,
                     save_out=True, n_out=2, residuals=1, kind="conv",
                     abstract=_abstract.conv2d_aval, params=_GEOMETRY)


def conv2d(x, w, b=None, **geom):
    """Cross-correlation of ``x`` (N, C, H, W) with ``w`` (O, C, kh, kw) plus
    ``b`` (O,), over the window geometry ``geom``; groups of 1 only."""
    args = (x, w) if b is None else (x, w, b)
    return apply(conv2d_p, *args, **geom)[0]
