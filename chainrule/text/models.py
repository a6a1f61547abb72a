"""Language models that :func:`~chainrule.text.generate` can drive.

Both map token ids ``(N, T)`` to next-token logits ``(N, T, V)`` with
``forward``, and continue a sequence with ``step(ids, state) -> (logits,
state)``: ``state`` summarises everything seen so far (the RNN's hidden
state; the transformer's cached keys and values and its position), so
decoding costs one new position per token.
"""
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import arange, unsqueeze
from .. import nn
from .kv_cache import cached_encoder_layer
from .masks import causal_mask


def _check_ids(ids, name):
    if ids.ndim != 2 or ids.dtype.is_floating_point:
        raise ShapeError(f"{name}: expected int64 token ids (N, T), got "
                         f"{ids.dtype.name} {fmt_shape(ids.shape)}")


class RNNLanguageModel(nn.Module):
    """Embedding -> ``LSTM``/``GRU`` (``cell``) -> dropout -> linear head.

    ``tie_weights`` shares the embedding matrix with the output layer (needs
    ``embed_dim == hidden_size``), which regularises and saves parameters.
    ``step`` carries ``(h, c)`` (LSTM) or ``h`` (GRU), batch in dim 1 as
    PyTorch's layers keep it.
    """

    def __init__(self, vocab_size, embed_dim, hidden_size, num_layers=1, cell="lstm",
                 dropout=0.0, tie_weights=False):
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ArgumentError(f"RNNLanguageModel: cell must be 'lstm' or 'gru', got "
                                f"{cell!r}")
        if tie_weights and embed_dim != hidden_size:
            raise ArgumentError(f"RNNLanguageModel: tie_weights needs embed_dim == "
                                f"hidden_size, got {embed_dim} and {hidden_size}")
        self.embed = nn.Embedding(vocab_size, embed_dim)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(embed_dim, hidden_size, num_layers, batch_first=True,
                       dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.head.weight = self.embed.weight

    def step(self, ids, state=None):
        """``ids`` ``(N, t)`` after the sequence ``state`` summarises ->
        ``(logits (N, t, V), state)``."""
        _check_ids(ids, "RNNLanguageModel")
        out, state = self.rnn(self.drop(self.embed(ids)), state)
        return self.head(self.drop(out)), state

    def forward(self, ids, state=None):
        """``(N, T)`` ids -> ``(N, T, V)`` logits."""
        return self.step(ids, state)[0]


class TransformerLanguageModel(nn.Module):
    """A decoder-only transformer: token and learned position embeddings,
    ``num_layers`` causal pre-LN ``TransformerEncoderLayer`` blocks, a final
    LayerNorm and a head tied to the token embedding.  At most ``max_len``
    positions."""

    def __init__(self, vocab_size, d_model=64, nhead=4, num_layers=2,
                 dim_feedforward=None, max_len=256, dropout=0.0, norm_first=True):
        super().__init__()
        self.max_len = max_len
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model,
                                       dropout, activation="gelu", batch_first=True,
                                       norm_first=norm_first)
            for _ in range(num_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok.weight

    def _embed(self, ids, start):
        _check_ids(ids, "TransformerLanguageModel")
        end = start + ids.shape[1]
        if end > self.max_len:
            raise ShapeError(f"TransformerLanguageModel: positions up to {end} exceed "
                             f"max_len={self.max_len}")
        return self.drop(self.tok(ids) + unsqueeze(self.pos(arange(start, end)), 0))

    def forward(self, ids):
        """``(N, T)`` ids -> ``(N, T, V)`` logits, each position seeing only
        itself and the past."""
        x = self._embed(ids, 0)
        mask = causal_mask(ids.shape[1], dtype=x.dtype)
        for layer in self.layers:
            x = layer(x, src_mask=mask, is_causal=True)
        return self.head(self.norm(x))

    def step(self, ids, state=None):
        """New ids ``(N, t)`` -> ``(logits (N, t, V), state)``; ``state`` is
        ``(position, [(k, v) per layer])``."""
        start, caches = (0, [None] * len(self.layers)) if state is None else state
        x = self._embed(ids, start)
        new = []
        for layer, past in zip(self.layers, caches):
            x, kv = cached_encoder_layer(layer, x, past)
            new.append(kv)
        return self.head(self.norm(x)), (start + ids.shape[1], new)
