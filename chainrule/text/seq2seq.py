"""Sequence-to-sequence models: an RNN encoder-decoder with attention, and a
transformer encoder-decoder (``nn.Transformer``).

Both share one interface:

- ``forward(src, tgt_in)``: teacher forcing — ``src`` ids ``(N, S)`` and the
  target shifted right ``tgt_in`` ``(N, T)`` (``<bos>`` first) -> logits
  ``(N, T, V)``; train with :func:`~chainrule.text.sequence_loss` against the
  target shifted left, which ignores padding;
- ``encode(src) -> state`` and ``decode_step(tokens (N,), state) ->
  (logits (N, V), state)`` for :func:`~chainrule.text.greedy_search` and
  :func:`~chainrule.text.beam_search`; every state tensor has the batch in
  dim 0.

Padding is id ``pad_id`` (0 by default, as :class:`~chainrule.text.Vocab`
numbers it); padded source positions never receive attention.
"""
import math

from .. import nn
from ..autograd import no_grad
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from ..ops import arange, cat, cos, exp, sin, stack, tanh, unsqueeze, zeros
from .attention import AdditiveAttention, MultiplicativeAttention
from .masks import causal_mask


def _check_ids(ids, name, what):
    if ids.ndim != 2 or ids.dtype.is_floating_point:
        raise ShapeError(f"{name}: {what} must be int64 ids (N, L), got "
                         f"{ids.dtype.name} {fmt_shape(ids.shape)}")


class AttentionSeq2Seq(nn.Module):
    """A bidirectional ``cell`` (``'gru'`` or ``'lstm'``) encoder over the
    packed source and a one-layer decoder attending to its outputs.

    ``attention='additive'`` (Bahdanau): the previous decoder state queries
    the source; the cell reads ``[embedding; context]``; the output layer
    reads ``[state; context; embedding]``.  ``attention='multiplicative'``
    (Luong, 'general' score): the new state queries the source, ``h~ =
    tanh(W_c [context; state])`` feeds the output layer and, as *input
    feeding*, the next step's cell.  ``decode_step`` leaves the step's
    attention weights ``(N, S)`` in ``state['attn']``.
    """

    def __init__(self, src_vocab, tgt_vocab, embed_dim=32, hidden_size=64,
                 attention="additive", cell="gru", pad_id=0, dropout=0.0):
        super().__init__()
        if attention not in ("additive", "multiplicative"):
            raise ArgumentError(f"AttentionSeq2Seq: attention must be 'additive' or "
                                f"'multiplicative', got {attention!r}")
        if cell not in ("gru", "lstm"):
            raise ArgumentError(f"AttentionSeq2Seq: cell must be 'gru' or 'lstm', got "
                                f"{cell!r}")
        self.attention_kind, self.cell_kind, self.pad_id = attention, cell, pad_id
        h = hidden_size
        self.src_embed = nn.Embedding(src_vocab, embed_dim, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed_dim, padding_idx=pad_id)
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.encoder = rnn(embed_dim, h, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * h, h)
        self.drop = nn.Dropout(dropout)
        cell_cls = nn.GRUCell if cell == "gru" else nn.LSTMCell
        if attention == "additive":
            self.attn = AdditiveAttention(h, 2 * h, h)
            self.cell = cell_cls(embed_dim + 2 * h, h)
            self.out = nn.Linear(h + 2 * h + embed_dim, tgt_vocab)
        else:
            self.attn = MultiplicativeAttention(h, 2 * h, "general")
            self.cell = cell_cls(embed_dim + h, h)
            self.combine = nn.Linear(2 * h + h, h, bias=False)
            self.out = nn.Linear(h, tgt_vocab)

    def encode(self, src, src_lengths=None):
        """``src`` ``(N, S)`` -> the decoder's initial state (a dict)."""
        _check_ids(src, "AttentionSeq2Seq", "src")
        mask = src == self.pad_id
        if src_lengths is None:
            src_lengths = (~mask).sum(1)
        packed = pack_padded_sequence(self.drop(self.src_embed(src)), src_lengths,
                                      batch_first=True, enforce_sorted=False)
        out, final = self.encoder(packed)
        outputs, _ = pad_packed_sequence(out, batch_first=True,
                                         total_length=src.shape[1])
        h_n = final[0] if self.cell_kind == "lstm" else final
        h0 = tanh(self.bridge(cat([h_n[0], h_n[1]], -1)))
        state = {"outputs": outputs, "keys": self.attn.project_keys(outputs),
                 "mask": mask, "h": h0}
        if self.cell_kind == "lstm":
            state["c"] = zeros(*h0.shape, dtype=h0.dtype)
        if self.attention_kind == "multiplicative":
            state["feed"] = zeros(*h0.shape, dtype=h0.dtype)
        return state

    def _cell(self, x, state):
        if self.cell_kind == "lstm":
            h, c = self.cell(x, (state["h"], state["c"]))
            return {"h": h, "c": c}
        return {"h": self.cell(x, state["h"])}

    def decode_step(self, tokens, state):
        """Previous tokens ``(N,)`` -> ``(logits (N, V), new state)``."""
        emb = self.drop(self.tgt_embed(tokens))
        fixed = {k: state[k] for k in ("outputs", "keys", "mask")}
        if self.attention_kind == "additive":
            ctx, w = self.attn(state["h"], state["outputs"], state["outputs"],
                               state["mask"], state["keys"])
            new = self._cell(cat([emb, ctx], -1), state)
            logits = self.out(self.drop(cat([new["h"], ctx, emb], -1)))
        else:
            new = self._cell(cat([emb, state["feed"]], -1), state)
            ctx, w = self.attn(new["h"], state["outputs"], state["outputs"],
                               state["mask"], state["keys"])
            new["feed"] = tanh(self.combine(cat([ctx, new["h"]], -1)))
            logits = self.out(self.drop(new["feed"]))
        return logits, dict(fixed, attn=w, **new)

    def forward(self, src, tgt_in, src_lengths=None, return_attention=False):
        """Teacher forcing: ``(N, T, V)`` logits (and ``(N, T, S)`` attention
        weights with ``return_attention``)."""
        _check_ids(tgt_in, "AttentionSeq2Seq", "tgt_in")
        state = self.encode(src, src_lengths)
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            lg, state = self.decode_step(tgt_in[:, t], state)
            logits.append(lg)
            weights.append(state["attn"])
        logits = stack(logits, 1)
        return (logits, stack(weights, 1)) if return_attention else logits


def sinusoidal_positions(length, d_model):
    """``(length, d_model)``: sin on even features, cos on odd ones, at
    wavelengths from 2 pi to 10000 * 2 pi (Vaswani et al.)."""
    pos = unsqueeze(arange(length, dtype=None).float(), 1)
    rate = exp(arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
    angles = pos * unsqueeze(rate, 0)
    pe = stack([sin(angles), cos(angles)], -1).reshape(length, -1)
    return pe[:, :d_model]


class TransformerSeq2Seq(nn.Module):
    """Token embeddings (scaled by ``sqrt(d_model)``) plus sinusoidal
    positions into ``nn.Transformer`` (batch first), and a linear head.
    The embeddings start at std ``d_model ** -0.5``, so that once scaled
    they are as large as the positions (entries in [-1, 1]); at
    ``nn.Embedding``'s N(0, 1) they would be ``sqrt(d_model)`` times larger
    and drown the positions (a date translator then fails to copy digits).
    ``decode_step`` re-runs the decoder over the prefix kept in the state
    (targets here are short)."""

    def __init__(self, src_vocab, tgt_vocab, d_model=64, nhead=4, num_encoder_layers=2,
                 num_decoder_layers=2, dim_feedforward=128, dropout=0.1, pad_id=0,
                 max_len=128):
        super().__init__()
        self.pad_id, self.d_model = pad_id, d_model
        self.src_embed = nn.Embedding(src_vocab, d_model, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model, padding_idx=pad_id)
        self.register_buffer("pe", sinusoidal_positions(max_len, d_model),
                             persistent=False)
        self.drop = nn.Dropout(dropout)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers,
                                          num_decoder_layers, dim_feedforward, dropout,
                                          batch_first=True)
        self.head = nn.Linear(d_model, tgt_vocab)
        for emb in (self.src_embed, self.tgt_embed):
            nn.init.normal_(emb.weight, 0.0, d_model ** -0.5)
            with no_grad():
                emb.weight[pad_id] = 0.0

    def _embed(self, emb, ids):
        if ids.shape[1] > self.pe.shape[0]:
            raise ShapeError(f"TransformerSeq2Seq: length {ids.shape[1]} exceeds "
                             f"max_len={self.pe.shape[0]}")
        x = emb(ids) * math.sqrt(self.d_model) + unsqueeze(self.pe[:ids.shape[1]], 0)
        return self.drop(x)

    def encode(self, src):
        _check_ids(src, "TransformerSeq2Seq", "src")
        pad = src == self.pad_id
        memory = self.transformer.encoder(self._embed(self.src_embed, src),
                                          src_key_padding_mask=pad)
        n = src.shape[0]
        return {"memory": memory, "pad": pad,
                "prefix": zeros(n, 0, dtype=src.dtype)}

    def _decode(self, tgt_in, memory, pad):
        t = tgt_in.shape[1]
        x = self.transformer.decoder(
            self._embed(self.tgt_embed, tgt_in), memory,
            tgt_mask=causal_mask(t), tgt_is_causal=True,
            tgt_key_padding_mask=tgt_in == self.pad_id, memory_key_padding_mask=pad)
        return self.head(x)

    def decode_step(self, tokens, state):
        prefix = cat([state["prefix"], unsqueeze(tokens, 1)], 1)
        logits = self._decode(prefix, state["memory"], state["pad"])[:, -1]
        return logits, dict(state, prefix=prefix)

    def forward(self, src, tgt_in):
        """Teacher forcing: ``(N, T, V)`` logits."""
        _check_ids(tgt_in, "TransformerSeq2Seq", "tgt_in")
        state = self.encode(src)
        return self._decode(tgt_in, state["memory"], state["pad"])
