"""Decoding: the KV cache and carried RNN state equal the full forward,
sampling follows the filtered softmax, beam search finds what exhaustive
search finds."""
import itertools
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn, text
from chainrule.errors import ArgumentError, ShapeError
from tests.oracle import assert_close


@pytest.mark.parametrize("norm_first", [True, False])
def test_kv_cache_matches_full_forward(norm_first):
    cr.manual_seed(0)
    m = text.TransformerLanguageModel(13, d_model=16, nhead=4, num_layers=2,
                                      max_len=32, dropout=0.1, norm_first=norm_first)
    m.eval()
    ids = cr.randint(0, 13, (3, 11))
    full = m(ids)
    pieces, state = [], None
    for a, b in ((0, 4), (4, 5), (5, 6), (6, 11)):  # a prompt, then chunks
        logits, state = m.step(ids[:, a:b], state)
        pieces.append(logits)
    assert state[0] == 11 and state[1][0][0].shape == (3, 4, 11, 4)
    assert_close(cr.cat(pieces, 1), full, rtol=1e-5, atol=1e-5)
    with pytest.raises(ShapeError, match="exceed max_len=32"):
        m.step(cr.zeros(1, 33, dtype=cr.int64))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_rnn_state_carries_across_steps(cell):
    cr.manual_seed(0)
    m = text.RNNLanguageModel(9, 6, 6, num_layers=2, cell=cell, tie_weights=True)
    ids = cr.randint(0, 9, (2, 7))
    l1, s = m.step(ids[:, :3])
    l2, _ = m.step(ids[:, 3:], s)
    assert_close(cr.cat([l1, l2], 1), m(ids), rtol=1e-5, atol=1e-6)
    assert m.head.weight is m.embed.weight
    with pytest.raises(ArgumentError, match="tie_weights needs embed_dim"):
        text.RNNLanguageModel(9, 4, 6, tie_weights=True)


class _FullOnly(nn.Module):
    """A model without ``step``: generate recomputes the whole prefix."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, ids):
        return self.inner(ids)


def test_greedy_generation_incremental_equals_recomputed():
    cr.manual_seed(1)
    m = text.TransformerLanguageModel(10, 16, 2, 1, max_len=40)
    prompt = [[1, 2, 3], [4, 5, 6]]
    fast = text.generate(m, prompt, 8, temperature=0)
    slow = text.generate(_FullOnly(m), prompt, 8, temperature=0)
    assert fast.tolist() == slow.tolist() and fast.shape == (2, 11)
    # Greedy: every new token is the arg-max of the full forward's last logits.
    ids = cr.tensor(prompt)
    for _ in range(8):
        ids = cr.cat([ids, m(ids)[:, -1].argmax(-1).unsqueeze(1)], 1)
    assert ids.tolist() == fast.tolist()
    assert m.training  # the mode is restored


def _torch_filter(logits, top_k, top_p):
    """Reference top-k / nucleus filtering written in torch."""
    x = logits.clone()
    if top_k is not None:
        kth = torch.topk(x, top_k).values[:, -1:]
        x[x < kth] = -math.inf
    if top_p is not None:
        vals, order = torch.sort(x, descending=True)
        p = torch.softmax(vals, -1)
        drop = (torch.cumsum(p, -1) - p) >= top_p
        x[torch.zeros_like(drop).scatter(1, order, drop)] = -math.inf
    return x


@pytest.mark.parametrize("top_k,top_p", [(3, None), (None, 0.6), (4, 0.5),
                                         (None, 1.0)])
def test_filter_logits_matches_reference(top_k, top_p):
    logits = np.random.default_rng(0).standard_normal((5, 9))
    got = text.filter_logits(cr.tensor(logits), top_k, top_p)
    assert_close(got, _torch_filter(torch.tensor(logits), top_k, top_p))


class _Fixed(nn.Module):
    """Always the same next-token logits."""

    def __init__(self, logits):
        super().__init__()
        self.logits = cr.tensor(logits)

    def forward(self, ids):
        return self.logits.expand(ids.shape[0], ids.shape[1], self.logits.shape[0])


def test_sampling_follows_the_filtered_distribution():
    logits = np.array([2.0, 1.0, 0.5, 0.0, -1.0, 0.3])
    m = _Fixed(logits)
    n = 4000
    prompt = [[0]] * n
    for temp, top_k, top_p in ((1.0, None, None), (0.7, 4, None), (1.3, None, 0.8)):
        ids = text.generate(m, prompt, 1, temperature=temp, top_k=top_k, top_p=top_p,
                            seed=5)
        counts = np.bincount(np.array(ids[:, 1].tolist()), minlength=6)
        ref = _torch_filter(torch.tensor(logits)[None] / temp, top_k, top_p)
        p = torch.softmax(ref, -1)[0].numpy()
        assert np.all(counts[p == 0] == 0)
        sd = np.sqrt(n * p * (1 - p))
        assert np.all(np.abs(counts - n * p) <= 4.5 * sd + 1e-9), (counts, n * p)
    a = text.generate(m, [[0]] * 20, 5, seed=3)
    assert a.tolist() == text.generate(m, [[0]] * 20, 5, seed=3).tolist()
    assert a.tolist() != text.generate(m, [[0]] * 20, 5, seed=4).tolist()
    only = text.generate(m, [[0]] * 20, 3, top_k=1, seed=0)  # top-1 is greedy
    assert set(only[:, 1:].reshape(-1).tolist()) == {0}


def test_eos_stops_rows():
    m = _Fixed(np.array([0.0, 5.0, 0.0]))  # greedy always picks 1
    ids = text.generate(m, [[2, 2]], 6, temperature=0, eos_id=1)
    assert ids.tolist() == [[2, 2, 1]]


def test_generate_errors():
    m = _Fixed(np.zeros(3))
    with pytest.raises(ShapeError, match="prompt must hold int token ids"):
        text.generate(m, cr.zeros(2, 2), 3)
    with pytest.raises(ArgumentError, match="top_k must be a positive int"):
        text.generate(m, [1], 3, top_k=0)
    with pytest.raises(ArgumentError, match="top_p must be in \\(0, 1\\]"):
        text.generate(m, [1], 3, top_p=1.5)
    with pytest.raises(ArgumentError, match="temperature must be >= 0"):
        text.generate(m, [1], 3, temperature=-1.0)


# -- beam search -----------------------------------------------------------------------
EOS, BOS, V = 0, 3, 4


class _Markov(nn.Module):
    """A seq2seq stand-in: next-token logits depend on the source class and
    the previous token through a fixed random table."""

    def __init__(self, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.table = rng.standard_normal((2, V, V)) * 1.5

    def encode(self, src):
        return {"src": src, "t": 0}

    def decode_step(self, tok, state):
        rows = [self.table[s, t] for s, t in zip(state["src"].tolist(), tok.tolist())]
        return cr.tensor(np.array(rows)), state

    def logp(self, src, seq):
        total, prev = 0.0, BOS
        for t in seq:
            row = self.table[src, prev]
            total += row[t] - np.log(np.exp(row).sum())
            prev = t
        return total


def _brute_force(model, src, max_len, alpha):
    best = (-math.inf, None)
    for n in range(0, max_len + 1):
        for body in itertools.product([1, 2, 3], repeat=n):
            seq = list(body) + ([EOS] if n < max_len else [])
            score = model.logp(src, seq) / len(seq) ** alpha
            best = max(best, (score, list(body)))
    return best


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_search_equals_exhaustive_search(alpha, seed):
    m = _Markov(seed)
    src = cr.tensor([0, 1])
    max_len = 4
    seqs, scores = text.beam_search(m, src, 3 ** max_len, max_len, BOS, EOS,
                                    length_penalty=alpha, return_scores=True)
    for b in range(2):
        want_score, want = _brute_force(m, b, max_len, alpha)
        assert seqs[b] == want
        assert scores[b] == pytest.approx(want_score, abs=1e-9)


def test_narrow_beam_is_no_worse_than_greedy():
    m = _Markov(3)
    src = cr.tensor([0, 1])
    greedy = text.greedy_search(m, src, 6, BOS, EOS)
    beam, scores = text.beam_search(m, src, 3, 6, BOS, EOS, length_penalty=0.0,
                                    return_scores=True)
    for b in range(2):
        g = greedy[b] + ([EOS] if len(greedy[b]) < 6 else [])
        assert scores[b] >= m.logp(b, g) - 1e-9
    with pytest.raises(ArgumentError, match="beam_size must be a positive int"):
        text.beam_search(m, src, 0, 6, BOS, EOS)
