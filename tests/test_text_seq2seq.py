"""Sequence-to-sequence pieces: attention scores against their formulas in
PyTorch, teacher forcing equal to step-by-step decoding, padding invariance."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import text
from chainrule.errors import ArgumentError, ShapeError
from tests.oracle import assert_close

N, S, Q, K = 3, 5, 4, 6
MASK = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1], [0, 1, 1, 1, 1]], bool)


def _leaves(q_size, seed=0):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s) for s in ((N, q_size), (N, S, K), (N, S, K))]
    return ([cr.tensor(a, requires_grad=True) for a in arrs],
            [torch.tensor(a, requires_grad=True) for a in arrs])


def _torch_attend(scores, values, mask):
    w = torch.softmax(scores.masked_fill(torch.tensor(mask), -math.inf), -1)
    return (w.unsqueeze(1) @ values).squeeze(1), w


def _check(module, torch_scores, params, q_size=Q):
    (cq, ck, cv), (tq, tk, tv) = _leaves(q_size)
    ctx, w = module(cq, ck, cv, cr.tensor(MASK))
    tctx, tw = _torch_attend(torch_scores(tq, tk, *params), tv, MASK)
    assert_close(ctx, tctx, rtol=1e-10)
    assert_close(w, tw, rtol=1e-10, atol=1e-12)
    assert np.all(w.detach().numpy()[MASK] == 0)
    g = np.random.default_rng(1).standard_normal((N, K))
    (ctx * cr.tensor(g)).sum().backward()
    (tctx * torch.tensor(g)).sum().backward()
    for c, t in zip((cq, ck, cv), (tq, tk, tv)):
        assert_close(c.grad, t.grad, rtol=1e-9, atol=1e-12)
    for (_, p), tp in zip(module.named_parameters(), params):
        assert_close(p.grad, tp.grad, rtol=1e-9, atol=1e-12)


def _torch_params(module):
    return [torch.tensor(p.detach().numpy(), requires_grad=True)
            for p in module.parameters()]


def test_additive_attention_matches_formula():
    m = text.AdditiveAttention(Q, K, 7).double()
    params = _torch_params(m)  # w_q.weight, w_k.weight, w_k.bias, v.weight

    def scores(q, k, wq, wk, bk, v):
        return (torch.tanh(k @ wk.T + bk + (q @ wq.T).unsqueeze(1)) @ v.T).squeeze(-1)

    _check(m, scores, params)


@pytest.mark.parametrize("score", ["general", "dot", "scaled_dot"])
def test_multiplicative_attention_matches_formula(score):
    q_size = Q if score == "general" else K
    m = text.MultiplicativeAttention(q_size, K, score).double()
    params = _torch_params(m)
    if score == "general":
        _check(m, lambda q, k, w: (k @ w.T @ q.unsqueeze(2)).squeeze(-1), params)
    else:
        scale = 1 / math.sqrt(K) if score == "scaled_dot" else 1.0
        _check(m, lambda q, k: (k @ q.unsqueeze(2)).squeeze(-1) * scale, params, K)


def test_attention_errors():
    with pytest.raises(ArgumentError, match="needs query_size == key_size"):
        text.MultiplicativeAttention(3, 4, "dot")
    m = text.AdditiveAttention(3, 4, 5)
    with pytest.raises(ShapeError, match="expected query \\(N, Q\\)"):
        m(cr.zeros(2, 3), cr.zeros(3, 5, 4), cr.zeros(3, 5, 4))


SRC = [[5, 6, 7, 8, 9], [5, 7, 0, 0, 0], [9, 8, 6, 0, 0]]
TGT_IN = [[2, 4, 5, 6], [2, 7, 0, 0], [2, 4, 4, 8]]


def _models():
    cr.manual_seed(0)
    for attention in ("additive", "multiplicative"):
        for cell in ("gru", "lstm"):
            yield text.AttentionSeq2Seq(12, 10, 8, 6, attention, cell).double()
    yield text.TransformerSeq2Seq(12, 10, d_model=8, nhead=2, num_encoder_layers=1,
                                  num_decoder_layers=1, dim_feedforward=16).double()


@pytest.mark.parametrize("model", list(_models()),
                         ids=["additive-gru", "additive-lstm", "mult-gru", "mult-lstm",
                              "transformer"])
def test_teacher_forcing_equals_stepwise_decoding_and_ignores_padding(model):
    model.eval()
    src, tgt_in = cr.tensor(SRC), cr.tensor(TGT_IN)
    full = model(src, tgt_in)
    assert full.shape == (3, 4, 10)
    state = model.encode(src)
    steps = []
    for t in range(4):
        logits, state = model.decode_step(tgt_in[:, t], state)
        steps.append(logits)
    assert_close(cr.stack(steps, 1), full, rtol=1e-9, atol=1e-10)
    # More padding on the source changes nothing (packing and masks).
    wider = cr.cat([src, cr.zeros(3, 3, dtype=cr.int64)], 1)
    assert_close(model(wider, tgt_in)[:, :2], full[:, :2], rtol=1e-9, atol=1e-10)
    if isinstance(model, text.AttentionSeq2Seq):
        _, attn = model(src, tgt_in, return_attention=True)
        assert attn.shape == (3, 4, 5)
        assert_close(attn.sum(-1), np.ones((3, 4)), rtol=1e-12)
        a = attn.detach().numpy()
        assert np.all(a[1, :, 2:] == 0) and np.all(a[2, :, 3:] == 0)


def test_masked_loss_and_gradients_flow():
    cr.manual_seed(0)
    m = text.AttentionSeq2Seq(12, 10, 8, 6)
    tgt = cr.tensor([[2, 4, 5, 3], [2, 7, 3, 0], [2, 4, 3, 0]])
    loss = text.sequence_loss(m(cr.tensor(SRC), tgt[:, :-1]), tgt[:, 1:],
                              label_smoothing=0.1)
    loss.backward()
    assert all(p.grad is not None for p in m.parameters())
    with pytest.raises(ShapeError, match="src must be int64 ids"):
        m.encode(cr.zeros(2, 3))


def test_sinusoidal_positions():
    pe = text.sinusoidal_positions(7, 6).numpy()
    pos = np.arange(7)[:, None]
    rate = 10000.0 ** (-np.arange(0, 6, 2) / 6)
    want = np.zeros((7, 6))
    want[:, 0::2], want[:, 1::2] = np.sin(pos * rate), np.cos(pos * rate)
    np.testing.assert_allclose(pe, want, rtol=1e-5, atol=1e-6)


def test_transformer_embeddings_start_as_large_as_the_positions():
    # Scaled by sqrt(d_model), the token embeddings must not drown the
    # sinusoidal positions (rms 1/sqrt(2)); N(0, 1) rows would give rms 8 here.
    cr.manual_seed(0)
    m = text.TransformerSeq2Seq(200, 200, d_model=64, nhead=4)
    pe_rms = float(np.sqrt((m.pe.numpy() ** 2).mean()))
    for emb in (m.src_embed, m.tgt_embed):
        w = emb.weight.detach().numpy()
        assert np.all(w[0] == 0)  # the padding row
        rms = float(np.sqrt((w[1:] ** 2).mean())) * math.sqrt(64)
        assert 0.5 * pe_rms < rms < 3 * pe_rms
