"""Language models on the Python reference manual that ships with Python.

The corpus is ``pydoc_data.topics`` (about 460k characters of English
prose, grammar and code, read offline); the first 90% trains, the last 10%
validates.  Two models learn to predict the next token:

- an LSTM (tied input and output embeddings) trained by truncated
  backpropagation through time: the batch is the text cut into parallel
  streams, read in windows, with the hidden state carried from window to
  window (detached) and gradients clipped;
- a small decoder-only transformer (causal pre-LN blocks, tied head) trained
  on random windows.

Both are compared, on validation perplexity, with count-based unigram and
bigram models (add-one smoothing) on the same tokens, and then continue a
prompt with :func:`chainrule.text.generate` (the transformer with its
key/value cache, the LSTM with its carried state).

    python examples/char_lm.py                      # both models, characters
    python examples/char_lm.py --model lstm --level bpe   # BPE subwords
    python examples/char_lm.py --wikitext DIR       # words from WikiText files

Target (full run, characters): each model's validation perplexity at least
25% below the bigram's.  The short mode (``CHAINRULE_QUICK=1``) trains
briefly and expects each model to beat the unigram model.
"""
import argparse
import math
import os
import random
import time
from collections import Counter

import chainrule as cr
from chainrule import nn, optim, text

QUICK = os.environ.get("CHAINRULE_QUICK") == "1"
MARGIN = 0.25  # full run: perplexity at least this fraction below the bigram's


def load(level, wikitext):
    """(tokenizer or vocab, train ids, valid ids)."""
    if wikitext:
        data = text.load_wikitext(wikitext, ("train", "valid"))
        vocab = text.Vocab.build([data["train"]], specials=("<pad>", "<unk>"))
        return vocab, vocab.encode(data["train"]), vocab.encode(data["valid"])
    corpus = text.python_docs()
    if QUICK:
        corpus = corpus[:60_000]
    cut = int(0.9 * len(corpus))
    if level == "bpe":
        tok = text.BPETokenizer(corpus[:120_000], vocab_size=400)
    else:
        tok = text.CharTokenizer(corpus)
    return tok, tok.encode(corpus[:cut]), tok.encode(corpus[cut:])


def ngram_perplexities(train, valid, vocab_size):
    """Validation perplexity of add-one unigram and bigram models."""
    uni = Counter(train)
    n = len(train)
    nll_u = -sum(math.log((uni[t] + 1) / (n + vocab_size)) for t in valid)
    bi = Counter(zip(train, train[1:]))
    nll_b = -sum(math.log((bi[a, b] + 1) / (uni[a] + vocab_size))
                 for a, b in zip(valid, valid[1:]))
    return math.exp(nll_u / len(valid)), math.exp(nll_b / (len(valid) - 1))


def train_lstm(vocab_size, train_ids, steps, seed):
    cr.manual_seed(seed)
    model = text.RNNLanguageModel(vocab_size, 256, 256, cell="lstm", dropout=0.1,
                                  tie_weights=True)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    data = text.batchify(train_ids, 32)
    windows, state, step = None, None, 0
    model.train()
    while step < steps:
        if windows is None:
            windows, state = text.bptt_batches(data, 64), None
        try:
            x, y = next(windows)
        except StopIteration:
            windows = None
            continue
        if state is not None:  # truncate backpropagation at the window start
            state = tuple(s.detach() for s in state)
        logits, state = model.step(x.t(), state)
        loss = text.sequence_loss(logits, y.t(), pad_id=-100)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        sched.step()
        step += 1
        if step % max(1, steps // 5) == 0:
            print(f"  lstm step {step:4d}  loss {loss.item():.3f}", flush=True)
    return model


def train_transformer(vocab_size, train_ids, steps, seed, ctx):
    cr.manual_seed(seed)
    model = text.TransformerLanguageModel(vocab_size, d_model=128, nhead=4,
                                          num_layers=2, max_len=ctx, dropout=0.0)
    opt = optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    rng = random.Random(seed)
    stream = cr.tensor(train_ids)
    model.train()
    for step in range(1, steps + 1):
        starts = [rng.randrange(len(train_ids) - ctx - 1) for _ in range(32)]
        idx = cr.tensor([[s + i for i in range(ctx + 1)] for s in starts])
        chunk = stream[idx]
        loss = text.sequence_loss(model(chunk[:, :-1]), chunk[:, 1:], pad_id=-100)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % max(1, steps // 5) == 0:
            print(f"  transformer step {step:4d}  loss {loss.item():.3f}", flush=True)
    return model


def validation_perplexity(model, valid_ids, ctx):
    """Perplexity over the validation stream: the LSTM reads it as 8 streams
    with its state carried; the transformer reads windows of ``ctx``."""
    metric = text.Perplexity(class_dim=-1)
    model.eval()
    with cr.no_grad():
        if isinstance(model, text.RNNLanguageModel):
            data, state = text.batchify(valid_ids, 8), None
            for x, y in text.bptt_batches(data, 128):
                logits, state = model.step(x.t(), state)
                metric.update(logits, y.t())
        else:
            usable = (len(valid_ids) - 1) // ctx * ctx
            ids = cr.tensor(valid_ids[:usable + 1])
            x = ids[:-1].reshape(-1, ctx)
            y = ids[1:].reshape(-1, ctx)
            for i in range(0, x.shape[0], 64):
                metric.update(model(x[i:i + 64]), y[i:i + 64])
    return metric.compute()


def sample(model, tok, prompt, n, seed):
    ids = tok.encode(prompt) if hasattr(tok, "encode") and isinstance(prompt, str) \
        else prompt
    out = text.generate(model, ids, n, temperature=0.8, top_k=20, seed=seed)[0]
    if isinstance(tok, text.Vocab):
        return " ".join(tok.decode(out.tolist()))
    return tok.decode(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=["lstm", "transformer", "both"], default="both")
    p.add_argument("--level", choices=["char", "bpe"], default="char")
    p.add_argument("--wikitext", default=None, help="a directory of wiki.*.tokens")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    tok, train_ids, valid_ids = load(args.level, args.wikitext)
    v = len(tok)
    uni, bi = ngram_perplexities(train_ids, valid_ids, v)
    level = "word" if args.wikitext else args.level
    print(f"{level} level: vocabulary {v}, {len(train_ids)} training and "
          f"{len(valid_ids)} validation tokens")
    print(f"unigram perplexity {uni:.2f}, bigram perplexity {bi:.2f}")
    ctx = 64  # context of the transformer (and its validation windows)
    models = ["lstm", "transformer"] if args.model == "both" else [args.model]
    ok = True
    for name in models:
        steps = args.steps or (40 if QUICK else (250 if name == "lstm" else 300))
        t0, c0 = time.perf_counter(), time.process_time()
        if name == "lstm":
            model = train_lstm(v, train_ids, steps, args.seed)
        else:
            model = train_transformer(v, train_ids, steps, args.seed, ctx)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        ppl = validation_perplexity(model, valid_ids, ctx)
        target = uni if QUICK else (1 - MARGIN) * bi
        print(f"{name}: trained {steps} steps in {took:.1f}s ({cpu:.1f}s of CPU); "
              f"validation perplexity "
              f"{ppl:.2f} (target < {target:.2f}: "
              f"{'below unigram' if QUICK else f'{MARGIN:.0%} below bigram'})")
        prompt = "The " if not args.wikitext else [train_ids[0]]
        # The transformer sees at most ctx positions, prompt included.
        length = ctx - len(prompt) if name != "lstm" else 200
        print(f"  sample: {sample(model, tok, prompt, length, args.seed)!r}")
        ok &= ppl < target
    assert ok, "a model missed its perplexity target"


if __name__ == "__main__":
    main()
