"""autobatch against the per-example loop and hand-padded code.

``python -m benchmarks.autobatch [--quick]``.  Two models written for one
example: a BiLSTM tagger over sentences of lengths 5-60 and a tree-LSTM over
random binary trees.  Each is timed for forward + backward of a batch of 64
examples as (a) the per-example loop, eager, (b) ``autobatch`` of the same
function, (c) ``autobatch(f, cache=True)`` in its steady state: traces
kept from earlier batches of the same distribution (so each timed batch is
new and only its examples' *structures* may have been seen; the share of
examples replayed is printed), and, for the tagger, (d) hand-padded batched
code (``pack_padded_sequence`` + ``nn.LSTM``).  Median of several runs.
"""
import statistics
import sys
import time

import numpy as np

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.func import autobatch
from chainrule.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

VOCAB, TAGS, EMB, HID = 100, 8, 32, 32


class Tagger(nn.Module):
    """BiLSTM tagger; ``loss(words, tags)`` for one sentence ``(L,)``."""

    def __init__(self, dtype=cr.float32):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, EMB, dtype=dtype)
        self.fwd = nn.LSTMCell(EMB, HID, dtype=dtype)
        self.bwd = nn.LSTMCell(EMB, HID, dtype=dtype)
        self.out = nn.Linear(2 * HID, TAGS, dtype=dtype)
        self.lstm = nn.LSTM(EMB, HID, bidirectional=True, dtype=dtype)

    def _run(self, cell, xs):
        h, hs = None, []
        for x in xs:
            h = cell(x, h)
            hs.append(h[0])
        return hs

    def loss(self, words, tags):
        e = self.emb(words)
        n = e.shape[0]
        xs = [e[t] for t in range(n)]
        hf = self._run(self.fwd, xs)
        hb = self._run(self.bwd, xs[::-1])[::-1]
        logits = cr.stack([self.out(cr.cat([a, b])) for a, b in zip(hf, hb)])
        return F.cross_entropy(logits, tags, reduction="sum")

    def padded_loss(self, sentences):
        """Sum of losses over ``[(words, tags)]`` with padding and nn.LSTM,
        whose weights are copied from the two cells."""
        for d, cell in (("", self.fwd), ("_reverse", self.bwd)):
            for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(self.lstm, f"{w}_l0{d}")._data = getattr(cell, w)._data
        lengths = [len(w) for w, _ in sentences]
        order = np.argsort(lengths)[::-1]
        words = nn.utils.rnn.pad_sequence([sentences[i][0] for i in order])
        tags = nn.utils.rnn.pad_sequence([sentences[i][1] for i in order],
                                         padding_value=-100)
        packed = pack_padded_sequence(self.emb(words), [lengths[i] for i in order])
        out, _ = pad_packed_sequence(self.lstm(packed)[0])
        logits = self.out(out)
        return F.cross_entropy(logits.reshape(-1, TAGS), tags.reshape(-1),
                               ignore_index=-100, reduction="sum")


class TreeLSTM(nn.Module):
    """Binary tree-LSTM; ``loss(tree, label)``, a tree a nested tuple of
    0-d int tensors (leaves) and pairs."""

    def __init__(self, dtype=cr.float32, classes=5):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, EMB, dtype=dtype)
        self.leaf = nn.Linear(EMB, 3 * HID, dtype=dtype)
        self.node = nn.Linear(2 * HID, 5 * HID, dtype=dtype)
        self.out = nn.Linear(HID, classes, dtype=dtype)

    def encode(self, tree):
        if not isinstance(tree, tuple):
            i, o, u = self.leaf(self.emb(tree)).split(HID)
            c = i.sigmoid() * u.tanh()
            return o.sigmoid() * c.tanh(), c
        (hl, cl), (hr, cr_) = self.encode(tree[0]), self.encode(tree[1])
        i, fl, fr, o, u = self.node(cr.cat([hl, hr])).split(HID)
        c = i.sigmoid() * u.tanh() + fl.sigmoid() * cl + fr.sigmoid() * cr_
        return o.sigmoid() * c.tanh(), c

    def loss(self, tree, label):
        h, _ = self.encode(tree)
        return F.cross_entropy(self.out(h)[None], label[None], reduction="sum")


def sentences(n, rng, lo=5, hi=60):
    out = []
    for _ in range(n):
        L = int(rng.integers(lo, hi + 1))
        out.append((cr.tensor(rng.integers(0, VOCAB, L)),
                    cr.tensor(rng.integers(0, TAGS, L))))
    return out


def random_tree(rng, leaves):
    if leaves == 1:
        return cr.tensor(int(rng.integers(0, VOCAB)))
    k = int(rng.integers(1, leaves))
    return (random_tree(rng, k), random_tree(rng, leaves - k))


def trees(n, rng, lo=5, hi=30):
    return [(random_tree(rng, int(rng.integers(lo, hi + 1))),
             cr.tensor(int(rng.integers(0, 5)))) for _ in range(n)]


def _time(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def _time_cached(loss, make_batch, repeats, warm=8):
    """Median ms of ``autobatch(loss, cache=True)`` on new batches, after
    ``warm`` batches filled its cache; and the share of examples replayed."""
    batched = autobatch(loss, cache=True)
    for _ in range(warm):
        sum(batched(make_batch())).backward()
    ts, replayed, seen = [], 0, 0
    for _ in range(repeats):
        data = make_batch()
        t = time.perf_counter()
        sum(batched(data)).backward()
        ts.append(time.perf_counter() - t)
        replayed += batched.stats.replayed
        seen += len(data)
    return statistics.median(ts) * 1e3, replayed / seen


def measure(batch=64, repeats=5, seed=0):
    """Rows ``(model, variant, ms)`` for forward + backward of one batch."""
    rng = np.random.default_rng(seed)
    cr.manual_seed(seed)
    rows = []
    tagger, data = Tagger(), sentences(batch, rng)
    batched = autobatch(tagger.loss)

    def loop():
        sum(tagger.loss(*ex) for ex in data).backward()

    rows.append(("tagger", "per-example loop", _time(loop, repeats)))
    rows.append(("tagger", "autobatch",
                 _time(lambda: sum(batched(data)).backward(), repeats)))
    ms, hit = _time_cached(tagger.loss, lambda: sentences(batch, rng), repeats)
    rows.append(("tagger", f"autobatch, cache=True ({hit:.0%} replayed)", ms))
    rows.append(("tagger", "hand-padded (nn.LSTM, packed)",
                 _time(lambda: tagger.padded_loss(data).backward(), repeats)))
    tree, tdata = TreeLSTM(), trees(batch, rng)
    tbatched = autobatch(tree.loss)
    rows.append(("tree-LSTM", "per-example loop",
                 _time(lambda: sum(tree.loss(*ex) for ex in tdata).backward(),
                       repeats)))
    rows.append(("tree-LSTM", "autobatch",
                 _time(lambda: sum(tbatched(tdata)).backward(), repeats)))
    ms, hit = _time_cached(tree.loss, lambda: trees(batch, rng), repeats)
    rows.append(("tree-LSTM", f"autobatch, cache=True ({hit:.0%} replayed)", ms))
    return rows


def report(rows, out=sys.stdout):
    """Print the rows with each model's speed-up over its loop."""
    base = {m: ms for m, v, ms in rows if v == "per-example loop"}
    print("autobatch, batch of 64, forward + backward (median ms):", file=out)
    for m, v, ms in rows:
        print(f"  {m:10} {v:40} {ms:9.1f} ms   {base[m] / ms:5.1f}x vs loop",
              file=out)


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    report(measure(repeats=2 if quick else 5))
