"""Composites promoted to primitives because the benchmarks said so.

Each primitive here equals a composite of ordinary ops (the tests check
values, gradients and second derivatives against that composite) but runs
its forward -- and, for first-order backward, its gradient -- as a few NumPy
calls instead of dozens of dispatches:

* ``linear``: ``x @ W.T + b`` on 2-D or 1-D ``x``;
* ``softmax`` / ``log_softmax`` along one dim;
* ``layer_norm`` over the trailing dims;
* ``lstm_seq``: a whole LSTM layer over a sequence (the time loop in NumPy).

Gradients of ``linear`` and the softmaxes are written in chainrule ops from
the output, so they are exact to any order.  ``layer_norm`` and ``lstm_seq``
use a NumPy backward primitive for ordinary backward; when the backward pass
is itself being recorded (``create_graph=True``) their vjp instead
differentiates the composite, so higher derivatives stay exact.
"""
import numpy as np

from .._tape import _state, enable_grad
from ..errors import IndexOutOfRange
from ..tensor import Tensor
from . import _abstract
from ._core import apply, primitive


def _zeros_like(x):
    return Tensor._make(np.zeros(x.shape, x._data.dtype))


def _recompute_vjp(composite, n, grads, n_outputs):
    """Gradients of ``composite(*inputs)`` w.r.t. the inputs needing them,
    built as a differentiable graph (used under ``create_graph=True``)."""
    # An upward call of ops/ (as in _composite_jvp): runs the backward engine.
    from ..autograd.engine import grad as autograd_grad

    inputs = n.inputs
    wanted = [i for i, need in enumerate(n.needs) if need]
    with enable_grad():
        outs = composite(*inputs, **n.params)
        outs = outs if isinstance(outs, tuple) else (outs,)
        pairs = [(o, g) for o, g in zip(outs[:n_outputs], grads) if g is not None]
        res = autograd_grad([o for o, _ in pairs], [inputs[i] for i in wanted],
                            [g for _, g in pairs], create_graph=True, allow_unused=True)
    out = [None] * len(inputs)
    for i, r in zip(wanted, res):
        out[i] = r
    return tuple(out)


# -- forward mode of a fused primitive, from its definition ---------------------------
def _composite_jvp(composite, c, t, n_res=0):
    """Tangents of ``composite(*inputs)`` (plus ``n_res`` Nones for residual
    outputs), by differentiating the composite's vjp in its cotangent: the
    vjp is linear in ``u``, so ``d/du <vjp(u), t>`` is the jvp."""
    # Reverse mode lives above ops/: a call-time import, as in _recompute_vjp.
    from ..autograd.engine import grad as autograd_grad
    from .._tape import enable_grad
    from .reduce import sum

    with enable_grad():
        ins = [x if x.requires_grad else x.detach().requires_grad_()
               for x in c.inputs]
        out = composite(*ins, **c.params)
        u = Tensor._make(np.zeros(out.shape, out._data.dtype)).requires_grad_()
        wanted = [i for i, tan in enumerate(t) if tan is not None]
        gs = autograd_grad([out], [ins[i] for i in wanted], [u], create_graph=True,
                           allow_unused=True)
        dot = None
        for i, gi in zip(wanted, gs):
            if gi is not None:
                term = sum(gi * t[i])
                dot = term if dot is None else dot + term
        if dot is None:
            tan = Tensor._make(np.zeros(out.shape, out._data.dtype))
        else:
            tan = autograd_grad([dot], [u], create_graph=True, allow_unused=True,
                                materialize_grads=True)[0]
    return (tan,) + (None,) * n_res if n_res else tan


# -- linear ----------------------------------------------------------------------------
def _linear_fwd(x, w, *b):
    out = x @ w.T
    if b:
        out += b[0]
    return out


def _linear_vjp(n, g):
    from .linalg import matmul
    from .reduce import sum
    from .shape import t

    x, w = n.inputs[0], n.inputs[1]
    needs_b = len(n.needs) > 2 and n.needs[2]
    if x.ndim == 1:  # one example (as vmap sees it): one op per gradient
        from .linalg import einsum_p

        gx = apply(linear_p, g, t(w)) if n.needs[0] else None  # g @ w
        gw = apply(einsum_p, g, x, ins=("i", "j"), out="ij") if n.needs[1] else None
        return (gx, gw, g if needs_b else None)[:len(n.needs)]
    gx = matmul(g, w) if n.needs[0] else None
    gw = matmul(t(g), x) if n.needs[1] else None
    gb = sum(g, 0) if needs_b else None
    return (gx, gw, gb)[:len(n.needs)]


def _linear_jvp(c, t):
    from .elementwise import _tadd

    x, w = c.inputs[0], c.inputs[1]
    out = None
    if t[0] is not None:
        out = apply(linear_p, t[0], w)
    if t[1] is not None:
        out = _tadd(out, apply(linear_p, x, t[1]))
    if len(t) > 2 and t[2] is not None:
        from .shape import expand

        out = _tadd(out, expand(t[2], c.out.shape))
    return out


linear_p = primitive("linear", _linear_fwd, vjp=_linear_vjp, jvp=_linear_jvp,
                     kind="fused", abstract=_abstract.linear_aval, params=())


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` for ``x`` ``(N, in)`` or ``(in,)``, ``weight``
    ``(out, in)``, ``bias`` ``(out,)`` -> ``(N, out)`` or ``(out,)``."""
    return apply(linear_p, x, weight) if bias is None else apply(linear_p, x, weight,
                                                                 bias)


# -- softmax / log_softmax -------------------------------------------------------------
def _softmax_fwd(x, dim, masked=False):
    top = np.max(x, axis=dim, keepdims=True)
    if masked:  # a row that is all -inf (fully masked) gives zeros, not NaN
        top[~np.isfinite(top)] = 0
    e = x - top
    np.exp(e, out=e)
    total = np.sum(e, axis=dim, keepdims=True)
    if masked:
        total[total == 0] = 1
    e /= total
    return e


def _log_softmax_fwd(x, dim):
    s = x - np.max(x, axis=dim, keepdims=True)
    s -= np.log(np.sum(np.exp(s), axis=dim, keepdims=True))
    return s


def _softmax_vjp(n, g):
    from .reduce import sum

    y = n.out
    gy = g * y
    return (gy - y * sum(gy, n.params["dim"], keepdim=True),)


# -- negative log-likelihood of class indices ------------------------------------------
def _nll_weights(target, ignore_index, reduction, dtype):
    """Per-sample weight of -logp[i, t_i]: 0 for ignored samples, 1/count for mean."""
    keep = (target != ignore_index).astype(dtype)
    if reduction == "mean":
        keep /= keep.sum()  # all ignored: 0/0 = nan, as PyTorch
    return keep


def _nll_fwd(logp, target, ignore_index, reduction, op="nll_loss"):
    n, c = logp.shape
    ok = target != ignore_index
    bad = ok & ((target < 0) | (target >= c))
    if bad.any():
        raise IndexOutOfRange(f"{op}: target {int(target[bad][0])} is out of bounds "
                              f"for {c} classes (valid: 0 to {c - 1}, or "
                              f"ignore_index={ignore_index})")
    picked = logp[np.arange(n), np.where(ok, target, 0)]
    w = _nll_weights(target, ignore_index, reduction, logp.dtype)
    if reduction == "none":
        return -picked * w
    return np.asarray(-(picked * w).sum(), logp.dtype)


def _nll_grad_fwd(g, target, classes, ignore_index, reduction, op=None):
    n = target.shape[0]
    w = _nll_weights(target, ignore_index, reduction, g.dtype)
    out = np.zeros((n, classes), g.dtype)
    out[np.arange(n), np.where(w != 0, target, 0)] = -(g * w)
    return out


nll_p = primitive(
    "nll", _nll_fwd,
    vjp=lambda n, g: (apply(nll_grad_p, g, n.inputs[1], classes=n.metas[0][0][1],
                            **n.params), None),
    jvp=lambda c, t: apply(nll_p, t[0], c.inputs[1], **c.params),
    saves=(1,), quiet=True,
    kind="fused", abstract=_abstract.nll_aval,
    params=("ignore_index", "reduction", "op"),
)
# The gradient map is linear in g; its adjoint is the loss itself.
nll_grad_p = primitive(
    "nll_grad", _nll_grad_fwd,
    vjp=lambda n, g: (apply(nll_p, g, n.inputs[1],
                            ignore_index=n.params["ignore_index"],
                            reduction=n.params["reduction"],
                            op=n.params.get("op", "nll_loss")), None),
    jvp=lambda c, t: apply(nll_grad_p, t[0], c.inputs[1], **c.params),
    saves=(1,), quiet=True,
    kind="fused", abstract=_abstract.nll_grad_aval,
    params=("classes", "ignore_index", "reduction", "op"),
)


def nll_loss(logp, target, ignore_index=-100, reduction="mean", op="nll_loss"):
    """``-logp[i, target[i]]`` averaged over non-ignored samples (or summed, or
    per sample); ``logp`` ``(N, C)``, ``target`` ``(N,)`` int64.  A target out
    of range raises IndexOutOfRange naming ``op``."""
    return apply(nll_p, logp, target, ignore_index=int(ignore_index),
                 reduction=reduction, op=op)


def _softmax_jvp(c, t):
    from .reduce import sum

    y = c.out
    ty = t[0] * y
    return ty - y * sum(ty, c.params["dim"], keepdim=True)


def _log_softmax_vjp(n, g):
    from .elementwise import exp
    from .reduce import sum

    return (g - exp(n.out) * sum(g, n.params["dim"], keepdim=True),)


def _log_softmax_jvp(c, t):
    from .elementwise import exp
    from .reduce import sum

    return t[0] - sum(exp(c.out) * t[0], c.params["dim"], keepdim=True)


softmax_p = primitive("softmax", _softmax_fwd, vjp=_softmax_vjp, jvp=_softmax_jvp,
                      saves=(), save_out=True, quiet=True, kind="along_axis",
                      params=("dim", "masked"))
log_softmax_p = primitive("log_softmax", _log_softmax_fwd, vjp=_log_softmax_vjp,
                          jvp=_log_softmax_jvp, saves=(), save_out=True, quiet=True,
                          kind="along_axis", params=("dim",))


def softmax(x, dim, masked=False):
    """``exp(x) / sum(exp(x), dim)``, computed stably; ``dim`` already normalised.

    With ``masked``, a slice that is entirely -inf (attention with every key
    masked) gives zeros instead of NaN.
    """
    return apply(softmax_p, x, dim=dim, masked=masked)


def log_softmax(x, dim):
    """``x - logsumexp(x, dim)``, computed stably; ``dim`` already normalised."""
    return apply(log_softmax_p, x, dim=dim)


# -- layer norm ------------------------------------------------------------------------
def _ln_stats(x, k, eps):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = np.mean(x, axis=axes, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=axes, keepdims=True)
    return axes, xc * (1.0 / np.sqrt(var + eps)), 1.0 / np.sqrt(var + eps)


def _layer_norm_fwd(x, *wb, k, eps):
    _, xhat, _ = _ln_stats(x, k, eps)
    if wb:
        xhat *= wb[0]
        xhat += wb[1]
    return xhat


def _layer_norm_bwd_fwd(g, x, *w, k, eps):
    """NumPy backward: (gx, gw, gb) for upstream ``g``."""
    axes, xhat, rstd = _ln_stats(x, k, eps)
    lead = tuple(range(x.ndim - k))
    gxhat = g * w[0] if w else g
    m1 = np.mean(gxhat, axis=axes, keepdims=True)
    m2 = np.mean(gxhat * xhat, axis=axes, keepdims=True)
    gx = (gxhat - m1 - xhat * m2) * rstd
    if not w:
        return (gx,)
    return gx, np.sum(g * xhat, axis=lead), np.sum(g, axis=lead)


layer_norm_bwd_p = primitive("layer_norm_backward", _layer_norm_bwd_fwd,
                             n_out=_abstract.layer_norm_backward_count, quiet=True,
                             kind="fused", abstract=_abstract.layer_norm_backward_aval,
                             params=("k", "eps"))


def layer_norm_composite(x, *wb, k, eps):
    """The definition: normalise over the last ``k`` dims, then scale and shift."""
    from .elementwise import rsqrt
    from .reduce import mean

    axes = tuple(range(x.ndim - k, x.ndim))
    xc = x - mean(x, axes, keepdim=True)
    y = xc * rsqrt(mean(xc * xc, axes, keepdim=True) + eps)
    return y * wb[0] + wb[1] if wb else y


def _layer_norm_vjp(n, g):
    if _state.grad:
        return _recompute_vjp(layer_norm_composite, n, (g,), 1)
    res = apply(layer_norm_bwd_p, g, *n.inputs[:2 if len(n.inputs) > 1 else 1],
                **n.params)
    return tuple(res) if isinstance(res, tuple) else (res,)


def _layer_norm_jvp(c, t):
    from .elementwise import rsqrt, _tadd
    from .reduce import mean

    x, k, eps = c.inputs[0], c.params["k"], c.params["eps"]
    axes = tuple(range(x.ndim - k, x.ndim))
    xc = x - mean(x, axes, keepdim=True)
    rstd = rsqrt(mean(xc * xc, axes, keepdim=True) + eps)
    xhat = xc * rstd
    out = None
    if t[0] is not None:
        tc = t[0] - mean(t[0], axes, keepdim=True)
        out = rstd * (tc - xhat * mean(tc * xhat, axes, keepdim=True))
        if len(c.inputs) > 1:
            out = out * c.inputs[1]
    if len(t) > 1:
        if t[1] is not None:
            out = _tadd(out, xhat * t[1])
        if t[2] is not None:
            from .shape import expand

            out = _tadd(out, expand(t[2], x.shape))
    return out


layer_norm_p = primitive("layer_norm", _layer_norm_fwd, vjp=_layer_norm_vjp,
                         jvp=_layer_norm_jvp, quiet=True, kind="fused",
                         abstract=_abstract.layer_norm_aval, params=("k", "eps"))


def layer_norm(x, weight, bias, k, eps):
    """Normalise ``x`` over its last ``k`` dims; ``weight``/``bias`` both or neither."""
    wb = () if weight is None else (weight, bias)
    return apply(layer_norm_p, x, *wb, k=k, eps=float(eps))


# -- LSTM over a whole sequence --------------------------------------------------------
def _sigmoid_(a):
    """In-place logistic function in four vectorised NumPy passes (exp of a
    large negative overflows to inf, giving exactly 0; the primitive is
    quiet).  SciPy's expit is one call but several times slower here.
    Negation is a multiply: NumPy 2.4's in-place ``negative`` misreads a
    float32 column view ``(N, 1)`` (hidden size 1) as contiguous."""
    np.multiply(a, -1, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    return a


def _steps(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _lstm_fwd(xg, whh, h0, c0, reverse):
    """``xg`` ``(T, N, 4H)`` input projections (biases included), ``whh``
    ``(4H, H)``; returns out ``(T, N, H)``, h_T, c_T and two residuals for
    backward: gate activations ``(T, N, 4H)`` (i, f, g, o) and cell states
    ``(T, N, H)``.  Unbatched, ``xg`` ``(T, 4H)`` and ``h0``/``c0`` ``(H,)``,
    it runs as a batch of one and drops the ``N`` dim of every result."""
    if xg.ndim == 2:
        res = _lstm_fwd(xg[:, None], whh, h0[None], c0[None], reverse)
        return tuple(r[:, 0] if r.ndim == 3 else r[0] for r in res)
    steps, batch, four_h = xg.shape
    hid = four_h // 4
    acts = np.empty_like(xg)
    cs = np.empty((steps, batch, hid), xg.dtype)
    out = np.empty((steps, batch, hid), xg.dtype)
    ig = np.empty((batch, hid), xg.dtype)
    whh_t = whh.T
    h, c = h0, c0
    for t in _steps(steps, reverse):
        a = acts[t]
        np.matmul(h, whh_t, out=a)
        a += xg[t]
        _sigmoid_(a[:, :2 * hid])
        np.tanh(a[:, 2 * hid:3 * hid], out=a[:, 2 * hid:3 * hid])
        _sigmoid_(a[:, 3 * hid:])
        np.multiply(a[:, :hid], a[:, 2 * hid:3 * hid], out=ig)  # i * g
        c = np.multiply(a[:, hid:2 * hid], c, out=cs[t])  # f * c
        c += ig
        h = np.tanh(c, out=out[t])
        h *= a[:, 3 * hid:]
    return out, h.copy(), c.copy(), acts, cs


def _lstm_bwd_fwd(gout, ghT, gcT, whh, h0, c0, out, acts, cs, reverse):
    """BPTT in NumPy: gradients of xg, whh, h0, c0.

    Everything that does not depend on the recurrence -- tanh(c), the
    activation derivatives, the previous cell states -- is computed for all
    steps at once before the loop, leaving seven NumPy calls per step.
    Unbatched (``h0`` ``(H,)``) it runs as a batch of one.
    """
    if h0.ndim == 1:
        dxg, dwhh, dh, dc = _lstm_bwd_fwd(
            gout[:, None], ghT[None], gcT[None], whh, h0[None], c0[None],
            out[:, None], acts[:, None], cs[:, None], reverse)
        return dxg[:, 0], dwhh, dh[0], dc[0]
    steps, batch, hid = out.shape
    tc = np.tanh(cs)
    # Derivative multipliers of the four gates: s (1 - s) for i, f, o and
    # 1 - tanh^2 for g.
    deriv = acts * (1 - acts)
    g_all = acts[..., 2 * hid:3 * hid]
    np.multiply(g_all, g_all, out=deriv[..., 2 * hid:3 * hid])
    np.subtract(1, deriv[..., 2 * hid:3 * hid], out=deriv[..., 2 * hid:3 * hid])
    # dc gets dh * o * (1 - tanh(c)^2) from the output at each step.
    o_all = acts[..., 3 * hid:]
    to_dc = o_all * (1 - tc * tc)
    # d(i, f, g) = dc * (g, c_prev, i): one (N, 3, H) product per step.
    c_prev = np.empty_like(cs)
    if reverse:
        c_prev[:-1], c_prev[-1] = cs[1:], c0
    else:
        c_prev[1:], c_prev[0] = cs[:-1], c0
    partners = np.stack([g_all, c_prev, acts[..., :hid]], axis=2)  # (T, N, 3, H)
    dxg = np.empty_like(acts)
    dh, dc = ghT.copy(), gcT.copy()
    tmp = np.empty_like(dh)
    for t in _steps(steps, not reverse):
        d = dxg[t]
        dh += gout[t]
        np.multiply(dh, tc[t], out=d[:, 3 * hid:])  # d o (before the derivative)
        np.multiply(dh, to_dc[t], out=tmp)
        dc += tmp
        np.multiply(dc[:, None, :], partners[t],
                    out=d[:, :3 * hid].reshape(batch, 3, hid))
        dc *= acts[t, :, hid:2 * hid]  # through c = f * c_prev + ...: times f
        d *= deriv[t]
        dh = d @ whh
    # h_{t-1} for every step, in time order: h0 then the outputs shifted.
    if reverse:
        hprev = np.concatenate([out[1:], h0[None]], axis=0)
    else:
        hprev = np.concatenate([h0[None], out[:-1]], axis=0)
    dwhh = dxg.reshape(-1, 4 * hid).T @ hprev.reshape(-1, hid)
    return dxg, dwhh, dh, dc


lstm_bwd_p = primitive("lstm_seq_backward", _lstm_bwd_fwd, n_out=4, quiet=True,
                       kind="fused", abstract=_abstract.lstm_seq_backward_aval,
                       params=("reverse",))


def lstm_cell(xg, h, c, whh_t, whr_t=None):
    """One LSTM step: the definition every LSTM in chainrule is checked against.

    ``xg`` ``(N, 4H)`` (or ``(4H,)`` with ``(H,)`` states) holds the input's
    share of the i, f, g, o pre-activations (``x W_ih^T + b_ih + b_hh``),
    ``whh_t`` is ``W_hh^T``.
    ``c' = sigmoid(f) c + sigmoid(i) tanh(g)``, ``h' = sigmoid(o) tanh(c')``,
    then ``h' W_hr^T`` when projecting.  Returns ``(h', c')``.
    """
    from .elementwise import sigmoid, tanh
    from .linalg import matmul
    from .shape import split_copy

    i, f, g, o = split_copy(xg + matmul(h, whh_t), c.shape[-1], -1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    if whr_t is not None:
        h = matmul(h, whr_t)
    return h, c


def lstm_seq_composite(xg, whh, h0, c0, reverse):
    """The sequence primitive's definition: :func:`lstm_cell` step by step."""
    from .shape import stack, t as tr, unbind_copy

    whh_t = tr(whh)
    steps = unbind_copy(xg, 0)
    outs = [None] * len(steps)
    h, c = h0, c0
    for t in _steps(len(steps), reverse):
        h, c = lstm_cell(steps[t], h, c, whh_t)
        outs[t] = h
    return stack(outs, 0), h, c


def _lstm_vjp(n, g):
    if _state.grad:
        return _recompute_vjp(lstm_seq_composite, n, g[:3], 3)
    gout, ghT, gcT = g[:3]
    out, _, _, acts, cs = n.out
    xg, whh, h0, c0 = n.inputs
    return tuple(apply(lstm_bwd_p, gout, ghT, gcT, whh, h0, c0, out, acts, cs,
                       **n.params))


def _lstm_jvp(c, t):
    """The composite's tangent, from reverse mode (no second copy of the math).

    ``jvp(t) = d/du <vjp(u), t>``: the vjp of the composite is linear in the
    cotangent ``u``, so differentiating its inner product with the tangents
    with respect to ``u`` gives the forward-mode derivative.
    """
    # The tangent is computed by reverse mode, which lives above ops/: a
    # call-time import, so ops never imports autograd at module level.
    from ..autograd.engine import grad as autograd_grad
    from .reduce import sum

    with enable_grad():
        ins = [x if x.requires_grad else x.detach().requires_grad_()
               for x in c.inputs]
        outs = lstm_seq_composite(*ins, **c.params)
        us = [_zeros_like(o).requires_grad_() for o in outs]
        wanted = [i for i, tan in enumerate(t) if tan is not None]
        gs = autograd_grad(list(outs), [ins[i] for i in wanted], us,
                           create_graph=True, allow_unused=True)
        dot = None
        for i, gi in zip(wanted, gs):
            if gi is not None:
                term = sum(gi * t[i])
                dot = term if dot is None else dot + term
        if dot is None:
            return tuple(_zeros_like(o) for o in outs) + (None, None)
        touts = autograd_grad([dot], us, create_graph=True, allow_unused=True,
                              materialize_grads=True)
    return tuple(touts) + (None, None)


lstm_seq_p = primitive("lstm_seq", _lstm_fwd, vjp=_lstm_vjp, jvp=_lstm_jvp,
                       save_out=True, n_out=5, residuals=2, quiet=True, kind="fused",
                       abstract=_abstract.lstm_seq_aval, params=("reverse",))


def lstm_seq(xg, whh, h0, c0, reverse=False):
    """A single-direction LSTM layer over a sequence.

    ``xg`` ``(T, N, 4H)`` are the input projections ``x W_ih^T + b_ih + b_hh``
    (gate order i, f, g, o), ``whh`` ``(4H, H)``, ``h0``/``c0`` ``(N, H)``.
    Returns ``(out (T, N, H), h_T, c_T)``; ``reverse`` runs from the last step.
    Unbatched: ``xg`` ``(T, 4H)``, ``h0``/``c0`` ``(H,)``, out ``(T, H)``.
    """
    out, h, c, _, _ = apply(lstm_seq_p, xg, whh, h0, c0, reverse=bool(reverse))
    return out, h, c


def lstm_seq_step(xg, whh, h, c):
    """One time step of :func:`lstm_seq` (what ``LSTMCell`` runs): ``xg``
    ``(N, 4H)`` or ``(4H,)``, states shaped like ``xg``'s rows -> ``(h', c')``.
    The step's time axis is added by the reshape primitive itself: the cell
    has already checked the shapes, and a step costs two calls."""
    from .shape import reshape_p

    xg = apply(reshape_p, xg, shape=(1,) + xg._data.shape)
    _, h, c, _, _ = apply(lstm_seq_p, xg, whh, h, c, reverse=False)
    return h, c
