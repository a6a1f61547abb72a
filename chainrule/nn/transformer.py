"""Transformer blocks: encoder and decoder layers, their stacks, and
``Transformer``, with PyTorch's structure so state dicts load.

Shapes: ``(S, N, E)`` sequence-first (``(N, S, E)`` with ``batch_first``,
``(S, E)`` unbatched); masks as in :class:`MultiheadAttention` (bool True =
may not attend, float added).  ``norm_first`` puts each LayerNorm before its
block (pre-LN) instead of after the residual sum (post-LN).

Unlike PyTorch's nested-tensor fast path, padded positions are computed like
any other (PyTorch may return zeros there in eval mode).
"""
import copy
import math

from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import full, triu
from . import init
from .activation import gelu, relu
from .attention import MultiheadAttention
from .containers import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm


def _activation(activation, name):
    if isinstance(activation, str):
        table = {"relu": relu, "gelu": gelu}
        if activation not in table:
            raise ArgumentError(f"{name}: activation should be 'relu' or 'gelu' (or a "
                                f"callable), not {activation!r}")
        return table[activation]
    if not callable(activation):
        raise ArgumentError(f"{name}: activation must be 'relu', 'gelu' or a callable, "
                            f"got {type(activation).__name__}")
    return activation


def _check_features(x, d_model, name, what):
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise ShapeError(f"{name}: expected {what} of shape (S, N, d_model={d_model}) "
                         f"(or (N, S, d_model) with batch_first, (S, d_model) "
                         f"unbatched), got {fmt_shape(x.shape)}")


class _Blocks:
    """The self-attention and feed-forward blocks both layers share; a mixin so
    the submodules sit directly on the layer (PyTorch's state_dict keys)."""

    def _sa_block(self, x, mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x, out_dropout):
        """``linear2(dropout(activation(linear1(x))))``, then ``out_dropout``."""
        return out_dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_Blocks, Module):
    """Self-attention then a feed-forward block, each with a residual and a
    LayerNorm.  ``forward(src, src_mask=None, src_key_padding_mask=None,
    is_causal=False)`` keeps src's shape."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1,
                 activation=relu, layer_norm_eps=1e-5, batch_first=False,
                 norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        act = _activation(activation, type(self).__name__)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = act

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """``src`` ``(S, N, E)`` -> same shape; ``src_mask`` ``(S, S)`` or
        ``(N * nhead, S, S)``, ``src_key_padding_mask`` ``(N, S)``."""
        _check_features(src, self.self_attn.embed_dim, type(self).__name__, "src")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask,
                                   is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_Blocks, Module):
    """Self-attention over ``tgt``, attention to ``memory``, then a
    feed-forward block; each with a residual and a LayerNorm."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1,
                 activation=relu, layer_norm_eps=1e-5, batch_first=False,
                 norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        act = _activation(activation, type(self).__name__)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 bias=bias, batch_first=batch_first,
                                                 dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = act

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal=False, memory_is_causal=False):
        """``tgt`` ``(T, N, E)`` attends to itself and to ``memory`` ``(S, N, E)``;
        returns tgt's shape."""
        name = type(self).__name__
        _check_features(tgt, self.self_attn.embed_dim, name, "tgt")
        _check_features(memory, self.self_attn.embed_dim, name, "memory")
        x = tgt
        sa = (tgt_mask, tgt_key_padding_mask, bool(tgt_is_causal))
        ca = (memory_mask, memory_key_padding_mask, bool(memory_is_causal))
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), *sa)
            x = x + self._mha_block(self.norm2(x), memory, *ca)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._sa_block(x, *sa))
        x = self.norm2(x + self._mha_block(x, memory, *ca))
        return self.norm3(x + self._ff_block(x, self.dropout3))

    def _mha_block(self, x, mem, mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=mask,
                                key_padding_mask=key_padding_mask, need_weights=False,
                                is_causal=is_causal)[0]
        return self.dropout2(x)


def _clones(layer, n, name):
    if not isinstance(n, int) or n < 0:
        raise ArgumentError(f"{name}: num_layers must be a non-negative int, got {n!r}")
    return ModuleList([copy.deepcopy(layer) for _ in range(n)])


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` applied in turn, then
    ``norm`` if given.  State dict keys ``layers.{i}.self_attn.in_proj_weight``...

    ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch
    compatibility; there is no nested-tensor fast path here.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, type(self).__name__)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """``src`` ``(S, N, E)`` -> same shape; the masks go to every layer."""
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                        is_causal=bool(is_causal))
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` applied in turn, then
    ``norm`` if given."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, type(self).__name__)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal=None, memory_is_causal=False):
        """``tgt`` ``(T, N, E)``, ``memory`` ``(S, N, E)`` -> ``(T, N, E)``."""
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask,
                        memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=bool(tgt_is_causal),
                        memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """Encoder-decoder Transformer ("Attention Is All You Need"), PyTorch's
    layout: ``encoder`` and ``decoder`` stacks, each ending in a LayerNorm.

    ``forward(src, tgt, ...)``: src ``(S, N, E)``, tgt ``(T, N, E)`` ->
    ``(T, N, E)`` (batch first with ``batch_first``).  Matrices start as
    Glorot-uniform, as in PyTorch.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=relu,
                 custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None,
                 dtype=None):
        super().__init__()
        kw = dict(dim_feedforward=dim_feedforward, dropout=dropout,
                  activation=activation, layer_norm_eps=layer_norm_eps,
                  batch_first=batch_first, norm_first=norm_first, bias=bias,
                  dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **kw), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **kw), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        self._reset_parameters()

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batched = src.ndim == 3
        bdim = 0 if self.batch_first else 1
        if batched and tgt.ndim == 3 and src.shape[bdim] != tgt.shape[bdim]:
            raise ShapeError(f"Transformer: the batch size of src and tgt must be "
                             f"equal, got src {fmt_shape(src.shape)} and tgt "
                             f"{fmt_shape(tgt.shape)} (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(f"Transformer: the feature size of src and tgt must be "
                             f"d_model={self.d_model}, got src {fmt_shape(src.shape)} "
                             f"and tgt {fmt_shape(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask,
                              src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """``(sz, sz)`` float mask: -inf above the diagonal, 0 elsewhere."""
        return triu(full((sz, sz), -math.inf, dtype=dtype), 1)
