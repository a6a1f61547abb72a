"""A BiLSTM part-of-speech tagger written for one sentence, trained on
minibatches of sentences of different lengths with ``autobatch``.

The sentences come from a small rule-based grammar (determiners, adjectives,
nouns, verbs, adverbs, prepositions), with words that are a noun in one place
and a verb in another ("runs", "fish", "watch"), so the tagger must read the
context.  Target: tag accuracy >= 90% on held-out sentences.
``CHAINRULE_QUICK=1`` trains for fewer steps (same target).
"""
import os

import numpy as np

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.func import autobatch

QUICK = os.environ.get("CHAINRULE_QUICK") == "1"
TAGS = ["DET", "ADJ", "NOUN", "VERB", "ADV", "PREP"]
WORDS = {
    "DET": ["the", "a", "every"], "ADJ": ["big", "old", "red", "quiet"],
    "NOUN": ["dog", "cat", "fish", "watch", "runs", "park"],
    "VERB": ["sees", "fish", "watch", "runs", "likes"],
    "ADV": ["quickly", "often"], "PREP": ["in", "near"],
}
VOCAB = sorted({w for ws in WORDS.values() for w in ws})


def noun_phrase(rng):
    return ["DET"] + ["ADJ"] * int(rng.integers(0, 3)) + ["NOUN"]


def sentence(rng):
    """(word ids, tag ids) of one sentence of the grammar."""
    tags = noun_phrase(rng) + ["VERB"] + noun_phrase(rng)
    if rng.random() < 0.5:
        tags += ["PREP"] + noun_phrase(rng)
    if rng.random() < 0.3:
        tags += ["ADV"]
    words = [VOCAB.index(rng.choice(WORDS[t])) for t in tags]
    return cr.tensor(words), cr.tensor([TAGS.index(t) for t in tags])


class Tagger(nn.Module):
    def __init__(self, emb=16, hid=24):
        super().__init__()
        self.emb = nn.Embedding(len(VOCAB), emb)
        self.fwd = nn.LSTMCell(emb, hid)
        self.bwd = nn.LSTMCell(emb, hid)
        self.out = nn.Linear(2 * hid, len(TAGS))

    def logits(self, words):
        """Per-sentence code: ``(L,)`` word ids -> ``(L, tags)`` scores."""
        e = self.emb(words)
        xs = [e[t] for t in range(e.shape[0])]
        hf, h = [], None
        for x in xs:
            h = self.fwd(x, h)
            hf.append(h[0])
        hb, h = [], None
        for x in reversed(xs):
            h = self.bwd(x, h)
            hb.append(h[0])
        hb.reverse()
        return cr.stack([self.out(cr.cat([a, b])) for a, b in zip(hf, hb)])

    def loss(self, words, tags):
        return F.cross_entropy(self.logits(words), tags, reduction="sum")


def main():
    rng = np.random.default_rng(0)
    cr.manual_seed(0)
    train = [sentence(rng) for _ in range(400)]
    test = [sentence(rng) for _ in range(40 if QUICK else 100)]
    model = Tagger()
    opt = cr.optim.Adam(model.parameters(), lr=0.02)
    # sentences of one length share a trace: after the first few batches the
    # tagger's Python code no longer runs, its primitive calls are replayed
    batched_loss = autobatch(model.loss, cache=True)
    steps, batch = (25, 12) if QUICK else (150, 32)
    for step in range(steps):
        idx = rng.choice(len(train), batch, replace=False)
        examples = [train[i] for i in idx]
        n_tokens = sum(len(w) for w, _ in examples)
        loss = sum(batched_loss(examples)) / n_tokens
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            print(f"step {step:3d} loss per token {loss.item():.3f}")
    with cr.no_grad():
        scores = autobatch(model.logits)([(w,) for w, _ in test])
    right = sum(int((s.argmax(1) == t).sum().item()) for s, (_, t) in zip(scores, test))
    total = sum(len(t) for _, t in test)
    acc = 100 * right / total
    print(f"tag accuracy {acc:.1f}% (target 90%) on {total} held-out tokens; "
          f"last batch: {batched_loss.stats}")
    assert acc >= 90, acc


if __name__ == "__main__":
    main()
