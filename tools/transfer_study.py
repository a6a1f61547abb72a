"""The study behind docs/transfer.md: does a CNN pre-trained on digits 0-4
beat the same CNN trained from scratch on 10 examples per class of 5-9, when
both arms get the same tuning budget?  ``--data digits`` (the default): the
8x8 digits (the 846 images of 5-9 not drawn are the test set);
``--data mnist1d``: MNIST-1D, 10,000 signals generated with seed 0 as in
examples/transfer_mnist1d.py (its 1-D CNN, pre-trained 20 epochs on the
5,000 signals of 0-4, Adam 1e-3, batches of 64; the 4,950 signals of 5-9
not drawn are the test set).

Each arm's learning rate (1e-3, 3e-3, 1e-2) and number of epochs (30, 60,
100; Adam, batches of 10) are picked by 5-fold cross-validation inside the
50 labelled examples (2 per class held out per fold), then the arm is
retrained on all 50 and scored on the test set; draws 0..D-1.
``--lrs`` and ``--wd 0,1e-3`` set the grid's learning rates and Adam
weight decays.
``--fixed`` skips the tuning: every arm at lr 2e-3 (or ``--lr``), scores at
30, 60 and 100 epochs.  ``--aug`` (8x8 digits only) trains the target arms
on random shifts of -1..1 pixels (the source is pre-trained with them, 30
epochs, unless ``--plain-source``; ``--pre-epochs`` sets its length).

Arms: scratch; features (frozen body, new head); convfrozen (frozen conv
layers, fresh FC layers); convft (conv layers transferred, fresh FC layers,
all trained); finetune (every layer transferred, new head); discr (body 10x
slower than the head); lpft (head alone for 10 epochs, then discr).

Run: ``PYTHONPATH=. python tools/transfer_study.py --aug --arms
scratch,finetune --draws 10`` (6-15 minutes on one core, with load);
``PYTHONPATH=. python tools/transfer_study.py --data mnist1d --arms
scratch,features,finetune --draws 10`` (about 15 minutes).
"""
import argparse
import time

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.data.datasets import load_digits, load_mnist1d

D = {}   # the data of --data: XS, YS (source, 0-4), XT, YT (target, 5-9 as 0-4)


def load(data):
    if data == "digits":
        X, Y = load_digits(images=True)
        X = X / 16.0
    else:
        X, Y = load_mnist1d(10000, seed=0)
    X, Y = X.numpy().astype(np.float32), Y.numpy()
    old, new = Y < 5, Y >= 5
    D.update(XS=X[old], YS=Y[old], XT=X[new], YT=Y[new] - 5)


def small():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(),
        nn.Conv2d(16, 32, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 5))


def deep():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                                  # 4x4
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(),                    # 64*2*2 = 256
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 5))


def cnn1d():
    """examples/transfer_mnist1d.py's network, (N, 1, 40) -> (N, 5)."""
    return nn.Sequential(
        nn.Conv1d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Flatten(), nn.Linear(160, 64), nn.ReLU(),
        nn.Linear(64, 5))


ARCH = {"small": small, "deep": deep, "cnn1d": cnn1d}


def shift(xb, rng):
    """Random shifts of -1..1 pixels in each direction (zero padded)."""
    n = len(xb)
    p = np.pad(xb, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dy = rng.integers(0, 3, n)
    dx = rng.integers(0, 3, n)
    out = np.empty_like(xb)
    for i in range(n):
        out[i] = p[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8]
    return out


def accuracy(model, x, y):
    model.eval()
    with cr.no_grad():
        pred = model(cr.tensor(x)).argmax(1).numpy()
    model.train()
    return float((pred == y).mean())


def train(model, opt, x, y, epochs, seed, aug, bs=10, checkpoints=None,
          evalset=None, callback=None):
    """Mini-batch training; returns {epoch: accuracy on evalset} at checkpoints."""
    rng = np.random.default_rng(seed)
    model.train()
    out = {}
    for ep in range(1, epochs + 1):
        if callback:
            callback(ep - 1)
        perm = rng.permutation(len(x))
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            xb = shift(x[idx], rng) if aug else x[idx]
            loss = F.cross_entropy(model(cr.tensor(xb)), cr.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        if checkpoints and ep in checkpoints:
            out[ep] = accuracy(model, *evalset)
    return out


def source(arch, epochs, aug, seed=0, lr=1e-3, bs=32):
    cr.manual_seed(seed)
    m = ARCH[arch]()
    train(m, optim.Adam(m.parameters(), lr=lr), D["XS"], D["YS"], epochs, seed, aug,
          bs=bs)
    return {k: v.clone() for k, v in m.state_dict().items()}


def draw(d, shots=10):
    XT, YT = D["XT"], D["YT"]
    rng = np.random.default_rng(100 + d)
    picked = np.concatenate([rng.permutation(np.flatnonzero(YT == c))[:shots]
                             for c in range(5)])
    mask = np.ones(len(YT), bool)
    mask[picked] = False
    return (XT[picked], YT[picked]), (XT[mask], YT[mask])


def head_index(m):
    return len(m) - 1


def build(arm, arch, state, seed, lr, wd):
    """Model and optimizer for one arm."""
    cr.manual_seed(seed)
    m = ARCH[arch]()
    fresh = {k: v.clone() for k, v in m.state_dict().items()}
    if arm == "scratch":
        return m, optim.Adam(m.parameters(), lr=lr, weight_decay=wd), None
    m.load_state_dict(state)
    # a fresh head
    h = head_index(m)
    m[h].load_state_dict({k.split(".", 1)[1]: v for k, v in fresh.items()
                          if k.startswith(f"{h}.")})
    lin = [i for i, l in enumerate(m) if isinstance(l, (nn.Linear, nn.Conv1d,
                                                             nn.Conv2d))]
    convs = [i for i in lin if isinstance(m[i], (nn.Conv1d, nn.Conv2d))]
    if arm == "features":          # frozen body, new head
        for p in m[:h].parameters():
            p.requires_grad_(False)
        return m, optim.Adam(m[h].parameters(), lr=lr, weight_decay=wd), None
    if arm == "convfrozen":        # frozen conv layers, FC layers re-initialised
        for i in lin:
            if i not in convs:
                m[i].load_state_dict({k.split(".", 1)[1]: v for k, v in fresh.items()
                                      if k.startswith(f"{i}.")})
        for i in convs:
            for p in m[i].parameters():
                p.requires_grad_(False)
        params = [p for p in m.parameters() if p.requires_grad]
        return m, optim.Adam(params, lr=lr, weight_decay=wd), None
    if arm == "convft":            # conv layers transferred, FC fresh, all trained
        for i in lin:
            if i not in convs:
                m[i].load_state_dict({k.split(".", 1)[1]: v for k, v in fresh.items()
                                      if k.startswith(f"{i}.")})
        return m, optim.Adam(m.parameters(), lr=lr, weight_decay=wd), None
    if arm == "finetune":
        return m, optim.Adam(m.parameters(), lr=lr, weight_decay=wd), None
    if arm == "discr":             # body 10x slower than the head
        body = [p for i in lin[:-1] for p in m[i].parameters()]
        return m, optim.Adam([{"params": body, "lr": lr / 10},
                              {"params": m[h].parameters()}],
                             lr=lr, weight_decay=wd), None
    if arm == "lpft":              # linear probe then fine-tune (head first)
        body = [p for i in lin[:-1] for p in m[i].parameters()]

        def cb(ep, body=body):
            for p in body:
                p.requires_grad_(ep >= 10)
        return m, optim.Adam([{"params": body, "lr": lr / 10},
                              {"params": m[h].parameters()}],
                             lr=lr, weight_decay=wd), cb
    raise ValueError(arm)


def run(arm, arch, state, tr, te, seed, lr, wd, epochs, aug):
    m, opt, cb = build(arm, arch, state, seed, lr, wd)
    ck = epochs if isinstance(epochs, (list, tuple)) else [epochs]
    return train(m, opt, *tr, max(ck), seed, aug, checkpoints=set(ck), evalset=te,
                 callback=cb)


def cv_select(arm, arch, state, tr, seed, grid, epochs, aug, folds=5):
    """Pick (lr, wd, epochs) by k-fold CV within the 50 training examples."""
    x, y = tr
    # fold f holds out the f-th pair of each class (2 per class)
    order = np.argsort(y, kind="stable")
    pos = np.empty(len(y), int)
    for c in range(5):
        idx = order[y[order] == c]
        pos[idx] = np.arange(len(idx))
    scores = {}
    for lr, wd in grid:
        acc = dict.fromkeys(epochs, 0.0)
        for f in range(folds):
            val = (pos % folds) == f
            r = run(arm, arch, state, (x[~val], y[~val]), (x[val], y[val]),
                    seed * 100 + f, lr, wd, epochs, aug)
            for e in epochs:
                acc[e] += r[e] / folds
        for e in epochs:
            scores[(lr, wd, e)] = acc[e]
    best = max(scores, key=lambda k: (scores[k], -k[2]))
    return best, scores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="digits", choices=["digits", "mnist1d"])
    ap.add_argument("--arch", default=None, choices=sorted(ARCH),
                    help="default: small (digits), cnn1d (mnist1d)")
    ap.add_argument("--arms", default="scratch,finetune,convft")
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--aug", action="store_true")
    ap.add_argument("--fixed", action="store_true")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--pre-epochs", type=int, default=None,
                    help="default: 30 (digits), 20 (mnist1d)")
    ap.add_argument("--wd", default="0", help="weight decays in the grid")
    ap.add_argument("--lrs", default="1e-3,3e-3,1e-2",
                    help="learning rates in the grid")
    ap.add_argument("--plain-source", action="store_true",
                    help="pre-train without the shifts")
    a = ap.parse_args()
    arms = a.arms.split(",")
    if a.data == "mnist1d" and a.aug:
        ap.error("--aug shifts 8x8 images; MNIST-1D signals are translated already")
    a.arch = a.arch or ("small" if a.data == "digits" else "cnn1d")
    t0 = time.time()
    load(a.data)
    if a.data == "digits":
        state = source(a.arch, a.pre_epochs or 30, not a.plain_source)
    else:
        state = source(a.arch, a.pre_epochs or 20, False, bs=64)
    grid = [(float(lr), float(wd)) for lr in a.lrs.split(",") for wd in a.wd.split(",")]
    epochs = [30, 60, 100]
    res = {arm: {e: [] for e in epochs} for arm in arms}
    for d in range(a.draws):
        tr, te = draw(d)
        for arm in arms:
            if a.fixed:
                r = run(arm, a.arch, state, tr, te, d, a.lr, 0, epochs, a.aug)
                for e in epochs:
                    res[arm][e].append(r[e])
                continue
            (lr, wd, ep), sc = cv_select(arm, a.arch, state, tr, d, grid, epochs,
                                         a.aug)
            acc = run(arm, a.arch, state, tr, te, d, lr, wd, [ep], a.aug)[ep]
            res[arm][100].append(acc)
            print(f"draw {d} {arm:10s} picked lr={lr} wd={wd} epochs={ep} "
                  f"cv={100 * sc[(lr, wd, ep)]:.1f} test={100 * acc:.1f} "
                  f"[{time.time() - t0:.0f}s]", flush=True)
    for arm in arms:
        for e, v in res[arm].items():
            if v:
                v = 100 * np.array(v)
                tag = f"{e} epochs" if a.fixed else "tuned"
                print(f"{arm:10s} {tag:9s} {v.mean():.1f} +- {_sd(v):.1f}")
    if not a.fixed:
        base = np.array(res[arms[0]][100])
        for arm in arms[1:]:
            g = 100 * (np.array(res[arm][100]) - base)
            print(f"{arm} - {arms[0]}: {g.mean():.1f} +- {_sd(g):.1f} "
                  f"({', '.join(f'{x:.1f}' for x in g)})")


def _sd(v):
    """Sample standard deviation; 0 for a single draw (not NumPy's nan)."""
    return float(v.std(ddof=1)) if len(v) > 1 else 0.0


if __name__ == "__main__":
    main()
