"""The benchmark workloads, written once for both frameworks.

Each ``build_*`` takes a framework module ``m`` (``chainrule`` or ``torch``)
and returns a model; chainrule's API is PyTorch's, so the same code builds
both.  The chainrule model is then loaded with the PyTorch model's
``state_dict`` so both start from identical weights.

FLOP counts are the model's multiply-adds (x2) in the forward pass, tripled
for forward + backward: the usual convention for training throughput.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class Workload:
    name: str
    title: str
    build: object  # m -> model
    batch: object  # rng -> (x ndarray, y ndarray)
    loss: object  # (m, out, y) -> scalar loss
    flops: int  # per training step
    # (m, model, x, y) -> step fn, for workloads whose step is not the default
    # forward + backward + Adam (see ``word_lm_step``).
    make_step: object = None


def _mlp(m, sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(m.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(m.nn.ReLU())
    return m.nn.Sequential(*layers)


def _mlp_flops(sizes, batch):
    return 3 * sum(2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _ce(m, out, y):
    return m.nn.functional.cross_entropy(out, y)


def _ce_seq(m, out, y):
    return m.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def _classes(shape, n_in, n_classes, batch, dtype=np.float32):
    def make(rng):
        x = rng.standard_normal((batch,) + shape).astype(dtype)
        return x, rng.integers(0, n_classes, batch)

    return make


def _tokens(batch, seq, vocab):
    def make(rng):
        x = rng.integers(0, vocab, (batch, seq))
        return x, rng.integers(0, vocab, (batch, seq))

    return make


def build_cnn(m):
    nn = m.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def _cnn_flops(b):
    conv1 = 2 * b * 32 * 28 * 28 * 1 * 9
    conv2 = 2 * b * 64 * 14 * 14 * 32 * 9
    dense = 2 * b * (3136 * 128 + 128 * 10)
    return 3 * (conv1 + conv2 + dense)


def build_lstm_lm(m, vocab=65, emb=64, hidden=256):
    nn = m.nn

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, emb)
            self.lstm = nn.LSTM(emb, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, x):
            h, _ = self.lstm(self.embed(x))
            return self.head(h)

    return CharLSTM()


def _lstm_flops(b, t, vocab=65, emb=64, hidden=256):
    per_step = 2 * b * 4 * hidden * (emb + hidden)
    return 3 * (t * per_step + 2 * b * t * hidden * vocab)


def build_transformer_lm(m, vocab=65, d=128, heads=4, ff=512, layers=2, seq=64):
    nn = m.nn

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, d)
            self.pos = nn.Embedding(seq, d)
            layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, layers,
                                                enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab)
            mask = m.triu(m.full((seq, seq), float("-inf")), diagonal=1)
            self.register_buffer("mask", mask)
            self.register_buffer("positions", m.arange(seq))

        def forward(self, x):
            h = self.embed(x) + self.pos(self.positions[: x.shape[1]])
            h = self.blocks(h, mask=self.mask, is_causal=True)
            return self.head(self.norm(h))

    return TinyGPT()


def _transformer_flops(b, t, vocab=65, d=128, ff=512, layers=2):
    per_layer = 2 * b * t * (4 * d * d + 2 * d * ff) + 2 * 2 * b * t * t * d
    return 3 * (layers * per_layer + 2 * b * t * d * vocab)


def build_word_lm(m, vocab=10000, size=64, layers=2, dropout=0.2):
    """The word language model of ``tests/ports/word_lm.py`` (WikiText-2-like
    vocabulary): embedding, 2-layer LSTM with dropout, linear decoder."""
    nn = m.nn

    class WordLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(vocab, size)
            self.rnn = nn.LSTM(size, size, layers, dropout=dropout)
            self.decoder = nn.Linear(size, vocab)

        def forward(self, x, hidden):
            out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
            return self.decoder(self.drop(out)).view(-1, vocab), hidden

        def init_hidden(self, bsz):
            w = next(self.parameters())
            return (w.new_zeros(layers, bsz, size), w.new_zeros(layers, bsz, size))

    return WordLM()


def word_lm_step(m, model, x, y, lr=20.0, clip=0.25, compile=None):
    """One truncated-BPTT step as the classic word LM example writes it:
    detached hidden state carried over, log-softmax + NLL, gradient clipping,
    and SGD as ``p.data.add_(p.grad, alpha=-lr)``.

    ``compile`` (e.g. ``chainrule.jit``) wraps the step's body, which takes
    the carried hidden state as arguments and returns the new one (a
    compiled call replays array computations, not Python side effects)."""
    model.train()
    state = {"hidden": model.init_hidden(x.shape[1])}
    F = m.nn.functional

    def body(x, y, h, c):
        hidden = (h.detach(), c.detach())
        model.zero_grad()
        out, hidden = model(x, hidden)
        loss = F.nll_loss(F.log_softmax(out, dim=1), y.reshape(-1))
        loss.backward()
        m.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        return loss, hidden[0].detach(), hidden[1].detach()

    run = body if compile is None else compile(body)

    def step():
        loss, *state["hidden"] = run(x, y, *state["hidden"])
        return loss

    return step


def _word_lm_flops(bptt=35, b=20, vocab=10000, size=64, layers=2):
    lstm = layers * bptt * 2 * b * 4 * size * (2 * size)
    return 3 * (lstm + 2 * bptt * b * size * vocab)


def build_char_lm(m, vocab=107, size=256, dropout=0.1):
    """The LSTM of ``examples/char_lm.py``: chainrule builds that very class
    (``text.RNNLanguageModel``), torch a twin with the same parameter names
    (embedding, LSTM, dropout, head tied to the embedding)."""
    if m.__name__ == "chainrule":
        from chainrule import text

        return text.RNNLanguageModel(vocab, size, size, cell="lstm", dropout=dropout,
                                     tie_weights=True)
    nn = m.nn

    class RNNLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, size)
            self.rnn = nn.LSTM(size, size, batch_first=True)
            self.drop = nn.Dropout(dropout)
            self.head = nn.Linear(size, vocab)
            self.head.weight = self.embed.weight

        def forward(self, x):
            out, _ = self.rnn(self.drop(self.embed(x)))
            return self.head(self.drop(out))

    return RNNLanguageModel()


def _char_lm_flops(b=32, t=64, vocab=107, size=256):
    return _lstm_flops(b, t, vocab, size, size)


WORKLOADS = [
    Workload("W1", "MLP 784-512-512-10, batch 128",
             lambda m: _mlp(m, [784, 512, 512, 10]),
             _classes((784,), 784, 10, 128), _ce, _mlp_flops([784, 512, 512, 10], 128)),
    Workload("W2", "MLP 40-100-100-10, batch 100",
             lambda m: _mlp(m, [40, 100, 100, 10]),
             _classes((40,), 40, 10, 100), _ce, _mlp_flops([40, 100, 100, 10], 100)),
    Workload("W3", "CNN 1x28x28, 2 conv + 2 dense, batch 64", build_cnn,
             _classes((1, 28, 28), 784, 10, 64), _ce, _cnn_flops(64)),
    Workload("W4", "char LSTM 65-64-256, seq 64, batch 32", build_lstm_lm,
             _tokens(32, 64, 65), _ce_seq, _lstm_flops(32, 64)),
    Workload("W5", "causal transformer d128 x2, seq 64, batch 16",
             build_transformer_lm, _tokens(16, 64, 65), _ce_seq,
             _transformer_flops(16, 64)),
    Workload("W6", "word LM LSTM 10k-64x2, bptt 35, batch 20, SGD",
             build_word_lm, _tokens(35, 20, 10000), None, _word_lm_flops(),
             make_step=word_lm_step),
    Workload("W7", "char LM of examples/char_lm.py, LSTM 107-256 tied",
             build_char_lm, _tokens(32, 64, 107), _ce_seq, _char_lm_flops()),
]
