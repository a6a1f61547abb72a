"""Decoding: sampling from language models and beam search for
sequence-to-sequence models.

:func:`generate` continues prompts with a decoder language model: any module
mapping ids ``(N, T)`` to logits ``(N, T, V)``; one with
``step(ids, state) -> (logits, state)`` (see :mod:`chainrule.text.models`) is
run incrementally, one new position per token.

:func:`beam_search` and :func:`greedy_search` decode sequence-to-sequence
models that provide ``encode(src) -> state`` and
``decode_step(tokens (N,), state) -> (logits (N, V), state)``, where every
tensor in ``state`` (nested in tuples, lists or dicts) has the batch in dim 0
so that beams can be reordered by indexing.
"""
import math

from ..autograd import no_grad
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..nn.functional import log_softmax, softmax
from ..ops import (
    argmax, cat, cumsum, full, index_select, scatter, sort, tensor, topk, where,
    zeros,
)
from ..tensor import Tensor


def filter_logits(logits, top_k=None, top_p=None):
    """``logits`` ``(N, V)`` with everything outside the ``top_k`` largest and
    outside the nucleus set to -inf.  The nucleus (``top_p``) keeps, in order
    of decreasing probability, each token whose predecessors' total
    probability is below ``top_p`` (so at least the most likely token)."""
    ninf = full((), -math.inf, dtype=logits.dtype)
    if top_k is not None:
        if not isinstance(top_k, int) or top_k < 1:
            raise ArgumentError(
                f"generate: top_k must be a positive int, got {top_k!r}")
        k = min(top_k, logits.shape[-1])
        kth = topk(logits, k, -1).values[:, k - 1:k]
        logits = where(logits < kth, ninf, logits)
    if top_p is not None:
        if not 0.0 < top_p <= 1.0:
            raise ArgumentError(f"generate: top_p must be in (0, 1], got {top_p!r}")
        ordered, order = sort(logits, -1, descending=True)
        probs = softmax(ordered, -1)
        before = cumsum(probs, -1) - probs
        drop_sorted = before >= top_p
        drop = scatter(zeros(*logits.shape, dtype=drop_sorted.dtype), 1, order,
                       drop_sorted)
        logits = where(drop, ninf, logits)
    return logits


def _pick(logits, temperature, top_k, top_p, generator):
    """The next token of each row of ``logits`` ``(N, V)``: arg-max when
    ``temperature == 0``, else a sample."""
    from ..ops import multinomial

    if temperature == 0:
        return argmax(logits, -1)
    logits = filter_logits(logits / temperature, top_k, top_p)
    return multinomial(softmax(logits, -1), 1, generator=generator)[:, 0]


def _as_ids(prompt):
    from .._dtype import int64

    if not isinstance(prompt, Tensor):
        prompt = tensor(prompt, dtype=int64)
    if prompt.ndim == 1:
        prompt = prompt.unsqueeze(0)
    if prompt.ndim != 2 or prompt.dtype.is_floating_point or prompt.shape[1] == 0:
        raise ShapeError(f"generate: prompt must hold int token ids (T,) or (N, T) "
                         f"with T >= 1, got {prompt.dtype.name} "
                         f"{fmt_shape(prompt.shape)}")
    return prompt


def generate(model, prompt, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
             seed=None, eos_id=None):
    """Continue ``prompt`` (ids ``(T,)`` or ``(N, T)``, or a list) by
    ``max_new_tokens`` tokens; returns ids ``(N, T + new)``.

    ``temperature == 0`` decodes greedily; otherwise each token is sampled
    from ``softmax(logits / temperature)`` restricted to the ``top_k`` most
    likely tokens and/or the ``top_p`` nucleus, with a generator seeded by
    ``seed`` (the same seed gives the same text).  After a row emits
    ``eos_id`` it repeats it, and decoding stops early once all rows have.
    The model runs in eval mode without gradients (its mode is restored).
    """
    from ..random import Generator

    if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ArgumentError(f"generate: max_new_tokens must be an int >= 0, got "
                            f"{max_new_tokens!r}")
    if temperature < 0:
        raise ArgumentError(f"generate: temperature must be >= 0, got {temperature}")
    ids = _as_ids(prompt)
    gen = Generator()
    if seed is not None:
        gen.manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return _decode(model, ids, max_new_tokens, temperature, top_k, top_p, gen,
                           eos_id)
    finally:
        model.train(was_training)


def _decode(model, ids, max_new, temperature, top_k, top_p, gen, eos_id):
    incremental = hasattr(model, "step")
    state = None
    if incremental:
        logits, state = model.step(ids, None)
    else:
        logits = model(ids)
    done = None
    for _ in range(max_new):
        nxt = _pick(logits[:, -1], temperature, top_k, top_p, gen)
        if eos_id is not None:
            if done is not None:
                nxt = where(done, full((), eos_id, dtype=nxt.dtype), nxt)
            done = nxt == eos_id if done is None else done | (nxt == eos_id)
        ids = cat([ids, nxt.unsqueeze(1)], 1)
        if done is not None and bool(done.all().item()):
            break
        if incremental:
            logits, state = model.step(nxt.unsqueeze(1), state)
        else:
            logits = model(ids)
    return ids


# -- sequence-to-sequence decoding -----------------------------------------------------
def reorder_state(state, index):
    """Every tensor in the nested ``state`` indexed by ``index`` along dim 0."""
    if isinstance(state, Tensor):
        return index_select(state, 0, index) if state.ndim else state
    if isinstance(state, (tuple, list)):
        return type(state)(reorder_state(s, index) for s in state)
    if isinstance(state, dict):
        return {k: reorder_state(v, index) for k, v in state.items()}
    return state


def _int64(values):
    from .._dtype import int64

    return tensor(list(values), dtype=int64)


def greedy_search(model, src, max_len, bos_id, eos_id, **encode_kwargs):
    """Arg-max decoding: a list (one per source row) of token lists, without
    ``bos``/``eos``.  ``encode_kwargs`` go to ``model.encode``."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            state = model.encode(src, **encode_kwargs)
            n = src.shape[0]
            tok = _int64([bos_id] * n)
            out, alive = [[] for _ in range(n)], [True] * n
            for _ in range(max_len):
                logits, state = model.decode_step(tok, state)
                tok = argmax(logits, -1)
                for i, t in enumerate(tok.tolist()):
                    if alive[i]:
                        if t == eos_id:
                            alive[i] = False
                        else:
                            out[i].append(t)
                if not any(alive):
                    break
            return out
    finally:
        model.train(was_training)


def beam_search(model, src, beam_size, max_len, bos_id, eos_id, length_penalty=1.0,
                return_scores=False, **encode_kwargs):
    """Beam search with length normalisation.

    Keeps the ``beam_size`` best prefixes of each source row; a hypothesis
    ending in ``eos_id`` (or reaching ``max_len`` tokens) is scored by its
    total log-probability divided by ``length ** length_penalty`` (its length
    counts the ``eos``), so ``length_penalty=0`` is the raw sum, which favours
    short outputs.  A row stops once it has ``beam_size`` finished
    hypotheses and no live prefix could still beat the best of them.

    Returns a list of token lists (without ``bos``/``eos``), one per source
    row, and their normalised scores if ``return_scores``.
    """
    if not isinstance(beam_size, int) or beam_size < 1:
        raise ArgumentError(f"beam_search: beam_size must be a positive int, got "
                            f"{beam_size!r}")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return _beam(model, src, beam_size, max_len, bos_id, eos_id,
                         length_penalty, return_scores, encode_kwargs)
    finally:
        model.train(was_training)


def _beam(model, src, k, max_len, bos_id, eos_id, alpha, return_scores, enc_kw):
    n = src.shape[0]
    state = model.encode(src, **enc_kw)
    state = reorder_state(state, _int64(b for b in range(n) for _ in range(k)))
    # Only beam 0 starts alive, so the k copies do not yield k equal beams.
    scores = [0.0 if j == 0 else -math.inf for _ in range(n) for j in range(k)]
    prefixes = [[] for _ in range(n * k)]
    finished = [[] for _ in range(n)]  # (normalised score, tokens)
    done = [False] * n
    tok = _int64([bos_id] * (n * k))
    for step in range(1, max_len + 1):
        logits, state = model.decode_step(tok, state)
        logp = log_softmax(logits.double(), -1)
        vocab = logp.shape[-1]
        total = logp + tensor(scores, dtype=logp.dtype).unsqueeze(1)
        best = topk(total.reshape(n, k * vocab), min(2 * k, k * vocab), -1)
        vals, idxs = best.values.tolist(), best.indices.tolist()
        origin, new_tok, new_scores, new_prefixes = [], [], [], []
        for b in range(n):
            kept = []
            if not done[b]:
                for v, i in zip(vals[b], idxs[b]):
                    if v == -math.inf or len(kept) == k:
                        break
                    beam, t = divmod(i, vocab)
                    seq = prefixes[b * k + beam]
                    if t == eos_id:
                        finished[b].append((v / step ** alpha, seq))
                    else:
                        kept.append((v, beam, t, seq + [t]))
            while len(kept) < k:  # a finished row keeps dead placeholder beams
                kept.append((-math.inf, 0, eos_id, []))
            for v, beam, t, seq in kept:
                origin.append(b * k + beam)
                new_tok.append(t)
                new_scores.append(v)
                new_prefixes.append(seq)
            if not done[b] and len(finished[b]) >= k:
                best_done = max(s for s, _ in finished[b])
                # Log-probabilities only fall, so a live prefix is at most
                # its score now, divided by the largest length it can reach.
                live = max(v for v, *_ in kept)
                bound = live / (max_len ** alpha if live < 0 else step ** alpha)
                done[b] = live == -math.inf or best_done >= bound
        scores, prefixes = new_scores, new_prefixes
        if all(done):
            break
        state = reorder_state(state, _int64(origin))
        tok = _int64(new_tok)
    for b in range(n):
        for j in range(k):
            v = scores[b * k + j]
            if v > -math.inf and not done[b]:
                finished[b].append((v / max_len ** alpha, prefixes[b * k + j]))
    results = [max(f, key=lambda x: x[0]) if f else (-math.inf, []) for f in finished]
    seqs = [r[1] for r in results]
    return (seqs, [r[0] for r in results]) if return_scores else seqs
