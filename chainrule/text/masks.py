"""Padding id sequences into batches, and the masks and losses that go with
padded batches."""
import math

from ..errors import ArgumentError, ShapeError, fmt_shape
from ..ops import arange, full, reshape, tensor, triu, unsqueeze
from ..tensor import Tensor


def pad_ids(seqs, pad_id=0, max_len=None, batch_first=True):
    """Lists of token ids -> ``(ids, lengths)``: ``ids`` int64 ``(B, T)``
    (``(T, B)`` unless ``batch_first``) right-padded with ``pad_id``, ``T`` the
    longest length (or ``max_len``, which truncates), ``lengths`` ``(B,)``."""
    from .._dtype import int64

    seqs = [list(s) for s in seqs]
    if not seqs:
        raise ArgumentError("pad_ids: received an empty list of sequences")
    longest = max(len(s) for s in seqs) if max_len is None else max_len
    rows = [s[:longest] + [pad_id] * (longest - len(s[:longest])) for s in seqs]
    ids = tensor(rows, dtype=int64)
    lengths = tensor([min(len(s), longest) for s in seqs], dtype=int64)
    return (ids if batch_first else ids.t()), lengths


def padding_mask(lengths, max_len=None):
    """``(B, T)`` bool mask, True at padding positions (PyTorch's
    ``key_padding_mask`` convention) for sequences of ``lengths`` ``(B,)``."""
    if not isinstance(lengths, Tensor):
        from .._dtype import int64

        lengths = tensor(list(lengths), dtype=int64)
    if lengths.ndim != 1:
        raise ShapeError(f"padding_mask: lengths must be 1-D (B,), got "
                         f"{fmt_shape(lengths.shape)}")
    t = int(lengths.max().item()) if max_len is None else max_len
    return unsqueeze(arange(t), 0) >= unsqueeze(lengths, 1)


def causal_mask(size, dtype=None):
    """``(size, size)`` float mask: -inf above the diagonal (position ``i`` may
    attend to ``j <= i``), 0 elsewhere; added to attention scores."""
    return triu(full((size, size), -math.inf, dtype=dtype), 1)


def sequence_loss(logits, targets, pad_id=0, label_smoothing=0.0, reduction="mean"):
    """Cross-entropy over a padded batch: ``logits`` ``(B, T, V)``, ``targets``
    ``(B, T)``; positions whose target is ``pad_id`` count for nothing (the
    mean is over real tokens), ``label_smoothing`` as in ``cross_entropy``."""
    from ..nn.functional import cross_entropy

    if logits.ndim != 3 or tuple(targets.shape) != tuple(logits.shape[:2]):
        raise ShapeError(f"sequence_loss: expected logits (B, T, V) and targets "
                         f"(B, T), got {fmt_shape(logits.shape)} and "
                         f"{fmt_shape(targets.shape)}")
    v = logits.shape[-1]
    return cross_entropy(reshape(logits, (-1, v)), reshape(targets, (-1,)),
                         ignore_index=pad_id, label_smoothing=label_smoothing,
                         reduction=reduction)
