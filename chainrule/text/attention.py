"""Attention of one decoder state over encoder outputs (the RNN seq2seq
kind): additive (Bahdanau et al., 2015) and multiplicative (Luong et al.,
2015) scores, masked softmax over the source, and the weighted context.

Shapes: ``query`` ``(N, Q)``, ``keys`` ``(N, S, K)``, ``values`` ``(N, S, D)``,
``mask`` ``(N, S)`` bool, True at padding -> ``context`` ``(N, D)``,
``weights`` ``(N, S)``.  ``project_keys`` does the part that does not depend
on the query once per source, so each decoder step only adds the query's
share.
"""
import math

from .. import nn
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..nn.functional import softmax
from ..ops import full, matmul, squeeze, tanh, unsqueeze, where


def attend(scores, values, mask=None):
    """Softmax of ``scores`` ``(N, S)`` over the unmasked positions, and the
    weighted sum of ``values`` ``(N, S, D)``: ``(context (N, D), weights)``."""
    if mask is not None:
        if tuple(mask.shape) != tuple(scores.shape):
            raise ShapeError(f"attention: mask {fmt_shape(mask.shape)} must match the "
                             f"scores (N, S) {fmt_shape(scores.shape)}")
        scores = where(mask, full((), -math.inf, dtype=scores.dtype), scores)
    weights = softmax(scores, -1)
    return squeeze(matmul(unsqueeze(weights, 1), values), 1), weights


def _check(query, pk, name):
    if query.ndim != 2 or pk.ndim != 3 or query.shape[0] != pk.shape[0]:
        raise ShapeError(f"{name}: expected query (N, Q) and keys (N, S, K), got "
                         f"{fmt_shape(query.shape)} and {fmt_shape(pk.shape)}")


class AdditiveAttention(nn.Module):
    """``score(q, k_s) = v^T tanh(W_q q + W_k k_s + b)`` (Bahdanau)."""

    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.w_q = nn.Linear(query_size, hidden_size, bias=False)
        self.w_k = nn.Linear(key_size, hidden_size)
        self.v = nn.Linear(hidden_size, 1, bias=False)

    def project_keys(self, keys):
        """``(N, S, K)`` -> ``(N, S, A)``: ``W_k k_s + b``, computed once."""
        return self.w_k(keys)

    def forward(self, query, keys, values, mask=None, projected_keys=None):
        pk = self.project_keys(keys) if projected_keys is None else projected_keys
        _check(query, pk, "AdditiveAttention")
        scores = squeeze(self.v(tanh(pk + unsqueeze(self.w_q(query), 1))), -1)
        return attend(scores, values, mask)


class MultiplicativeAttention(nn.Module):
    """Luong's scores: ``'general'`` ``q^T W k_s``, ``'dot'`` ``q^T k_s`` and
    ``'scaled_dot'`` ``q^T k_s / sqrt(Q)`` (the last two need ``Q == K``)."""

    def __init__(self, query_size, key_size, score="general"):
        super().__init__()
        if score not in ("general", "dot", "scaled_dot"):
            raise ArgumentError(f"MultiplicativeAttention: score must be 'general', "
                                f"'dot' or 'scaled_dot', got {score!r}")
        if score != "general" and query_size != key_size:
            raise ArgumentError(f"MultiplicativeAttention: score {score!r} needs "
                                f"query_size == key_size, got {query_size} and "
                                f"{key_size}")
        self.score = score
        self.scale = 1.0 / math.sqrt(query_size) if score == "scaled_dot" else 1.0
        if score == "general":
            self.w = nn.Linear(key_size, query_size, bias=False)

    def project_keys(self, keys):
        """``(N, S, K)`` -> ``(N, S, Q)`` (``W k_s`` for 'general')."""
        return self.w(keys) if self.score == "general" else keys

    def forward(self, query, keys, values, mask=None, projected_keys=None):
        pk = self.project_keys(keys) if projected_keys is None else projected_keys
        _check(query, pk, "MultiplicativeAttention")
        scores = squeeze(matmul(pk, unsqueeze(query, 2)), -1) * self.scale
        return attend(scores, values, mask)
