"""Image captioning with visual attention ("Show, Attend and Tell") on digits.

Each image is 3 to 5 of scikit-learn's bundled 8x8 digits side by side
(padded to 40 pixels wide); its caption names them: "four one five".  A small
CNN turns the image into a 4 x 20 grid of feature vectors; an LSTM decoder
writes the caption word by word, and before each word attends softly over
the grid (additive attention, :class:`chainrule.text.AdditiveAttention`),
so it learns to look at the digit it is naming.  Training uses teacher
forcing and a loss that ignores padding; captions of held-out images (built
from digit images never used in training) are decoded greedily and scored
by exact match.  The attention map of every generated word is saved as a
figure (``attention_captions.png``).

    python examples/caption_digits.py

Target: >= 95% exact caption match on held-out images (full run); the short
mode (``CHAINRULE_QUICK=1``) expects >= 30%.
"""
import argparse
import os
import random
import time

import numpy as np

import chainrule as cr
from chainrule import nn, optim, text

QUICK = os.environ.get("CHAINRULE_QUICK") == "1"
NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
         "nine"]
WIDTH = 40  # 5 digits of 8 pixels


def compose(images, labels, n, rng):
    """``n`` strips of 3-5 random digits (from ``images``), and captions."""
    strips = np.zeros((n, 1, 8, WIDTH), np.float32)
    captions = []
    for i in range(n):
        k = rng.randint(3, 5)
        picks = [rng.randrange(len(images)) for _ in range(k)]
        for j, p in enumerate(picks):
            strips[i, 0, :, 8 * j:8 * j + 8] = images[p]
        captions.append(" ".join(NAMES[labels[p]] for p in picks))
    return cr.tensor(strips), captions


class Captioner(nn.Module):
    """CNN encoder -> annotation grid (N, 80, 64); attentive LSTM decoder."""

    def __init__(self, vocab_size, embed=32, hidden=128, feat=64):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, feat, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        # A learned vector per grid cell tells the decoder where a feature is,
        # so "the digit right of the last one" becomes learnable.
        self.pos = nn.Parameter(cr.randn(1, 4 * WIDTH // 2, feat) * 0.1)
        self.embed = nn.Embedding(vocab_size, embed)
        self.init_h = nn.Linear(feat, hidden)
        self.init_c = nn.Linear(feat, hidden)
        self.attn = text.AdditiveAttention(hidden, feat, 64)
        self.cell = nn.LSTMCell(embed + feat, hidden)
        self.out = nn.Linear(hidden + feat, vocab_size)

    def encode(self, images):
        f = self.cnn(images)  # (N, feat, 4, 20)
        grid = f.flatten(2).transpose(1, 2) + self.pos  # (N, 80, feat)
        mean = grid.mean(1)
        return {"grid": grid, "keys": self.attn.project_keys(grid),
                "h": self.init_h(mean).tanh(), "c": self.init_c(mean).tanh()}

    def decode_step(self, tokens, state):
        ctx, w = self.attn(state["h"], state["grid"], state["grid"], None,
                           state["keys"])
        h, c = self.cell(cr.cat([self.embed(tokens), ctx], -1), (state["h"],
                                                                  state["c"]))
        logits = self.out(cr.cat([h, ctx], -1))
        return logits, dict(state, h=h, c=c, attn=w)

    def forward(self, images, tgt_in):
        state = self.encode(images)
        out = []
        for t in range(tgt_in.shape[1]):
            logits, state = self.decode_step(tgt_in[:, t], state)
            out.append(logits)
        return cr.stack(out, 1)


def caption(model, images, tok):
    ids = text.greedy_search(model, images, 6, tok.vocab.bos_id, tok.vocab.eos_id)
    return [tok.decode(s) for s in ids]


def plot_attention(model, image, tok, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model.eval()
    with cr.no_grad():
        state = model.encode(image)
        token = cr.tensor([tok.vocab.bos_id])
        words, maps = [], []
        for _ in range(6):
            logits, state = model.decode_step(token, state)
            token = logits.argmax(-1)
            if token.item() == tok.vocab.eos_id:
                break
            words.append(tok.vocab.itos[token.item()])
            maps.append(state["attn"][0].numpy().reshape(4, WIDTH // 2))
    img = image[0, 0].numpy()
    fig, axes = plt.subplots(len(words) + 1, 1, figsize=(6, 1.3 * (len(words) + 1)))
    axes[0].imshow(img, cmap="gray_r")
    axes[0].set_title("input; then the attention before each word", fontsize=9)
    for ax, word, m in zip(axes[1:], words, maps):
        ax.imshow(img, cmap="gray_r")
        ax.imshow(m, cmap="inferno", alpha=0.6, extent=(-0.5, WIDTH - 0.5, 7.5, -0.5),
                  interpolation="bilinear")
        ax.set_ylabel(word, rotation=0, ha="right", va="center", fontsize=10)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    from sklearn.datasets import load_digits

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=60 if QUICK else 600)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", default="attention_captions.png")
    args = p.parse_args()
    cr.manual_seed(args.seed)
    rng = random.Random(args.seed)
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    order = list(range(len(images)))
    rng.shuffle(order)
    cut = int(0.8 * len(order))  # held-out strips use held-out digit images
    tr, te = order[:cut], order[cut:]
    train_x, train_caps = compose(images[tr], digits.target[tr], 6000, rng)
    test_x, test_caps = compose(images[te], digits.target[te], 200 if QUICK else 1000,
                                rng)
    tok = text.WordTokenizer(NAMES)
    tgt, _ = text.pad_ids([tok.encode(c, add_bos=True, add_eos=True)
                           for c in train_caps])
    model = Captioner(len(tok))
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.steps)
    t0 = time.perf_counter()
    model.train()
    for step in range(args.steps):
        idx = cr.tensor(rng.sample(range(len(train_caps)), 64))
        t = tgt[idx]
        t = t[:, : int((t != 0).sum(1).max().item())]
        loss = text.sequence_loss(model(train_x[idx], t[:, :-1]), t[:, 1:])
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % max(1, args.steps // 6) == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.4f}", flush=True)
    took = time.perf_counter() - t0
    hyps = caption(model, test_x, tok)
    em = text.exact_match(hyps, test_caps)
    for h, c in list(zip(hyps, test_caps))[:3]:
        print(f"  {h!r:34} (want {c!r})")
    print(f"trained in {took:.1f}s; held-out exact caption match {100 * em:.2f}% "
          f"(target {30 if QUICK else 95}%)")
    if args.plot:
        plot_attention(model, test_x[:1], tok, args.plot)
        print(f"attention maps saved to {args.plot}")
    assert em >= (0.3 if QUICK else 0.95), f"exact match {em:.4f} below target"


if __name__ == "__main__":
    main()
