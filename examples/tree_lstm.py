"""A tree-LSTM written for one tree, trained with ``autobatch`` to evaluate
arithmetic expressions: trees of digits joined by ``+`` and ``-`` (mod 5),
of random shapes.  Each example is one tree; the network reads it bottom up
and classifies the root's value (0-4).

Operators are leaves too: an inner node is ``(left, op, right)``, so the
network learns to combine its children according to the operator.
Target: accuracy >= 60% on held-out trees of 2-4 digits (chance is 20%).
``CHAINRULE_QUICK=1`` trains for fewer steps with a lower target (40%).
"""
import os

import numpy as np

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.func import autobatch

QUICK = os.environ.get("CHAINRULE_QUICK") == "1"
MOD, PLUS, MINUS = 5, 5, 6  # token ids: digits 0-4, then the two operators


def expression(rng, digits):
    """(tree, value): a tree is a 0-d token tensor or (left, op, right)."""
    if digits == 1:
        v = int(rng.integers(0, MOD))
        return cr.tensor(v), v
    k = int(rng.integers(1, digits))
    (left, a), (right, b) = expression(rng, k), expression(rng, digits - k)
    plus = rng.random() < 0.5
    op = cr.tensor(PLUS if plus else MINUS)
    return (left, op, right), (a + b if plus else a - b) % MOD


class TreeLSTM(nn.Module):
    def __init__(self, hid=48):
        super().__init__()
        self.hid = hid
        self.emb = nn.Embedding(7, hid)
        self.leaf = nn.Linear(hid, 3 * hid)
        self.node = nn.Linear(3 * hid, 5 * hid)
        self.out = nn.Linear(hid, MOD)

    def encode(self, tree):
        """Per-tree code: ``(h, c)`` of the root, each ``(hid,)``."""
        if not isinstance(tree, tuple):
            i, o, u = self.leaf(self.emb(tree)).split(self.hid)
            c = i.sigmoid() * u.tanh()
            return o.sigmoid() * c.tanh(), c
        (hl, cl), (hr, cr_) = self.encode(tree[0]), self.encode(tree[2])
        op = self.emb(tree[1])
        i, fl, fr, o, u = self.node(cr.cat([hl, op, hr])).split(self.hid)
        c = i.sigmoid() * u.tanh() + fl.sigmoid() * cl + fr.sigmoid() * cr_
        return o.sigmoid() * c.tanh(), c

    def logits(self, tree):
        return self.out(self.encode(tree)[0])

    def loss(self, tree, value):
        return F.cross_entropy(self.logits(tree)[None], value[None])


def main():
    rng = np.random.default_rng(0)
    cr.manual_seed(0)

    def data(n):
        out = []
        for _ in range(n):
            tree, v = expression(rng, int(rng.integers(1, 5)))
            out.append((tree, cr.tensor(v)))
        return out

    train, test = data(2000), data(200)
    model = TreeLSTM()
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    # the training set is 2000 fixed trees, met again and again: from its
    # second time on, a tree replays its trace instead of running encode()
    batched_loss = autobatch(model.loss, cache=True)
    steps, target = (60, 40) if QUICK else (600, 60)
    for step in range(steps):
        idx = rng.choice(len(train), 32, replace=False)
        loss = sum(batched_loss([train[i] for i in idx])) / 32
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 20 == 0:
            print(f"step {step:3d} loss {loss.item():.3f}")
    with cr.no_grad():
        scores = autobatch(model.logits)([(t,) for t, _ in test])
    acc = 100 * np.mean([int(s.argmax().item()) == int(v.item())
                         for s, (_, v) in zip(scores, test)])
    print(f"accuracy {acc:.1f}% (target {target}%) on {len(test)} held-out trees; "
          f"last batch: {batched_loss.stats}")
    assert acc >= target, acc


if __name__ == "__main__":
    main()
