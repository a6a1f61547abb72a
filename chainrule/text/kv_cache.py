"""Incremental (cached) forward of transformer layers for decoding.

When a decoder-only transformer generates token ``t``, its queries are new
but the keys and values of positions ``< t`` are the ones already computed.
Keeping them per layer (the *KV cache*) makes each new token one row of work
instead of a full forward over the prefix.  The functions here run a
``TransformerEncoderLayer`` used causally (the GPT layout) on new positions
only; with the cache they give the same outputs as the full causal forward.

Shapes: ``x`` ``(N, t, E)`` (batch first), a layer's cache ``(k, v)`` each
``(N, heads, S, head_dim)`` for the ``S`` positions seen so far.
"""
import math

from ..errors import ArgumentError
from ..ops import cat, full, permute, reshape, transpose, triu
from ..nn.attention import _attend, _heads, _in_projection, _linear2d


def cached_self_attention(mha, x, past=None):
    """Causal self-attention of new positions ``x`` ``(N, t, E)`` over the
    cached and the new keys; returns ``(out (N, t, E), (k, v))``, the cache
    extended by the ``t`` new positions."""
    if mha.bias_k is not None or mha.add_zero_attn or not mha._qkv_same_embed_dim:
        raise ArgumentError("cached_self_attention: supports MultiheadAttention "
                            "without add_bias_kv/add_zero_attn and with kdim = vdim "
                            "= embed_dim")
    batch, steps, e = x.shape
    h, hd = mha.num_heads, mha.head_dim
    xs = transpose(x, 0, 1)  # (t, N, E): the layout of the projections
    q, k, v = _in_projection(xs, xs, xs, mha.in_proj_weight, None, mha.in_proj_bias)
    q, k, v = (_heads(a, batch, h, hd) for a in (q, k, v))
    if past is not None:
        k, v = cat([past[0], k], 2), cat([past[1], v], 2)
    total = k.shape[2]
    # New query i sits at position total - steps + i and sees keys up to it.
    mask = triu(full((steps, total), -math.inf, dtype=x.dtype), total - steps + 1)
    out = _attend(q, k, v, mask, 0.0, None)[0]  # (N, H, t, hd)
    out = reshape(permute(out, (2, 0, 1, 3)), (steps, batch, e))
    out = _linear2d(out, mha.out_proj.weight, mha.out_proj.bias)
    return transpose(out, 0, 1), (k, v)


def cached_encoder_layer(layer, x, past=None):
    """A causal ``TransformerEncoderLayer`` (built with ``batch_first=True``)
    on new positions ``x`` ``(N, t, E)``; returns ``(y, cache)``.  Dropout is
    the layer's own (use eval mode for decoding)."""
    if not layer.self_attn.batch_first:
        raise ArgumentError("cached_encoder_layer: build the layer with "
                            "batch_first=True")
    if layer.norm_first:
        a, cache = cached_self_attention(layer.self_attn, layer.norm1(x), past)
        x = x + layer.dropout1(a)
        return x + layer._ff_block(layer.norm2(x), layer.dropout2), cache
    a, cache = cached_self_attention(layer.self_attn, x, past)
    x = layer.norm1(x + layer.dropout1(a))
    return layer.norm2(x + layer._ff_block(x, layer.dropout2)), cache
