"""A word-level LSTM language model, written as a plain PyTorch program.

Two LSTM layers (embedding and hidden size 64) with dropout 0.2 on the
embeddings, between the layers and on the output; truncated back-propagation
through time over 35 steps with the hidden state detached between batches;
gradients clipped to norm 0.25 and plain SGD with lr 20 written as a manual
``p.data.add_`` update.  The corpus is the English text of Python's own
documentation topics (``pydoc_data``), so nothing is downloaded.

Prints the test perplexity as ``RESULT {"test_ppl": ...}``.
"""
import argparse
import collections
import json
import math
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"test_ppl": 0.10, "valid_ppl": 0.10}
SEEDS = [0, 1, 2]


def tokenize(short):
    import pydoc_data.topics as topics

    lines = []
    for key in sorted(topics.topics):
        for line in topics.topics[key].lower().splitlines():
            words = re.findall(r"[a-z]+|[0-9]+|[^\sa-z0-9]", line)
            if words:
                lines.append(words + ["<eos>"])
    if short:
        lines = lines[::3]
    counts = collections.Counter(w for line in lines for w in line)
    # Rare words become <unk>, as in WikiText.
    vocab = ["<unk>"] + sorted(w for w, n in counts.items() if n >= 3)
    index = {w: i for i, w in enumerate(vocab)}
    ids = [index.get(w, 0) for line in lines for w in line]
    n = len(ids)
    splits = ids[:int(0.8 * n)], ids[int(0.8 * n):int(0.9 * n)], ids[int(0.9 * n):]
    return len(vocab), [torch.tensor(s, dtype=torch.long) for s in splits]


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].reshape(-1)
    return data, target


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers, dropout):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nlayers, self.nhid = nlayers, nhid
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid))


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def evaluate(model, source, bptt, bsz):
    model.eval()
    total, count = 0.0, 0
    hidden = model.init_hidden(bsz)
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, bptt):
            data, targets = get_batch(source, i, bptt)
            output, hidden = model(data, hidden)
            total += len(data) * F.nll_loss(output, targets).item()
            count += len(data)
            hidden = repackage_hidden(hidden)
    return math.exp(total / count)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--batches", type=int, default=None)
    # For diagnosis: no dropout, and weights from a fixed formula, so that both
    # frameworks follow one trajectory and every step can be compared.
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--same-init", action="store_true")
    parser.add_argument("--log", type=int, default=0, help="print every N batches")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    bptt, bsz, lr, clip = 35, 20, 20.0, 0.25
    ntokens, (train, valid, test) = tokenize(args.short)
    train_data = batchify(train, bsz)
    val_data, test_data = batchify(valid, 10), batchify(test, 10)
    model = RNNModel(ntokens, 64, 64, 2, args.dropout)
    if args.same_init:
        with torch.no_grad():
            for k, p in enumerate(model.parameters()):
                ramp = torch.arange(p.numel(), dtype=torch.float32)
                p.copy_((0.1 * torch.sin(ramp * 0.37 + k)).view_as(p))
    criterion = nn.NLLLoss()
    limit = args.batches or (40 if args.short else 150)
    done = 0
    while done < limit:
        model.train()
        hidden = model.init_hidden(bsz)
        for i in range(0, train_data.size(0) - 1, bptt):
            data, targets = get_batch(train_data, i, bptt)
            hidden = repackage_hidden(hidden)
            model.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            done += 1
            if args.log and done % args.log == 0:
                print("batch {:4d}  loss {:.6f}".format(done, loss))
            if done == limit:
                break
    result = {"valid_ppl": evaluate(model, val_data, bptt, 10),
              "test_ppl": evaluate(model, test_data, bptt, 10)}
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
