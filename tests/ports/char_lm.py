"""Character language models, written as a plain PyTorch program.

The two models of ``examples/char_lm.py`` on the same corpus (the text of
Python's documentation topics, ``pydoc_data``, split 90/10): an LSTM with a
tied embedding trained by truncated back-propagation through time (hidden
state carried and detached, gradients clipped, Adam with a one-cycle
schedule), and a decoder-only pre-LN transformer with learned positions and a
tied head trained on random windows (AdamW, one-cycle).  The short mode uses
a slice of the corpus, smaller models and fewer steps.

Prints the validation perplexity of each as ``RESULT {"lstm_ppl": ...,
"transformer_ppl": ...}``.
"""
import argparse
import json
import math
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"lstm_ppl": 0.10, "transformer_ppl": 0.10}
SEEDS = [0, 1, 2]


def corpus(short):
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[k].strip() for k in sorted(topics)) + "\n"
    if short:
        text = text[:60_000]
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = [index[c] for c in text]
    cut = int(0.9 * len(ids))
    return len(chars), ids[:cut], ids[cut:]


class LSTMLM(nn.Module):
    def __init__(self, vocab, size):
        super().__init__()
        self.embed = nn.Embedding(vocab, size)
        self.rnn = nn.LSTM(size, size)
        self.head = nn.Linear(size, vocab)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        self.head.weight = self.embed.weight

    def forward(self, x, state=None):
        out, state = self.rnn(self.embed(x), state)
        return self.head(out), state


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d, heads, 4 * d, 0.0, activation="gelu",
                                                batch_first=True, norm_first=True)

    def forward(self, x, mask):
        return self.layer(x, src_mask=mask, is_causal=True)


class TransformerLM(nn.Module):
    def __init__(self, vocab, d, heads, layers, ctx):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight
        nn.init.normal_(self.tok.weight, 0.0, 0.02)
        nn.init.normal_(self.pos.weight, 0.0, 0.02)

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        h = self.tok(x) + self.pos(torch.arange(t)).unsqueeze(0)
        for block in self.blocks:
            h = block(h, mask)
        return self.head(self.norm(h))


def batchify(ids, b):
    n = len(ids) // b
    return torch.tensor(ids[:n * b]).view(b, n).t().contiguous()


def train_lstm(vocab, train, valid, size, steps):
    model = LSTMLM(vocab, size)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    data, bptt, step = batchify(train, 32), 64, 0
    while step < steps:
        state = None
        for i in range(0, data.size(0) - 1, bptt):
            n = min(bptt, data.size(0) - 1 - i)
            x, y = data[i:i + n], data[i + 1:i + 1 + n]
            if state is not None:
                state = tuple(s.detach() for s in state)
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            sched.step()
            step += 1
            if step == steps:
                break
    model.eval()
    total, count, state = 0.0, 0, None
    data = batchify(valid, 8)
    with torch.no_grad():
        for i in range(0, data.size(0) - 1, 128):
            n = min(128, data.size(0) - 1 - i)
            logits, state = model(data[i:i + n], state)
            y = data[i + 1:i + 1 + n]
            total += F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1),
                                     reduction="sum").item()
            count += y.numel()
    return math.exp(total / count)


def train_transformer(vocab, train, valid, d, layers, ctx, steps, seed):
    model = TransformerLM(vocab, d, 4, layers, ctx)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    rng = random.Random(seed)
    stream = torch.tensor(train)
    for _ in range(steps):
        starts = [rng.randrange(len(train) - ctx - 1) for _ in range(32)]
        idx = torch.tensor([[s + i for i in range(ctx + 1)] for s in starts])
        chunk = stream[idx]
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab), chunk[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    model.eval()
    usable = (len(valid) - 1) // ctx * ctx
    ids = torch.tensor(valid[:usable + 1])
    x, y = ids[:-1].view(-1, ctx), ids[1:].view(-1, ctx)
    total = 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], 64):
            logits = model(x[i:i + 64])
            total += F.cross_entropy(logits.reshape(-1, vocab),
                                     y[i:i + 64].reshape(-1), reduction="sum").item()
    return math.exp(total / y.numel())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--short", action="store_true")
    args = parser.parse_args()
    vocab, train, valid = corpus(args.short)
    torch.manual_seed(args.seed)
    if args.short:
        lstm = train_lstm(vocab, train, valid, 128, 120)
        torch.manual_seed(args.seed)
        tr = train_transformer(vocab, train, valid, 64, 1, 32, 120, args.seed)
    else:
        lstm = train_lstm(vocab, train, valid, 256, 250)
        torch.manual_seed(args.seed)
        tr = train_transformer(vocab, train, valid, 128, 2, 64, 300, args.seed)
    print("RESULT " + json.dumps({"lstm_ppl": lstm, "transformer_ppl": tr}))


if __name__ == "__main__":
    main()
