"""chainrule.text: vocabularies, tokenizers, padding and masks, losses over
padded batches and text metrics (PyTorch and hand-computed values as oracles)."""
import math
from collections import Counter

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn, text
from chainrule.data import TensorDataset
from chainrule.errors import ArgumentError, ShapeError
from chainrule.train import Trainer
from tests.oracle import assert_close


# -- vocabulary and tokenizers ---------------------------------------------------------
def test_vocab_specials_order_and_unknowns():
    v = text.Vocab.build([["b", "a", "b"], ["c", "b", "a"], ["d"]], min_freq=2)
    assert v.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "b", "a"]
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (0, 1, 2, 3)
    assert v.encode(["a", "zzz"]) == [5, 1]
    assert v.decode([2, 4, 5, 3], skip_specials=True) == ["b", "a"]
    assert len(text.Vocab.build([["x", "y", "y"]], max_size=1)) == 5
    bare = text.Vocab(["x"], specials=())
    with pytest.raises(KeyError, match="no '<unk>' special"):
        bare["y"]
    with pytest.raises(ArgumentError, match="id 9 is outside the vocabulary"):
        v.decode([9])


def test_char_and_word_tokenizers():
    t = text.CharTokenizer("hello world")
    s = "low hello"
    assert t.decode(t.encode(s)) == s
    assert t.encode("he", add_bos=True, add_eos=True) == [
        2, t.vocab["h"], t.vocab["e"], 3]
    w = text.WordTokenizer(["The cat sat.", "the dog sat"], min_freq=2)
    assert w.tokenize("The cat, sat!") == ["the", "cat", ",", "sat", "!"]
    assert w.decode(w.encode("the cat sat")) == "the <unk> sat"
    with pytest.raises(ArgumentError, match="expected a str"):
        t.encode(3)


def test_bpe_learns_the_most_frequent_pairs():
    # Pre-tokens "ab", " ab", " ab", " cd": (a, b) occurs 3 times, then
    # (" ", "ab") twice; every other pair once, so training stops there.
    bpe = text.BPETokenizer("ab ab ab cd", vocab_size=100)
    assert bpe.merges == [("a", "b"), (" ", "ab")]
    assert bpe.tokenize("ab ab cd") == ["ab", " ab", " ", "c", "d"]
    # vocabulary: 4 specials, 5 characters, 1 merge
    small = text.BPETokenizer("ab ab ab cd", vocab_size=4 + 5 + 1)
    assert small.merges == [("a", "b")]
    with pytest.raises(ArgumentError, match="smaller than the 4 specials"):
        text.BPETokenizer("abcdef", vocab_size=5)


def test_bpe_round_trip_and_compression_on_real_text():
    corpus = text.python_docs(["if", "while", "for", "try"])
    bpe = text.BPETokenizer(corpus, vocab_size=300)
    sample = text.python_docs(["with"])[:2000]
    sample = "".join(c for c in sample if c in bpe.vocab)  # seen characters only
    ids = bpe.encode(sample)
    assert bpe.decode(ids) == sample
    assert len(ids) < 0.6 * len(sample)  # subwords are shorter than characters


# -- padding, masks and losses ---------------------------------------------------------
def test_pad_ids_and_masks():
    ids, lengths = text.pad_ids([[5, 6, 7], [8], [9, 9]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [9, 9, 0]]
    assert lengths.tolist() == [3, 1, 2]
    ids_t, _ = text.pad_ids([[5, 6, 7], [8]], max_len=2, batch_first=False)
    assert ids_t.tolist() == [[5, 8], [6, 0]]
    mask = text.padding_mask(lengths)
    expect = torch.arange(3)[None, :] >= torch.tensor([3, 1, 2])[:, None]
    assert mask.tolist() == expect.tolist()
    assert_close(text.causal_mask(4),
                 torch.nn.Transformer.generate_square_subsequent_mask(4))
    with pytest.raises(ShapeError, match="lengths must be 1-D"):
        text.padding_mask(cr.zeros(2, 2, dtype=cr.int64))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_sequence_loss_ignores_padding(smoothing):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 4, 6))
    tgt = np.array([[1, 2, 3, 0], [4, 0, 0, 0], [5, 5, 1, 2]])
    c = cr.tensor(logits, requires_grad=True)
    t = torch.tensor(logits, requires_grad=True)
    cl = text.sequence_loss(c, cr.tensor(tgt), pad_id=0, label_smoothing=smoothing)
    tl = torch.nn.functional.cross_entropy(
        t.reshape(-1, 6), torch.tensor(tgt).reshape(-1), ignore_index=0,
        label_smoothing=smoothing)
    assert_close(cl, tl, rtol=1e-10)
    cl.backward()
    tl.backward()
    assert_close(c.grad, t.grad, rtol=1e-9, atol=1e-12)
    with pytest.raises(ShapeError, match="expected logits \\(B, T, V\\)"):
        text.sequence_loss(c, cr.tensor(tgt[:, :2]))


# -- metrics ---------------------------------------------------------------------------
def test_perplexity_matches_exp_cross_entropy():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((8, 5, 7)).astype(np.float32)  # (N, C, L)
    tgt = rng.integers(0, 5, (8, 7))
    tgt[0, :3] = -100
    ref = math.exp(torch.nn.functional.cross_entropy(
        torch.tensor(logits), torch.tensor(tgt)).item())
    assert text.perplexity(cr.tensor(logits), cr.tensor(tgt)) == pytest.approx(ref,
                                                                               1e-5)
    last = cr.tensor(np.moveaxis(logits, 1, -1).copy())  # (N, L, C)
    assert text.perplexity(last, cr.tensor(tgt), class_dim=-1) == pytest.approx(
        ref, 1e-5)
    m = text.Perplexity()
    for s in (slice(0, 3), slice(3, 8)):  # exact over batches of unequal size
        m.update(cr.tensor(logits[s]), cr.tensor(tgt[s]))
    assert m.compute() == pytest.approx(ref, 1e-5)
    with pytest.raises(ShapeError, match="need targets of shape"):
        text.perplexity(cr.tensor(logits), cr.tensor(tgt[:, :2]))


def test_perplexity_as_trainer_metric():
    cr.manual_seed(0)
    x = cr.randn(64, 4)
    y = (x[:, 0] > 0).long()
    model = nn.Linear(4, 2)
    tr = Trainer(model, "sgd", "cross_entropy", metrics=[text.Perplexity()])
    hist = tr.fit(TensorDataset(x, y), epochs=2, batch_size=16, verbose=0,
                  validation_data=TensorDataset(x, y))
    ev = tr.evaluate(TensorDataset(x, y), batch_size=64)
    assert ev["perplexity"] == pytest.approx(math.exp(ev["loss"]), rel=1e-5)
    assert len(hist.history["val_perplexity"]) == 2


def _bleu_by_hand(hyp, ref):
    """Sentence BLEU-4 from its definition (no smoothing needed: all n-gram
    precisions are non-zero in the cases used)."""
    h, r = hyp.split(), ref.split()
    logp = 0.0
    for n in range(1, 5):
        hc = Counter(tuple(h[i:i + n]) for i in range(len(h) - n + 1))
        rc = Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
        logp += math.log(sum(min(c, rc[g]) for g, c in hc.items()) / sum(hc.values()))
    bp = min(1.0, math.exp(1 - len(r) / len(h)))
    return 100 * bp * math.exp(logp / 4)


def test_bleu_and_chrf():
    pytest.importorskip("sacrebleu")
    hyp = "the cat sat on the mat today"
    ref = "the cat sat on a mat today again"
    assert text.bleu([hyp], [ref]) == pytest.approx(_bleu_by_hand(hyp, ref), 1e-9)
    assert text.bleu([hyp], [[ref, hyp]]) == pytest.approx(100.0)
    assert text.chrf(["2024-01-05"], ["2024-01-05"]) == pytest.approx(100.0)
    assert 0 < text.chrf(["2024-01-06"], ["2024-01-05"]) < 100
    assert text.exact_match(["a", "b"], ["a", "c"]) == 0.5
    with pytest.raises(ArgumentError, match="got 2 hypotheses but 1 references"):
        text.bleu(["a", "b"], ["a"])


# -- corpora ---------------------------------------------------------------------------
def test_python_docs_is_offline_english():
    doc = text.python_docs()
    assert len(doc) > 200_000 and "statement" in doc
    with pytest.raises(ArgumentError, match="unknown topics"):
        text.python_docs(["no-such-topic"])


def test_load_wikitext_and_bptt(tmp_path):
    lines = {"train": " = Title = \n\n the cat sat on the <unk> . \n",
             "valid": " a b \n", "test": "\n c \n"}
    for split, body in lines.items():
        (tmp_path / f"wiki.{split}.tokens").write_text(body, encoding="utf-8")
    data = text.load_wikitext(str(tmp_path))
    assert data["train"] == ["=", "Title", "=", "<eos>", "the", "cat", "sat", "on",
                             "the", "<unk>", ".", "<eos>"]
    assert data["valid"] == ["a", "b", "<eos>"] and data["test"] == ["c", "<eos>"]
    (tmp_path / "wiki.test.tokens").unlink()
    with pytest.raises(FileNotFoundError, match="no wiki.test.tokens"):
        text.load_wikitext(str(tmp_path))
    cols = text.batchify(range(11), 2)  # 5 steps x 2 columns, last id dropped
    assert cols.tolist() == [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]]
    windows = list(text.bptt_batches(cols, 3))
    assert [(x.shape[0], y.tolist()[0]) for x, y in windows] == [(3, [1, 6]),
                                                                 (1, [4, 9])]
