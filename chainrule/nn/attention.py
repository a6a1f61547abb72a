"""Attention: ``F.scaled_dot_product_attention``,
``F.multi_head_attention_forward`` and ``nn.MultiheadAttention``.

Mask conventions are PyTorch's, and they differ between the two levels:

- ``scaled_dot_product_attention``: a bool ``attn_mask`` is True where a
  query *may* attend to a key;
- ``MultiheadAttention``: a bool ``attn_mask`` or ``key_padding_mask`` is
  True where attention is *not* allowed.

A float mask is added to the scores in both.  Internally every mask becomes
one additive float mask (0 or -inf), so bool and float masks, causal masks and
padding masks combine by addition.  A query whose keys are all masked gets
all-zero weights and a zero output (as PyTorch's fused attention gives), not
NaN.
"""
import math

from ..errors import ArgumentError, DTypeError, ShapeError, fmt_shape
from ..ops import (
    broadcast_shapes, cat, expand, full, matmul, permute, reshape, repeat_interleave,
    split_copy, squeeze, sum, transpose, triu, unsqueeze, where, zeros,
)
from ..ops import pad as _pad
from ..ops import fused as _fused
from . import init
from .dropout import dropout as _dropout
from .linear import Linear, linear
from .module import Module
from .parameter import Parameter

_NAME = "scaled_dot_product_attention"


# -- masks and the core computation ----------------------------------------------------
def _additive(mask, dtype, true_means_masked, name):
    """A bool or float mask as a float mask to add to the scores."""
    kind = mask._data.dtype.kind
    if kind == "b":
        zero, ninf = full((), 0.0, dtype=dtype), full((), -math.inf, dtype=dtype)
        return where(mask, ninf, zero) if true_means_masked else where(mask, zero, ninf)
    if kind != "f":
        raise DTypeError(f"{name}: only bool and floating-point masks are supported, "
                         f"got {mask.dtype.name}")
    return mask if mask.dtype == dtype else mask.to(dtype)


def _causal(n_query, n_key, dtype):
    """``(L, S)`` additive mask: -inf above the diagonal (the future)."""
    return triu(full((n_query, n_key), -math.inf, dtype=dtype), 1)


def _masked_softmax(scores):
    """Softmax over the last dim where fully masked rows give zeros, not NaN.

    One promoted primitive (ops/fused.py; tests/test_fused.py checks it
    against the composite: shift by the finite row max, zero-safe division).
    """
    return _fused.softmax(scores, scores.ndim - 1, masked=True)


def _attend(q, k, v, mask, dropout_p, scale):
    """``softmax(q k^T * scale + mask) v`` and the weights.

    q ``(..., L, E)``, k ``(..., S, E)``, v ``(..., S, Ev)``, mask additive and
    broadcastable to ``(..., L, S)`` or None -> ``(..., L, Ev)``, ``(..., L, S)``.
    """
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = matmul(q * scale, transpose(k, -2, -1))
    if mask is not None:
        scores = scores + mask
    weights = _masked_softmax(scores)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p, training=True)
    return matmul(weights, v), weights


def _check_p(p, name):
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{name}: dropout_p has to be between 0 and 1, got {p}")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(Q K^T / sqrt(E) + mask) V`` with optional dropout on the weights.

    query ``(..., L, E)``, key ``(..., S, E)``, value ``(..., S, Ev)`` ->
    ``(..., L, Ev)``; leading dims broadcast.  ``attn_mask`` broadcastable to
    ``(..., L, S)``: bool (True = may attend) or float (added to the scores).
    ``is_causal`` masks the keys after each query (then ``attn_mask`` must be
    None).  ``scale`` defaults to ``1 / sqrt(E)``.  With
    ``enable_gqa`` key and value may have fewer heads (dim -3) than query, a
    divisor of its head count; each is shared by a group of query heads.
    """
    q, k, v = query, key, value
    for t, what in ((q, "query"), (k, "key"), (v, "value")):
        if t.ndim < 2:
            raise ShapeError(f"{_NAME}: {what} must have at least 2 dims (..., seq, "
                             f"features), got shape {fmt_shape(t.shape)}")
    if not (q.dtype == k.dtype == v.dtype) or q._data.dtype.kind != "f":
        raise DTypeError(f"{_NAME}: query, key and value must have the same "
                         f"floating-point dtype, got {q.dtype.name}, {k.dtype.name} "
                         f"and {v.dtype.name}")
    shapes = f"query {fmt_shape(q.shape)}, key {fmt_shape(k.shape)}, value " \
             f"{fmt_shape(v.shape)}"
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(f"{_NAME}: query and key must have the same embedding size "
                         f"(last dim), got {shapes}")
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"{_NAME}: key and value must have the same sequence length "
                         f"(dim -2), got {shapes}")
    _check_p(dropout_p, _NAME)
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        hq, hk = q.shape[-3], k.shape[-3]
        if hk != v.shape[-3] or hq % hk:
            raise ShapeError(f"{_NAME}: with enable_gqa, key and value need the same "
                             f"number of heads dividing query's, got {shapes}")
        k = repeat_interleave(k, hq // hk, dim=-3)
        v = repeat_interleave(v, hq // hk, dim=-3)
    n_query, n_key = q.shape[-2], k.shape[-2]
    mask = None
    if attn_mask is not None:
        mask = _additive(attn_mask, q.dtype, False, _NAME)
        try:
            ok = broadcast_shapes(mask.shape, (n_query, n_key))[-2:] == (n_query, n_key)
        except ShapeError:
            ok = False
        if not ok:
            raise ShapeError(f"{_NAME}: attn_mask of shape {fmt_shape(mask.shape)} "
                             f"does not broadcast to (..., L={n_query}, S={n_key}) "
                             f"for {shapes}")
    if is_causal:
        if mask is not None:
            raise ArgumentError(f"{_NAME}: give either attn_mask or is_causal=True, "
                                "not both (fold the causal mask into attn_mask)")
        mask = _causal(n_query, n_key, q.dtype)
    return _attend(q, k, v, mask, dropout_p, scale)[0]


# -- multi-head attention --------------------------------------------------------------
def _linear2d(x, weight, bias):
    """``linear`` on ``(*, F)`` as one 2-D matmul (a cheaper weight gradient)."""
    out = linear(reshape(x, (-1, x.shape[-1])), weight, bias)
    return reshape(out, tuple(x.shape[:-1]) + (weight.shape[0],))


def _in_projection(query, key, value, packed, separate, bias):
    """q, k, v projections, ``(L|S, N, E)`` each.  Self-attention (one tensor
    for all three) with packed weights is one matmul."""
    e = query.shape[-1]
    biases = (None,) * 3 if bias is None else split_copy(bias, e, 0)
    if separate is None:
        if query is key and key is value:
            return split_copy(_linear2d(query, packed, bias), e, -1)
        separate = split_copy(packed, e, 0)
    return tuple(_linear2d(x, w, b) for x, w, b in zip((query, key, value), separate,
                                                        biases))


def _heads(x, batch, num_heads, head_dim):
    """``(S, N, E)`` -> ``(N, heads, S, head_dim)``."""
    return permute(reshape(x, (x.shape[0], batch, num_heads, head_dim)), (1, 2, 0, 3))


def _mha_masks(attn_mask, key_padding_mask, n_query, n_key, batch, num_heads, dtype,
               name):
    """The two masks as additive floats broadcastable to ``(N, H, L, S)``."""
    masks = []
    if attn_mask is not None:
        m = _additive(attn_mask, dtype, True, name)
        if m.ndim == 2:
            want = (n_query, n_key)
        elif m.ndim == 3:
            want = (batch * num_heads, n_query, n_key)
        else:
            raise ShapeError(f"{name}: attn_mask must be 2-D (L, S) or 3-D (N * "
                             f"num_heads, L, S), got shape {fmt_shape(m.shape)}")
        if tuple(m.shape) != want:
            raise ShapeError(f"{name}: the shape of the {m.ndim}-D attn_mask is "
                             f"{fmt_shape(m.shape)}, but should be {fmt_shape(want)}")
        if m.ndim == 3:
            m = reshape(m, (batch, num_heads, n_query, n_key))
        masks.append(m)
    if key_padding_mask is not None:
        m = _additive(key_padding_mask, dtype, True, name)
        if tuple(m.shape) != (batch, n_key):
            raise ShapeError(f"{name}: key_padding_mask should have shape "
                             f"{fmt_shape((batch, n_key))} (N, S), got "
                             f"{fmt_shape(m.shape)}")
        masks.append(reshape(m, (batch, 1, 1, n_key)))
    return masks


def multi_head_attention_forward(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
        bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
        training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
        use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
        v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
        is_causal=False):
    """Multi-head attention on sequence-first tensors (PyTorch's functional form).

    query ``(L, N, E)`` or ``(L, E)``, key ``(S, N, E_k)``, value ``(S, N, E_v)``;
    ``attn_mask`` ``(L, S)`` or ``(N * num_heads, L, S)``, ``key_padding_mask``
    ``(N, S)`` (bool: True = ignore; float: added).  Returns ``(attn_output
    (L, N, E), weights)``; weights are ``(N, L, S)`` averaged over heads,
    ``(N, num_heads, L, S)`` if not ``average_attn_weights``, None if not
    ``need_weights``.  ``is_causal`` says ``attn_mask`` is the causal mask; with
    no ``attn_mask`` the causal mask is built here (PyTorch asks for one).
    """
    name = "multi_head_attention_forward"
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"{name}: query, key and value must all be 3-D (batched) or "
                         f"2-D (unbatched), got shapes {fmt_shape(query.shape)}, "
                         f"{fmt_shape(key.shape)} and {fmt_shape(value.shape)}")
    batched = query.ndim == 3
    if not batched:
        same_kv, same_qk = key is value, query is key
        query = unsqueeze(query, 1)
        key = query if same_qk else unsqueeze(key, 1)
        value = key if same_kv else unsqueeze(value, 1)
        if key_padding_mask is not None:
            key_padding_mask = unsqueeze(key_padding_mask, 0)
    n_query, batch, e = query.shape
    if e != embed_dim_to_check:
        raise ShapeError(f"{name}: expected query with embedding size "
                         f"{embed_dim_to_check} (last dim), got "
                         f"{fmt_shape(query.shape)}")
    head_dim = e // num_heads
    if head_dim * num_heads != e:
        raise ArgumentError(f"{name}: embed_dim {e} is not divisible by num_heads "
                            f"{num_heads}")
    if key.shape[:2] != value.shape[:2] or key.shape[1] != batch:
        raise ShapeError(f"{name}: key {fmt_shape(key.shape)} and value "
                         f"{fmt_shape(value.shape)} must share (S, N) with N = {batch} "
                         f"as in query {fmt_shape(query.shape)}")
    if is_causal and attn_mask is None:
        attn_mask = _causal(n_query, key.shape[0], query.dtype)
    masks = _mha_masks(attn_mask, key_padding_mask, n_query, key.shape[0], batch,
                       num_heads, query.dtype, name)

    separate = (q_proj_weight, k_proj_weight, v_proj_weight) \
        if use_separate_proj_weight else None
    q, k, v = _in_projection(query, key, value, in_proj_weight, separate, in_proj_bias)
    if bias_k is not None or bias_v is not None:
        if bias_k is None or bias_v is None:
            raise ArgumentError(f"{name}: bias_k and bias_v must be given together")
        if static_k is not None or static_v is not None:
            raise ArgumentError(f"{name}: bias_k/bias_v cannot be added to static_k/v")
        k = cat([k, expand(bias_k, (1, batch, e))], 0)
        v = cat([v, expand(bias_v, (1, batch, e))], 0)
        masks = [_pad(m, (0, 1)) for m in masks]  # the extra key is never masked
    q = _heads(q, batch, num_heads, head_dim)
    k = _heads(k, batch, num_heads, head_dim) if static_k is None else _static(
        static_k, batch, num_heads, head_dim, "static_k", name)
    v = _heads(v, batch, num_heads, head_dim) if static_v is None else _static(
        static_v, batch, num_heads, head_dim, "static_v", name)
    if add_zero_attn:
        z = zeros(batch, num_heads, 1, head_dim, dtype=q.dtype)
        k, v = cat([k, z], 2), cat([v, z], 2)
        masks = [_pad(m, (0, 1)) for m in masks]
    mask = None
    for m in masks:
        mask = m if mask is None else mask + m
    out, weights = _attend(q, k, v, mask, dropout_p if training else 0.0, None)
    out = reshape(permute(out, (2, 0, 1, 3)), (n_query, batch, e))
    out = _linear2d(out, out_proj_weight, out_proj_bias)
    if not need_weights:
        weights = None
    elif average_attn_weights:
        weights = sum(weights, 1) / num_heads
    if not batched:
        out = squeeze(out, 1)
        weights = None if weights is None else squeeze(weights, 0)
    return out, weights


def _static(t, batch, num_heads, head_dim, what, name):
    if t.ndim != 3 or t.shape[0] != batch * num_heads or t.shape[2] != head_dim:
        raise ShapeError(f"{name}: {what} should have shape (N * num_heads="
                         f"{batch * num_heads}, S, head_dim={head_dim}), got "
                         f"{fmt_shape(t.shape)}")
    return reshape(t, (batch, num_heads, t.shape[1], head_dim))


class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under the class name PyTorch gives ``MultiheadAttention.out_proj``."""


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads of size ``embed_dim // num_heads``.

    Inputs ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``, ``(L, E)``
    unbatched); key/value features ``kdim``/``vdim`` (default ``embed_dim``).
    Parameters as in PyTorch: ``in_proj_weight`` ``(3E, E)`` (or
    ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` when kdim/vdim
    differ), ``in_proj_bias`` ``(3E,)``, ``out_proj.weight``/``.bias``, and
    ``bias_k``/``bias_v`` ``(1, 1, E)`` with ``add_bias_kv``.

    ``forward`` returns ``(attn_output, attn_weights or None)``; see
    :func:`multi_head_attention_forward` for the masks.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False,
                 device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ArgumentError(f"MultiheadAttention: embed_dim and num_heads must be "
                                f"greater than 0, got embed_dim={embed_dim} and "
                                f"num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ArgumentError(f"MultiheadAttention: embed_dim ({embed_dim}) must be "
                                f"divisible by num_heads ({num_heads})")
        _check_p(dropout, "MultiheadAttention")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        dt = _dt(dtype)
        e = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(zeros(3 * e, e, dtype=dt))
            for n in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(n, None)
        else:
            self.q_proj_weight = Parameter(zeros(e, e, dtype=dt))
            self.k_proj_weight = Parameter(zeros(e, self.kdim, dtype=dt))
            self.v_proj_weight = Parameter(zeros(e, self.vdim, dtype=dt))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(zeros(3 * e, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(e, e, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(zeros(1, 1, e, dtype=dt))
            self.bias_v = Parameter(zeros(1, 1, e, dtype=dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        # Glorot for the input projections, zero biases; out_proj.weight keeps
        # Linear's default, as in PyTorch.
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``; returns ``(output, weights)``.

        output has query's layout; weights ``(N, L, S)`` (averaged over heads)
        or ``(N, num_heads, L, S)``, or None when ``need_weights`` is False.
        """
        for t, what, size in ((query, "query", self.embed_dim),
                              (key, "key", self.kdim), (value, "value", self.vdim)):
            if t.ndim == 0 or t.shape[-1] != size:
                attr = {"query": "embed_dim", "key": "kdim", "value": "vdim"}[what]
                raise ShapeError(
                    f"MultiheadAttention: {what} should have {attr}={size} features "
                    f"in its last dim, got shape {fmt_shape(t.shape)}")
            if t.dtype != self.out_proj.weight.dtype:
                raise DTypeError(
                    f"MultiheadAttention: {what} dtype {t.dtype.name} does not match "
                    f"the parameters' dtype {self.out_proj.weight.dtype.name}")
        if self.batch_first and query.ndim == 3:
            query, key, value = _seq_first(query, key, value)
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn,
            self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and query.ndim == 3:
            out = transpose(out, 0, 1)
        return out, weights


def _seq_first(query, key, value):
    """Swap dims 0 and 1, keeping ``query is key is value`` identities (the
    self-attention fast path depends on them)."""
    q = transpose(query, 0, 1)
    k = q if key is query else transpose(key, 0, 1)
    v = k if value is key else (q if value is query else transpose(value, 0, 1))
    return q, k, v


def _dt(dtype):
    from .._dtype import get_default_dtype

    return dtype if dtype is not None else get_default_dtype()
